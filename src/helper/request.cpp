// One request of the parser protocol: the operations on a document, turned into a response the
// backend can raise as an ERROR, and the test hook that makes the parser misbehave on purpose.
#include "request.h"

#include <malloc.h>

#include <fcntl.h>
#include <iconv.h>
#include <libxml/parser.h>
#include <linux/futex.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>

#include "../core/document_error.h"
#include "../core/document_text.h"
#include "../core/docx_text.h"
#include "../core/pdf_text.h"
#include "../core/resume_parser.h"
#include "colour_management.h"

namespace rp::helper {
namespace {

bool write_full(int fd, const void *buf, size_t len) {
    auto *p = static_cast<const char *>(buf);
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        len -= static_cast<size_t>(w);
    }
    return true;
}

uint32_t status_of(rp::ErrorKind kind) {
    switch (kind) {
        case rp::ErrorKind::Empty:
            return RP_STATUS_EMPTY;
        case rp::ErrorKind::Corrupt:
            return RP_STATUS_CORRUPT;
        case rp::ErrorKind::Encrypted:
            return RP_STATUS_ENCRYPTED;
        case rp::ErrorKind::Unsupported:
            return RP_STATUS_UNSUPPORTED;
        case rp::ErrorKind::Limit:
            return RP_STATUS_LIMIT;
        case rp::ErrorKind::UnsafeName:
            return RP_STATUS_UNSAFE_NAME;
        case rp::ErrorKind::BadEncoding:
            return RP_STATUS_BAD_ENCODING;
    }
    return RP_STATUS_INTERNAL;
}

// Tries what a compromised parser would: read a file no document needs, then create one. The
// first is refused by Landlock where the kernel has it (reported on stderr, which the zygote
// puts into the error detail); the second is a system call the filter forbids, so the process
// dies of SIGSYS before the kernel looks at the path.
[[noreturn]] void break_out() {
    int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        std::fprintf(stderr, "sandbox probe: could read /etc/passwd\n");
    else
        std::fprintf(stderr, "sandbox probe: reading /etc/passwd refused (%s)\n", std::strerror(errno));
    open("/tmp/resume_pipeline_sandbox_probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    std::fprintf(stderr, "sandbox probe: opening a file for writing was not stopped\n");
    _exit(71);
}

[[noreturn]] void misbehave(uint32_t mode) {
    switch (mode) {
        case RP_DEBUG_SEGV: {
            volatile int *volatile p = nullptr;
            *p = 1;
            break;
        }
        case RP_DEBUG_LOOP: {
            volatile unsigned long n = 0;
            for (;;) n = n + 1;
        }
        case RP_DEBUG_MEMORY: {
            std::vector<std::vector<char>> hog;
            for (;;) hog.emplace_back(size_t(64) << 20, 'x');  // throws bad_alloc at RLIMIT_AS
        }
        case RP_DEBUG_HANG: {
            // A futex wait nobody wakes: sleeping without a system call the sandbox forbids.
            static uint32_t never = 0;
            for (;;) syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
        }
        case RP_DEBUG_SYSCALL:
            break_out();
        default:
            break;
    }
    abort();
}

Response handle(const rp_request_header &h, const std::string &data) {
    rp::Limits limits;
    limits.max_file_size = h.max_file_size;
    limits.zip_max_entries = h.zip_max_entries;
    limits.zip_max_total_size = h.zip_max_total_size;
    limits.zip_max_ratio = h.zip_max_ratio ? h.zip_max_ratio : 1;
    limits.ocr = h.ocr != 0;
    limits.ocr_dpi = h.ocr_dpi ? h.ocr_dpi : 1;
    limits.ocr_max_pages = h.ocr_max_pages;
    limits.ocr_max_pixels = h.ocr_max_pixels;
    rp::OcrReport ocr;
    limits.ocr_report = &ocr;
    Response r;
    const char *p = data.data();
    const size_t n = data.size();
    switch (h.op) {
        case RP_OP_PDF_TEXT:
            r.payload = rp::pdf_text(p, n, limits);
            break;
        case RP_OP_PDF_INFO:
            r.payload = rp::pdf_info_json(p, n, limits);
            break;
        case RP_OP_DOCX_TEXT:
            r.payload = rp::docx_text(p, n, limits);
            break;
        case RP_OP_DOCUMENT_KIND:
            r.payload = rp::document_kind(p, n, limits);
            break;
        case RP_OP_EXTRACT_AND_PARSE: {
            std::string text = rp::document_text(p, n, limits);
            r.payload = text;
            r.payload += '\0';
            r.payload += rp::parse_resume_json(text);
            break;
        }
        case RP_OP_PARSE_RESUME:
            r.payload = rp::parse_resume_json(std::string_view(p, n));
            break;
        case RP_OP_DOCUMENT_TEXT:
            r.payload = rp::document_text(p, n, limits);
            break;
        case RP_OP_ZIP_ENTRIES: {
            rp::ZipArchive archive(p, n, limits);
            r.entries = archive.regular_files();
            break;
        }
        case RP_OP_DEBUG_MISBEHAVE:
            misbehave(h.arg);
        default:
            r.status = RP_STATUS_INTERNAL;
            r.message = "parser helper does not know operation " + std::to_string(h.op);
    }
    if (ocr.any()) r.flags |= RP_RESPONSE_OCR;
    return r;
}

// A one-page PDF with a correct cross-reference table and one word in a font it does not embed,
// so rendering it looks the font up through fontconfig (see warm_up_libraries).
std::string tiny_pdf() {
    const std::string text = "BT /F1 12 Tf 8 30 Td (warm) Tj ET";
    const std::string objects[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Resources << /Font << /F1 5 0 R >> >> "
        "/Contents 4 0 R >>",
        "<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text + "\nendstream",
        "<< /Type /Font /Subtype /TrueType /BaseFont /WarmUpSans >>",
    };
    std::string pdf = "%PDF-1.4\n";
    std::vector<size_t> offsets;
    for (const std::string &object : objects) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(offsets.size()) + " 0 obj\n" + object + "\nendobj\n";
    }
    const size_t xref = pdf.size();
    pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
    for (size_t off : offsets) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
        pdf += line;
    }
    pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";
    return pdf;
}

