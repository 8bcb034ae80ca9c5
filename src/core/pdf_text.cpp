#include "pdf_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "document_error.h"
#include "ocr.h"
#include "pdf_layout.h"
#include "utf8_text.h"

namespace rp {
namespace {

// Collects poppler's diagnostics while a document is open so a failure can say what poppler
// saw ("Couldn't read xref table") instead of printing into the server log.
class PopplerDiagnostics {
public:
    PopplerDiagnostics() { poppler::set_debug_error_function(&PopplerDiagnostics::collect, this); }
    ~PopplerDiagnostics() { poppler::set_debug_error_function(&PopplerDiagnostics::discard, nullptr); }
    PopplerDiagnostics(const PopplerDiagnostics &) = delete;
    PopplerDiagnostics &operator=(const PopplerDiagnostics &) = delete;
    const std::string &text() const { return text_; }

private:
    static void collect(const std::string &msg, void *closure) {
        auto *self = static_cast<PopplerDiagnostics *>(closure);
        // The first few distinct messages say what went wrong; repeats and the rest are noise.
        if (self->text_.size() < 1000 && msg != self->last_) {
            if (!self->text_.empty()) self->text_ += "; ";
            self->text_ += msg;
            self->last_ = msg;
        }
    }
    static void discard(const std::string &, void *) {}
    std::string text_;
    std::string last_;
};

std::string to_utf8(const poppler::ustring &u) {
    poppler::byte_array bytes = u.to_utf8();
    return sanitize_utf8(std::string_view(bytes.data(), bytes.size()));
}

// Opens the document or throws a DocumentError naming the cause. The buffer is not copied by
// poppler and must outlive the returned document.
std::unique_ptr<poppler::document> open_pdf(const char *data, size_t len, const Limits &limits,
                                            PopplerDiagnostics &diag) {
    check_document_size(len, limits, "PDF");
    if (!looks_like_pdf(data, len)) throw DocumentError(ErrorKind::Corrupt, "not a PDF: the data has no %PDF- header");
    if (len > static_cast<size_t>(INT_MAX))
        throw DocumentError(ErrorKind::Limit, "PDF larger than 2 GB cannot be read");
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(data, static_cast<int>(len)));
    if (!doc)
        throw DocumentError(ErrorKind::Corrupt, "PDF is damaged or truncated and cannot be read",
                            diag.text().empty() ? std::string() : "poppler: " + diag.text());
    return doc;
}

// A page whose text layer has fewer visible characters than this has no usable one: a scan, a
// photo saved as PDF, perhaps with a page number or a scanner's stamp printed on it.
constexpr size_t kMinTextLayerChars = 16;

size_t visible_chars(const std::string &utf8) {
    size_t n = 0;
    for (size_t i = 0; i < utf8.size(); i++) {
        const unsigned char c = static_cast<unsigned char>(utf8[i]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') continue;
        if (utf8.compare(i, 3, "\xEF\xBF\xBD") == 0) continue;  // U+FFFD: a glyph without a Unicode mapping
        n++;
    }
    return n;
}

// The page's words with their boxes, in poppler's reading order.
std::vector<PageWord> page_words(const poppler::page &page) {
    std::vector<PageWord> words;
    for (const poppler::text_box &box : page.text_list()) {
        const poppler::rectf r = box.bbox();
        PageWord w;
        w.x0 = r.left();
        w.y0 = r.top();
        w.x1 = r.right();
        w.y1 = r.bottom();
        w.text = to_utf8(box.text());
        w.space_after = box.has_space_after();
        w.upright = box.rotation() == 0;
        words.push_back(std::move(w));
    }
    return words;
}

// The text layer of each page (empty for a broken page object), and the 0-based pages that have
// no usable one.
struct PageTexts {
    std::vector<std::string> text;
    std::vector<int> without_layer;
};

PageTexts page_texts(poppler::document &doc) {
    PageTexts t;
    const int pages = doc.pages();
    t.text.resize(pages > 0 ? pages : 0);
    for (int i = 0; i < pages; ++i) {
        std::unique_ptr<poppler::page> page(doc.create_page(i));
        if (!page) continue;  // a broken page object: keep the page count honest, skip its text
        std::string text = layout_page_text(page_words(*page));
        if (visible_chars(text) < kMinTextLayerChars) t.without_layer.push_back(i);
        t.text[i] = std::move(text);
    }
    return t;
}

// Renders the pages without a text layer and reads them with Tesseract. The page cap and every
// page's size at the OCR resolution are checked before the first page is rendered.
void read_by_ocr(poppler::document &doc, PageTexts &t, const Limits &limits) {
    if (t.without_layer.size() > limits.ocr_max_pages)
        throw DocumentError(
            ErrorKind::Limit,
            "PDF has " + std::to_string(t.without_layer.size()) +
                " pages without a text layer to read by OCR, more than "
                "resume_pipeline.ocr_max_pages (" +
                std::to_string(limits.ocr_max_pages) + ")",
            "Nothing was rendered. Raise resume_pipeline.ocr_max_pages (and "
            "resume_pipeline.parser_cpu_time_limit: OCR takes seconds a page) if such scans are expected.");
    const double dpi = limits.ocr_dpi;
    std::vector<std::unique_ptr<poppler::page>> pages;
    for (int i : t.without_layer) {
        std::unique_ptr<poppler::page> page(doc.create_page(i));
        if (page) {
            const poppler::rectf box = page->page_rect();  // the crop box, which the renderer draws
            check_ocr_pixels(box.width() * dpi / 72.0, box.height() * dpi / 72.0, limits,
                             "page " + std::to_string(i + 1) + " of the PDF at " + std::to_string(limits.ocr_dpi) +
                                 " dpi (resume_pipeline.ocr_dpi)");
        }
        pages.push_back(std::move(page));
    }
    OcrEngine engine;
    poppler::page_renderer renderer;
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    renderer.set_image_format(poppler::image::format_gray8);
    for (size_t k = 0; k < pages.size(); k++) {
        if (!pages[k]) continue;
        const int i = t.without_layer[k];
        poppler::image img = renderer.render_page(pages[k].get(), dpi, dpi);
        if (!img.is_valid() || img.width() <= 0 || img.height() <= 0)
            throw DocumentError(ErrorKind::Corrupt, "page " + std::to_string(i + 1) + " of the PDF cannot be rendered");
        std::string read = engine.read_gray(reinterpret_cast<const unsigned char *>(img.const_data()), img.width(),
                                            img.height(), img.bytes_per_row(), limits.ocr_dpi);
        // A short text layer ("Page 2", a stamp) stays unless OCR found more on the page.
        if (visible_chars(read) > visible_chars(t.text[i])) t.text[i] = std::move(read);
        if (limits.ocr_report) limits.ocr_report->pdf_pages.push_back(i + 1);
    }
}

nlohmann::json optional_string(const poppler::ustring &u) {
    std::string s = to_utf8(u);
    if (s.empty()) return nullptr;
    return s;
}

nlohmann::json optional_date(time_t t) {
    if (t == static_cast<time_t>(-1) || t == 0) return nullptr;
    struct tm tm_utc;
    if (!gmtime_r(&t, &tm_utc)) return nullptr;
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
    return std::string(buf);
}

}  // namespace

bool looks_like_pdf(const char *data, size_t len) {
    const size_t window = len < 1024 ? len : 1024;
    const char *end = data + window;
    for (const char *p = data; p + 5 <= end; ++p)
        if (std::memcmp(p, "%PDF-", 5) == 0) return true;
    return false;
}

std::string pdf_text(const char *data, size_t len, const Limits &limits) {
    PopplerDiagnostics diag;
    auto doc = open_pdf(data, len, limits, diag);
    if (doc->is_locked())
        throw DocumentError(ErrorKind::Encrypted, "PDF is encrypted and needs a password",
                            "Only PDFs that open without a user password can be read.");
    PageTexts t = page_texts(*doc);
    if (!t.without_layer.empty()) {
        if (limits.ocr)
            read_by_ocr(*doc, t, limits);
        else if (t.without_layer.size() == t.text.size())
            throw DocumentError(ErrorKind::Unsupported,
                                "the PDF has no text layer (a scan?) and OCR is off (resume_pipeline.ocr)",
                                "Set resume_pipeline.ocr = on to read scanned pages.");
    }
    std::string out;
    for (size_t i = 0; i < t.text.size(); ++i) {
        if (i > 0) out += '\f';
        out += t.text[i];
    }
    return out;
}

std::string pdf_info_json(const char *data, size_t len, const Limits &limits) {
    PopplerDiagnostics diag;
    auto doc = open_pdf(data, len, limits, diag);
    nlohmann::json info;
    // A locked document answers almost nothing (poppler-cpp 22.12 even crashes on some
    // getters), so say only that it is locked.
    if (doc->is_locked()) {
        info["encrypted"] = true;
        info["locked"] = true;
        info["ocr_pages"] = nlohmann::json::array();
        for (const char *k : {"pages", "pdf_version", "title", "author", "subject", "keywords", "creator", "producer",
                              "creation_date", "modification_date", "linearized"})
            info[k] = nullptr;
        return info.dump();
    }
    int major = 0, minor = 0;
    doc->get_pdf_version(&major, &minor);
    info["pdf_version"] = std::to_string(major) + "." + std::to_string(minor);
    info["encrypted"] = doc->is_encrypted();
    info["locked"] = false;
    info["pages"] = doc->pages();
    info["title"] = optional_string(doc->get_title());
    info["author"] = optional_string(doc->get_author());
    info["subject"] = optional_string(doc->get_subject());
    info["keywords"] = optional_string(doc->get_keywords());
    info["creator"] = optional_string(doc->get_creator());
    info["producer"] = optional_string(doc->get_producer());
    info["creation_date"] = optional_date(doc->get_creation_date_t());
    info["modification_date"] = optional_date(doc->get_modification_date_t());
    info["linearized"] = doc->is_linearized();
    // The pages pdf_text reads by OCR (1-based): those without a text layer, when OCR is on.
    nlohmann::json ocr_pages = nlohmann::json::array();
    if (limits.ocr)
        for (int i : page_texts(*doc).without_layer) ocr_pages.push_back(i + 1);
    info["ocr_pages"] = ocr_pages;
    return info.dump();
}

}  // namespace rp
