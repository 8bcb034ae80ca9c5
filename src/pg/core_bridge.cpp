// See core_bridge.h. No Postgres header here: only plain C types cross this line.
#include "core_bridge.h"
#include "bridge_copy.h"

#include <cstring>
#include <exception>
#include <string>

#include "../core/object_path.h"

using rp::copy_out;

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
