#include "document_text.h"

#include <cstdio>
#include <cstring>

#include "document_error.h"
#include "doc_text.h"
#include "document_format.h"
#include "docx_text.h"
#include "image_text.h"
#include "odt_text.h"
#include "pdf_text.h"
#include "rtf_text.h"
#include "utf8_text.h"
#include "zip_reader.h"

namespace rp {
namespace {

bool starts_with(const char *data, size_t len, const char *magic, size_t n) {
    return len >= n && std::memcmp(data, magic, n) == 0;
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
    return format_name(detect_format(data, len, limits));
}

std::string document_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "document");
    switch (detect_format(data, len, limits)) {
        case Format::Pdf: return pdf_text(data, len, limits);
        case Format::Docx: {
            ZipArchive archive(data, len, limits);
            return docx_text(archive, limits);
        }
        case Format::Odt: return odt_text(data, len, limits);
        case Format::Doc: return doc_text(data, len, limits);
        case Format::Rtf: return rtf_text(data, len, limits);
        case Format::Png:
        case Format::Jpeg:
        case Format::Tiff: return image_text(data, len, limits);
        case Format::Zip:
            // Opened for its own error first: a damaged archive says what is wrong with it.
            { ZipArchive archive(data, len, limits); }
            throw DocumentError(ErrorKind::Unsupported,
                                "unsupported document: found a ZIP archive that is not a DOCX or ODT",
                                "Use zip_entries() to list the documents inside an archive.");
        case Format::Ambiguous:
            throw DocumentError(ErrorKind::Unsupported,
                                "unsupported document: the file is both a PDF and a ZIP archive (a polyglot); "
                                "refusing to guess which",
                                "Upload the PDF, or the archive, on its own.");
        case Format::Text: {
            std::string_view text(data, len);
            if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
            return std::string(text);
        }
        case Format::Empty:
        case Format::Other: break;
    }
    std::string kind = describe_binary_format(data, len);
    if (!kind.empty())
        throw DocumentError(ErrorKind::Unsupported, "unsupported document: found " + kind,
                            "Supported formats are PDF, DOCX, ODT, DOC, RTF, PNG, JPEG, TIFF and UTF-8 text.");
    std::string_view text(data, len);
    if (is_valid_utf8(text) || text.find('\0') != std::string_view::npos)
        throw DocumentError(ErrorKind::Unsupported,
                            "unsupported document: found binary data that is not a document format read here",
                            "First bytes: " + first_bytes_hex(data, len));
    throw DocumentError(ErrorKind::BadEncoding,
                        "unsupported document: found text that is not valid UTF-8 (or binary data)",
                        "First bytes: " + first_bytes_hex(data, len));
}

}  // namespace rp
