#include "pdf_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "document_error.h"
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
    std::string out;
    const int pages = doc->pages();
    for (int i = 0; i < pages; ++i) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        if (i > 0) out += '\f';
        if (!page) continue;  // a broken page object: keep the page count honest, skip its text
        std::string text = to_utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout));
        // poppler ends each page with "\n\f"; the separator is ours to place.
        while (!text.empty() && (text.back() == '\f' || text.back() == '\n')) text.pop_back();
        out += text;
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
    return info.dump();
}

}  // namespace rp
