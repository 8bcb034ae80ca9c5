// resume_pipeline_parser: the process that reads untrusted documents for a backend.
//
// A backend starts one with its end of a socket pair on stdin/stdout and sends requests
// (src/protocol/parser_protocol.h) until it closes the socket. Each request runs under
// RLIMIT_AS and RLIMIT_CPU, so a hostile PDF that crashes poppler, loops or eats memory takes
// down only this process; the backend sees how it ended and reports an ERROR.
#include <libxml/parser.h>
#include <poppler-global.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "../core/document_error.h"
#include "../core/document_text.h"
#include "../core/docx_text.h"
#include "../core/pdf_text.h"
#include "../core/resume_parser.h"
#include "../core/zip_reader.h"
#include "../protocol/parser_protocol.h"

namespace {

constexpr int kIn = 0;
constexpr int kOut = 1;

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

// The backend went away or broke the protocol: nothing left to do.
void write_full(const void *buf, size_t len) {
    auto *p = static_cast<const char *>(buf);
    while (len > 0) {
        ssize_t w = write(kOut, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(0);
        p += w;
        len -= static_cast<size_t>(w);
    }
}

void discard_input(uint64_t len) {
    char buf[65536];
    while (len > 0) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        if (!read_full(kIn, buf, n)) _exit(0);
        len -= n;
    }
}

struct Response {
    uint32_t status = RP_STATUS_OK;
    std::string message;
    std::string detail;
    std::string payload;
    std::vector<rp::ZipEntry> entries;  // RP_OP_ZIP_ENTRIES streams these as the payload
};

void send(const Response &r) {
    rp_response_header h{};
    h.magic = RP_RESPONSE_MAGIC;
    h.status = r.status;
    h.message_len = static_cast<uint32_t>(r.message.size());
    h.detail_len = static_cast<uint32_t>(r.detail.size());
    h.payload_len = r.payload.size();
    for (const auto &e : r.entries) h.payload_len += 4 + e.name.size() + 8 + e.data.size();
    write_full(&h, sizeof h);
    write_full(r.message.data(), r.message.size());
    write_full(r.detail.data(), r.detail.size());
    write_full(r.payload.data(), r.payload.size());
    for (const auto &e : r.entries) {
        uint32_t name_len = static_cast<uint32_t>(e.name.size());
        uint64_t size = e.data.size();
        write_full(&name_len, sizeof name_len);
        write_full(e.name.data(), e.name.size());
        write_full(&size, sizeof size);
        write_full(e.data.data(), e.data.size());
    }
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

// Per-request limits. Only soft limits move, so a later request may raise them again; the CPU
// limit counts from what this process has used so far.
void apply_limits(const rp_request_header &h) {
    struct rlimit as {};
    as.rlim_cur = h.memory_limit ? h.memory_limit : RLIM_INFINITY;
    as.rlim_max = RLIM_INFINITY;
    setrlimit(RLIMIT_AS, &as);
    struct rusage used {};
    getrusage(RUSAGE_SELF, &used);
    const rlim_t spent = static_cast<rlim_t>(used.ru_utime.tv_sec + used.ru_stime.tv_sec + 1);
    struct rlimit cpu {};
    cpu.rlim_cur = h.cpu_limit_s ? spent + h.cpu_limit_s : RLIM_INFINITY;
    cpu.rlim_max = RLIM_INFINITY;
    setrlimit(RLIMIT_CPU, &cpu);
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
        case RP_DEBUG_HANG:
            for (;;) pause();
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
    return r;
}

Response failure(uint32_t status, std::string message, std::string detail = {}) {
    Response r;
    r.status = status;
    r.message = std::move(message);
    r.detail = std::move(detail);
    return r;
}

std::string memory_message(const rp_request_header &h) {
    return "document parser ran out of memory (resume_pipeline.parser_memory_limit is " +
           std::to_string(h.memory_limit >> 20) + " MB)";
}

void ignore_poppler(const std::string &, void *) {}

void setup(const char *parent_pid) {
    // Leave nothing of the backend behind: its client socket and data files were inherited.
    close_range(3, ~0U, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent_pid && getppid() != static_cast<pid_t>(std::atol(parent_pid))) _exit(0);
    struct rlimit no_core {};
    setrlimit(RLIMIT_CORE, &no_core);
    poppler::set_debug_error_function(ignore_poppler, nullptr);
    xmlInitParser();
}

}  // namespace

int main(int argc, char **argv) {
    setup(argc > 1 ? argv[1] : nullptr);
    for (;;) {
        rp_request_header h;
        if (!read_full(kIn, &h, sizeof h)) return 0;  // the backend closed the socket
        if (h.magic != RP_REQUEST_MAGIC || h.data_len > RP_MAX_MESSAGE_BYTES) {
            std::fprintf(stderr, "resume_pipeline_parser: bad request header, exiting\n");
            return 2;
        }
        apply_limits(h);
        Response r;
        try {
            std::string data;
            try {
                data.resize(h.data_len);
            } catch (const std::bad_alloc &) {
                discard_input(h.data_len);
                throw;
            }
            if (!read_full(kIn, data.data(), data.size())) return 0;
            r = handle(h, data);
        } catch (const rp::DocumentError &e) {
            r = failure(status_of(e.kind()), e.what(), e.detail());
        } catch (const std::bad_alloc &) {
            r = failure(RP_STATUS_LIMIT, memory_message(h),
                        "Raise resume_pipeline.parser_memory_limit if such documents are expected.");
        } catch (const std::exception &e) {
            r = failure(RP_STATUS_INTERNAL, std::string("document parser failed: ") + e.what());
        } catch (...) {
            r = failure(RP_STATUS_INTERNAL, "document parser failed with an unknown exception");
        }
        try {
            send(r);
        } catch (const std::bad_alloc &) {
            _exit(3);
        }
    }
}
