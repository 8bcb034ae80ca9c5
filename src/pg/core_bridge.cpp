// See core_bridge.h. No Postgres header here: only plain C types cross this line.
#include "core_bridge.h"

#include <cstring>
#include <exception>
#include <string>

#include "../core/object_path.h"

namespace {

void copy_out(const std::string &s, char *buf, size_t size) {
    if (size == 0) return;
    size_t n = s.size() < size - 1 ? s.size() : size - 1;
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
}

}  // namespace

extern "C" int rp_core_object_path(const char *bucket, const char *key, char *out, size_t out_size, char *err,
                                   size_t err_size) {
    try {
        std::string path = rp::object_relative_path(bucket, key);
        if (path.size() >= out_size) {
            copy_out("object name is too long", err, err_size);
            return -1;
        }
        copy_out(path, out, out_size);
        return 0;
    } catch (const std::exception &e) {
        copy_out(e.what(), err, err_size);
    } catch (...) {
        copy_out("unexpected error while checking an object name", err, err_size);
    }
    return -1;
}