constexpr const char kSampleResume[] =
    "Ada Example\n"
    "Backend Engineer · Portland, Oregon\n"
    "ada@example.com · +1 503 555 0142 · github.com/ada · https://www.linkedin.com/in/ada\n\n"
    "SUMMARY\nEngineer with eight years of experience in Go and PostgreSQL.\n\n"
    "EXPERIENCE\nSenior Engineer, Lumen Inc. — March 2021 to present\nBuilt a tracking service.\n"
    "Engineer, Harbor Payments — 06/2017 – 02/2021\nLed a migration.\n\n"
    "EDUCATION\nOregon State University — B.S. Computer Science, 2013 - 2017\n\n"
    "SKILLS\nGo, Rust, PostgreSQL, Kafka\n\nLANGUAGES\nEnglish, Spanish\n";

}  // namespace

Response failure(uint32_t status, std::string message, std::string detail, std::string hint) {
    Response r;
    r.status = status;
    r.message = std::move(message);
    r.detail = std::move(detail);
    r.hint = std::move(hint);
    return r;
}

Response out_of_memory(const rp_request_header &h) {
    return failure(RP_STATUS_LIMIT,
                   "document parser ran out of memory (resume_pipeline.parser_memory_limit is " +
                       std::to_string(h.memory_limit >> 20) + " MB)",
                   "Raise resume_pipeline.parser_memory_limit if such documents are expected.");
}

Response run_request(const rp_request_header &h, const std::string &data) {
    try {
        return handle(h, data);
    } catch (const rp::DocumentError &e) {
        return failure(status_of(e.kind()), e.what(), e.detail());
    } catch (const std::bad_alloc &) {
        return out_of_memory(h);
    } catch (const std::exception &e) {
        return failure(RP_STATUS_INTERNAL, std::string("document parser failed: ") + e.what());
    } catch (...) {
        return failure(RP_STATUS_INTERNAL, "document parser failed with an unknown exception");
    }
}

