#include "object_path.h"

#include "document_error.h"
#include "utf8_text.h"

namespace rp {
namespace {

[[noreturn]] void unsafe(const std::string &what) {
    throw DocumentError(ErrorKind::UnsafeName, what);
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
