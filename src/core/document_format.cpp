#include "document_format.h"

#include <cstring>
#include <string_view>

#include "document_error.h"
#include "pdf_text.h"
#include "utf8_text.h"
#include "zip_reader.h"

namespace rp {
namespace {

bool starts_with(const char *data, size_t len, const char *magic, size_t n) {
    return len >= n && std::memcmp(data, magic, n) == 0;
}

// A ZIP end-of-central-directory record in the last 64 KB + 22 bytes (the comment's maximum):
// what makes a file that does not start like a ZIP openable as one anyway.
bool ends_like_zip(const char *data, size_t len) {
    if (len < 22) return false;
    size_t from = len > 65557 ? len - 65557 : 0;
    for (size_t p = len - 22 + 1; p-- > from;)
        if (std::memcmp(data + p, "PK\x05\x06", 4) == 0) return true;
    return false;
}

// Plain text: valid UTF-8, no NUL, and hardly any other control characters (binary formats
// that happen to be valid UTF-8 are full of them).
bool looks_like_text(std::string_view s) {
    if (s.find('\0') != std::string_view::npos || !is_valid_utf8(s)) return false;
    size_t controls = 0;
    for (unsigned char c : s)
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F) ++controls;
    return controls * 100 <= s.size();
}

Format zip_format(const char *data, size_t len, const Limits &limits) {
    try {
        ZipArchive archive(data, len, limits);
        if (archive.has_member("word/document.xml")) return Format::Docx;
        // The mimetype member decides (a package that says ODT but lacks content.xml is a damaged ODT).
        if (archive.has_member("mimetype")) {
            std::string type = archive.read_member("mimetype", 256);
            while (!type.empty() && (type.back() == '\n' || type.back() == '\r' || type.back() == ' ')) type.pop_back();
            if (type == "application/vnd.oasis.opendocument.text") return Format::Odt;
        }
        return Format::Zip;
    } catch (const DocumentError &) {
        return Format::Zip;  // processing will say what is wrong with it
    }
}

}  // namespace

Format detect_format(const char *data, size_t len, const Limits &limits) {
    if (len == 0) return Format::Empty;
    if (looks_like_zip(data, len)) return zip_format(data, len, limits);
    if (starts_with(data, len, "%PDF-", 5)) return Format::Pdf;
    if (starts_with(data, len, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) return Format::Doc;
    if (starts_with(data, len, "{\\rtf", 5)) return Format::Rtf;
    if (starts_with(data, len, "\x89PNG\r\n\x1a\n", 8)) return Format::Png;
    if (starts_with(data, len, "\xFF\xD8\xFF", 3)) return Format::Jpeg;
    if (starts_with(data, len, "II*\0", 4) || starts_with(data, len, "MM\0*", 4)) return Format::Tiff;
    if (looks_like_pdf(data, len)) return ends_like_zip(data, len) ? Format::Ambiguous : Format::Pdf;
    std::string_view text(data, len);
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
    if (looks_like_text(text)) return Format::Text;
    return Format::Other;
}

const char *format_name(Format format) {
    switch (format) {
        case Format::Pdf: return "pdf";
        case Format::Docx: return "docx";
        case Format::Odt: return "odt";
        case Format::Zip: return "zip";
        case Format::Doc: return "doc";
        case Format::Rtf: return "rtf";
        case Format::Png: return "png";
        case Format::Jpeg: return "jpeg";
        case Format::Tiff: return "tiff";
        case Format::Text: return "text";
        case Format::Ambiguous: return "ambiguous";
        case Format::Empty:
        case Format::Other: break;
    }
    return "other";
}

bool is_resume_format(Format format) {
    switch (format) {
        case Format::Pdf:
        case Format::Docx:
        case Format::Odt:
        case Format::Doc:
        case Format::Rtf:
        case Format::Png:
        case Format::Jpeg:
        case Format::Tiff: return true;
        default: return false;
    }
}

}  // namespace rp
