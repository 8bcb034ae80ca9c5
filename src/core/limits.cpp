#include "limits.h"

#include "document_error.h"

namespace rp {

std::string format_bytes(uint64_t n) {
    const char *units[] = {"bytes", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (u < 4 && n >= 1024 && n % 1024 == 0) {
        n /= 1024;
        ++u;
    }
    return std::to_string(n) + " " + units[u];
}

void check_document_size(size_t len, const Limits &limits, const char *what) {
    if (len == 0) throw DocumentError(ErrorKind::Empty, std::string("empty ") + what + ": the value has no bytes");
    if (len > limits.max_file_size)
        throw DocumentError(ErrorKind::Limit, std::string(what) + " of " + std::to_string(len) +
                                                  " bytes exceeds resume_pipeline.max_file_size (" +
                                                  format_bytes(limits.max_file_size) + ")");
}

}  // namespace rp
