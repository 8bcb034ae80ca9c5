#include "document_text.h"

#include <cstdio>
#include <cstring>

#include "document_error.h"
#include "docx_text.h"
#include "pdf_text.h"
#include "utf8_text.h"
#include "zip_reader.h"

namespace rp {
namespace {

bool starts_with(const char *data, size_t len, const char *magic, size_t n) {
    return len >= n && std::memcmp(data, magic, n) == 0;
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

std::string first_bytes_hex(const char *data, size_t len) {
    std::string out;
    char buf[4];
    for (size_t i = 0; i < len && i < 8; ++i) {
        std::snprintf(buf, sizeof buf, "%s%02X", i ? " " : "", static_cast<unsigned char>(data[i]));
        out += buf;
    }
    return out;
}

}  // namespace

std::string describe_binary_format(const char *data, size_t len) {
    struct Magic {
        const char *bytes;
        size_t n;
        const char *name;
    };
    static const Magic magics[] = {
        {"\x89PNG\r\n\x1a\n", 8, "a PNG image"},
        {"\xFF\xD8\xFF", 3, "a JPEG image"},
        {"GIF8", 4, "a GIF image"},
        {"II*\0", 4, "a TIFF image"},
        {"MM\0*", 4, "a TIFF image"},
        {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, "a legacy Microsoft Office (OLE2) file such as a .doc"},
        {"{\\rtf", 5, "an RTF document"},
        {"\x1F\x8B", 2, "a gzip stream"},
        {"BZh", 3, "a bzip2 stream"},
        {"7z\xBC\xAF\x27\x1C", 6, "a 7-Zip archive"},
        {"Rar!", 4, "a RAR archive"},
        {"\x7F"
         "ELF",
         4, "an ELF executable"},
        {"%!PS", 4, "a PostScript document"},
    };
    for (const auto &m : magics)
        if (starts_with(data, len, m.bytes, m.n)) return m.name;
    return {};
}

std::string document_kind(const char *data, size_t len, const Limits &limits) {
    if (len == 0) return "other";
    if (looks_like_pdf(data, len)) return "pdf";
    if (looks_like_zip(data, len)) {
        try {
            ZipArchive archive(data, len, limits);
            return is_docx(archive) ? "docx" : "zip";
        } catch (const DocumentError &) {
            return "zip";  // processing will say what is wrong with it
        }
    }
    std::string_view text(data, len);
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
    if (describe_binary_format(data, len).empty() && looks_like_text(text)) return "text";
    return "other";
}

std::string document_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "document");
    if (looks_like_pdf(data, len)) return pdf_text(data, len, limits);
    if (looks_like_zip(data, len)) {
        ZipArchive archive(data, len, limits);
        if (!is_docx(archive))
            throw DocumentError(ErrorKind::Unsupported, "unsupported document: found a ZIP archive that is not a DOCX",
                                "Use zip_entries() to list the documents inside an archive.");
        return docx_text(archive, limits);
    }
    std::string kind = describe_binary_format(data, len);
    if (!kind.empty())
        throw DocumentError(ErrorKind::Unsupported, "unsupported document: found " + kind,
                            "Supported formats are PDF, DOCX and UTF-8 text.");
    std::string_view text(data, len);
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
    if (looks_like_text(text)) return std::string(text);
    if (is_valid_utf8(text) || text.find('\0') != std::string_view::npos)
        throw DocumentError(ErrorKind::Unsupported,
                            "unsupported document: found binary data that is not PDF, DOCX or text",
                            "First bytes: " + first_bytes_hex(data, len));
    throw DocumentError(ErrorKind::BadEncoding,
                        "unsupported document: found text that is not valid UTF-8 (or binary data)",
                        "First bytes: " + first_bytes_hex(data, len));
}

}  // namespace rp