bool read_full(int fd, void *buf, size_t len) {
    auto *p = static_cast<char *>(buf);
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        len -= static_cast<size_t>(r);
    }
    return true;
}

bool discard(int fd, uint64_t len) {
    char buf[65536];
    while (len > 0) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        if (!read_full(fd, buf, n)) return false;
        len -= n;
    }
    return true;
}

bool send_response(int fd, const Response &r) {
    const bool ok = r.status == RP_STATUS_OK;
    rp_response_header h{};
    h.magic = RP_RESPONSE_MAGIC;
    h.status = r.status;
    h.message_len = static_cast<uint32_t>(r.message.size());
    h.detail_len = static_cast<uint32_t>(r.detail.size());
    h.payload_len = ok ? r.payload.size() : r.hint.size();
    h.flags = ok ? r.flags : 0;
    if (ok)
        for (const auto &e : r.entries) h.payload_len += 4 + e.name.size() + 8 + e.data.size();
    if (!write_full(fd, &h, sizeof h) || !write_full(fd, r.message.data(), r.message.size()) ||
        !write_full(fd, r.detail.data(), r.detail.size()))
        return false;
    if (!ok) return write_full(fd, r.hint.data(), r.hint.size());
    if (!write_full(fd, r.payload.data(), r.payload.size())) return false;
    for (const auto &e : r.entries) {
        uint32_t name_len = static_cast<uint32_t>(e.name.size());
        uint64_t size = e.data.size();
        if (!write_full(fd, &name_len, sizeof name_len) || !write_full(fd, e.name.data(), e.name.size()) ||
            !write_full(fd, &size, sizeof size) || !write_full(fd, e.data.data(), e.data.size()))
            return false;
    }
    return true;
}

void ignore_poppler(const std::string &, void *) {}

void warm_up_libraries() {
    poppler::set_debug_error_function(ignore_poppler, nullptr);
    // Before poppler's first page: no colour transform is ever built (colour_management.cpp).
    turn_off_colour_management();
    // The time zone: libzip converts every entry's DOS time with mktime().
    tzset();
    xmlInitParser();
    // poppler builds its global tables (scanning /usr/share/poppler) when the first document
    // opens and frees them when the last one closes. One document kept open for the life of
    // the zygote keeps them, so a child never scans them again; it only opens the CMap or
    // encoding file a document names.
    static const std::string *pdf = new std::string(tiny_pdf());
    static poppler::document *keep_open =
        poppler::document::load_from_raw_data(pdf->data(), static_cast<int>(pdf->size()));
    (void)keep_open;
    rp::Limits limits;
    // Tesseract loads in the document process that needs it, not here: the page has no text
    // layer, and pdf_text refuses it with OCR off (after extracting, which is what warms up).
    limits.ocr = false;
    for (int step = 0; step < 3; step++) {
        try {
            if (step == 0) rp::pdf_info_json(pdf->data(), pdf->size(), limits);
            if (step == 1) rp::pdf_text(pdf->data(), pdf->size(), limits);
            if (step == 2) rp::parse_resume_json(kSampleResume);
        } catch (...) {
            // A warm-up that fails only costs each child the time it would have saved.
        }
    }
    // poppler converts UTF-16 metadata with iconv; an open descriptor keeps the module loaded.
    static iconv_t keep_utf16 = iconv_open("UTF-8", "UTF-16");
    (void)keep_utf16;
    // Rendering a page for OCR looks fonts a PDF does not embed up through fontconfig, whose
    // first use reads its configuration and caches (access, readlink, directory scans: calls
    // the document filter does not allow). Done here once, the children inherit it loaded; the
    // font files themselves stay unreadable under Landlock, so such text is not drawn.
    std::unique_ptr<poppler::page> page(keep_open ? keep_open->create_page(0) : nullptr);
    if (page) {
        poppler::page_renderer renderer;
        renderer.render_page(page.get(), 10, 10);
    }
    page.reset();
    // What the warm-up freed goes back to the system: every document process is forked from
    // this one, and a fork copies (and an exit tears down) the page tables of all it maps.
    malloc_trim(0);
}

}  // namespace rp::helper
