// For the C++ bridge of src/pg (core_bridge.cpp): a C++ string
// into a fixed C buffer, cut to fit and NUL-terminated. No Postgres header.
#pragma once
#include <cstring>
#include <string>

namespace rp {

inline void copy_out(const std::string &s, char *buf, size_t size) {
    if (size == 0) return;
    size_t n = s.size() < size - 1 ? s.size() : size - 1;
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
}

}  // namespace rp
