#include "object_path.h"

#include <cstdint>

#include "document_error.h"
#include "utf8_text.h"

namespace rp {
namespace {

[[noreturn]] void unsafe(const std::string &what) {
    throw DocumentError(ErrorKind::UnsafeName, what);
}

// Characters that make a name display as something it is not: C1 controls, bidirectional
// overrides and marks ("cv\u202Efdp.exe" shows as "cvexe.pdf"), zero-width characters, and the
// byte order mark. The key must already be valid UTF-8.
bool deceptive_character(const std::string &key) {
    for (size_t i = 0; i < key.size();) {
        unsigned char c = static_cast<unsigned char>(key[i]);
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if (c < 0xE0) {
            cp = c & 0x1F;
            len = 2;
        } else if (c < 0xF0) {
            cp = c & 0x0F;
            len = 3;
        } else {
            cp = c & 0x07;
            len = 4;
        }
        for (size_t k = 1; k < len && i + k < key.size(); k++) cp = (cp << 6) | (key[i + k] & 0x3F);
        i += len;
        if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || cp == 0x061C || cp == 0x180E ||
            (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB))
            return true;
    }
    return false;
}

}  // namespace

std::string object_relative_path(const std::string &bucket, const std::string &key) {
    if (bucket.empty() || bucket.size() > 63) unsafe("bucket name must have 1 to 63 characters");
    for (char c : bucket)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            unsafe("bucket name \"" + bucket + "\" may use only a-z, 0-9, '.', '_' and '-'");
    if (bucket == "." || bucket == "..") unsafe("bucket name \"" + bucket + "\" is not allowed");
    if (key.empty()) unsafe("object name is empty");
    if (!is_valid_utf8(key)) unsafe("object name is not valid UTF-8");
    if (deceptive_character(key))
        unsafe("object name contains an invisible, C1 control or bidirectional formatting character");
    // Unlike ZIP entry names, object keys are not repaired: a key that needs repair is refused.
    size_t start = 0;
    while (true) {
        size_t end = key.find('/', start);
        std::string part = key.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part.empty()) unsafe("object name \"" + sanitize_utf8(key) + "\" has an empty path component");
        if (part == "." || part == "..") unsafe("object name \"" + key + "\" has a \"" + part + "\" path component");
        if (part.size() > 255) unsafe("object name has a path component longer than 255 bytes");
        for (unsigned char c : part)
            if (c < 0x20 || c == 0x7F || c == '\\')
                unsafe("object name \"" + sanitize_utf8(key) + "\" contains a control character or backslash");
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return bucket + "/" + key;
}

}  // namespace rp
