// Object names for the filesystem storage backend: a bucket and an object key become a
// relative path that cannot leave the storage root, whatever the key contains.
#pragma once
#include "no_postgres.h"

#include <string>

namespace rp {

// "bucket/key/parts". Throws DocumentError(UnsafeName) for a bucket outside [a-z0-9._-] (as
// S3 allows), an empty key, absolute keys, ".." or "." components, empty components, control
// characters, backslashes, invalid UTF-8, or a component longer than 255 bytes.
std::string object_relative_path(const std::string &bucket, const std::string &key);

}  // namespace rp
