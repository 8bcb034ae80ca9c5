// ZIP archives through libzip, with the defences an uploaded archive needs: entry count, total
// and per-entry size, compression ratio (zip bombs), and entry names that cannot escape a
// directory. Nested archives are returned as bytes, never opened.
#pragma once
#include "no_postgres.h"

#include <cstdint>
#include <string>
#include <vector>

#include "limits.h"

struct zip;
struct zip_source;

namespace rp {

struct ZipEntry {
    std::string name;  // normalised relative path, valid UTF-8
    std::string data;
};

class ZipArchive {
public:
    // Opens the archive; throws DocumentError (Empty, Corrupt, Limit).
    ZipArchive(const char *data, size_t len, const Limits &limits);
    ~ZipArchive();
    ZipArchive(const ZipArchive &) = delete;
    ZipArchive &operator=(const ZipArchive &) = delete;

    // Every regular file, in archive order. Directories and symbolic links are skipped.
    // Throws DocumentError when any entry breaks a limit or has an unsafe name, so a hostile
    // archive yields nothing rather than a partial result.
    std::vector<ZipEntry> regular_files();

    // Whether a member of exactly this name exists.
    bool has_member(const std::string &name) const;

    // One member's bytes, at most max_size after decompression; throws DocumentError.
    std::string read_member(const std::string &name, uint64_t max_size);

private:
    std::string read_index(uint64_t index, uint64_t declared_size, const std::string &name);

    zip *archive_ = nullptr;
    Limits limits_;
    size_t input_len_;
};

// The entry name as a safe relative path: backslashes become '/', "." and empty components are
// dropped. Throws DocumentError(UnsafeName) for absolute paths, drive letters, "..", control
// characters and invalid UTF-8.
std::string safe_entry_name(const std::string &raw);

// True when data starts with a ZIP local file header (or is an empty archive).
bool looks_like_zip(const char *data, size_t len);

}  // namespace rp
