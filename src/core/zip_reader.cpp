#include "zip_reader.h"

#include <sys/stat.h>
#include <zip.h>

#include <cstring>
#include <new>

#include "document_error.h"
#include "utf8_text.h"

namespace rp {
namespace {

std::string quoted(const std::string &s) {
    return "\"" + s + "\"";
}

bool is_directory_name(const std::string &name) {
    return !name.empty() && (name.back() == '/' || name.back() == '\\');
}

}  // namespace

bool looks_like_zip(const char *data, size_t len) {
    return len >= 4 && data[0] == 'P' && data[1] == 'K' &&
           ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

std::string safe_entry_name(const std::string &raw) {
    if (!is_valid_utf8(raw)) throw DocumentError(ErrorKind::UnsafeName, "ZIP entry name is not valid UTF-8");
    for (unsigned char c : raw)
        if (c < 0x20 || c == 0x7F)
            throw DocumentError(ErrorKind::UnsafeName,
                                "ZIP entry name " + quoted(sanitize_utf8(raw)) + " contains a control character");
    if (raw.empty() || raw[0] == '/' || raw[0] == '\\')
        throw DocumentError(ErrorKind::UnsafeName, "ZIP entry name " + quoted(raw) + " is an absolute path");
    if (raw.size() >= 2 && raw[1] == ':')
        throw DocumentError(ErrorKind::UnsafeName, "ZIP entry name " + quoted(raw) + " starts with a drive letter");
    std::string out;
    size_t start = 0;
    while (start <= raw.size()) {
        size_t end = raw.find_first_of("/\\", start);
        if (end == std::string::npos) end = raw.size();
        std::string part = raw.substr(start, end - start);
        if (part == "..")
            throw DocumentError(ErrorKind::UnsafeName,
                                "ZIP entry name " + quoted(raw) + " climbs out of the archive with \"..\"");
        if (!part.empty() && part != ".") {
            if (!out.empty()) out += '/';
            out += part;
        }
        start = end + 1;
    }
    if (out.empty()) throw DocumentError(ErrorKind::UnsafeName, "ZIP entry name " + quoted(raw) + " names no file");
    // Again after normalising: "./C:/x" shows its drive letter only once "./" is gone.
    if (out.size() >= 2 && out[1] == ':')
        throw DocumentError(ErrorKind::UnsafeName, "ZIP entry name " + quoted(raw) + " starts with a drive letter");
    return out;
}

ZipArchive::ZipArchive(const char *data, size_t len, const Limits &limits) : limits_(limits), input_len_(len) {
    check_document_size(len, limits, "ZIP archive");  // libzip would take zero bytes as an empty archive
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &error);
    if (!src) {
        zip_error_fini(&error);
        throw std::bad_alloc();  // the only way libzip fails to wrap a buffer
    }
    archive_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!archive_) {
        zip_source_free(src);  // still ours when the open fails
        std::string msg = zip_error_strerror(&error);
        zip_error_fini(&error);
        throw DocumentError(ErrorKind::Corrupt, "not a readable ZIP archive", "libzip: " + msg);
    }
    zip_error_fini(&error);
    // A constructor that throws runs no destructor: close the archive before refusing it.
    const zip_int64_t n = zip_get_num_entries(archive_, 0);
    if (n < 0 || static_cast<uint64_t>(n) > limits_.zip_max_entries) {
        zip_discard(archive_);
        archive_ = nullptr;
    }
    if (n < 0) throw DocumentError(ErrorKind::Corrupt, "ZIP archive has an unreadable directory");
    if (static_cast<uint64_t>(n) > limits_.zip_max_entries)
        throw DocumentError(ErrorKind::Limit, "ZIP archive has " + std::to_string(n) +
                                                  " entries, more than resume_pipeline.zip_max_entries (" +
                                                  std::to_string(limits_.zip_max_entries) + ")");
}

ZipArchive::~ZipArchive() {
    if (archive_) zip_discard(archive_);
}

std::vector<ZipEntry> ZipArchive::regular_files() {
    struct Planned {
        uint64_t index;
        uint64_t size;
        std::string name;
    };
    std::vector<Planned> plan;
    uint64_t total = 0;
    const zip_int64_t n = zip_get_num_entries(archive_, 0);
    // Check every entry's declared sizes and name before decompressing any byte.
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(archive_, i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            throw DocumentError(ErrorKind::Corrupt, "ZIP entry " + std::to_string(i) + " cannot be read");
        std::string raw = st.name;
        zip_uint8_t opsys = 0;
        zip_uint32_t attributes = 0;
        if (zip_file_get_external_attributes(archive_, i, 0, &opsys, &attributes) == 0 && opsys == ZIP_OPSYS_UNIX) {
            const unsigned mode = attributes >> 16;
            if ((mode & S_IFMT) != 0 && (mode & S_IFMT) != S_IFREG) continue;  // symlink, device, fifo
        }
        if (is_directory_name(raw)) continue;
        std::string name = safe_entry_name(raw);
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            throw DocumentError(ErrorKind::Encrypted, "ZIP entry " + quoted(name) + " is encrypted");
        if ((st.valid & ZIP_STAT_COMP_METHOD) && !zip_compression_method_supported(st.comp_method, 0))
            throw DocumentError(
                ErrorKind::Unsupported,
                "ZIP entry " + quoted(name) + " uses unsupported compression method " + std::to_string(st.comp_method));
        if (st.size > limits_.max_file_size)
            throw DocumentError(ErrorKind::Limit, "ZIP entry " + quoted(name) + " expands to " +
                                                      std::to_string(st.size) +
                                                      " bytes, more than resume_pipeline.max_file_size (" +
                                                      format_bytes(limits_.max_file_size) + ")");
        if (st.size >= kRatioCheckFloor && st.size / limits_.zip_max_ratio > st.comp_size)
            throw DocumentError(ErrorKind::Limit, "ZIP entry " + quoted(name) + " has compression ratio " +
                                                      std::to_string(st.comp_size ? st.size / st.comp_size : st.size) +
                                                      ":1, more than resume_pipeline.zip_max_ratio (" +
                                                      std::to_string(limits_.zip_max_ratio) + ":1); possible zip bomb");
        total += st.size;
        if (total > limits_.zip_max_total_size)
            throw DocumentError(ErrorKind::Limit,
                                "ZIP archive expands to more than resume_pipeline.zip_max_total_size (" +
                                    format_bytes(limits_.zip_max_total_size) + ")");
        plan.push_back({static_cast<uint64_t>(i), st.size, std::move(name)});
    }
    if (total >= kRatioCheckFloor && total / limits_.zip_max_ratio > input_len_)
        throw DocumentError(ErrorKind::Limit, "ZIP archive expands " + std::to_string(total / input_len_) +
                                                  " times its size, more than resume_pipeline.zip_max_ratio (" +
                                                  std::to_string(limits_.zip_max_ratio) + "); possible zip bomb");
    std::vector<ZipEntry> out;
    out.reserve(plan.size());
    for (auto &p : plan) out.push_back({p.name, read_index(p.index, p.size, p.name)});
    return out;
}

bool ZipArchive::has_member(const std::string &name) const {
    return zip_name_locate(archive_, name.c_str(), 0) >= 0;
}

std::string ZipArchive::read_member(const std::string &name, uint64_t max_size) {
    const zip_int64_t i = zip_name_locate(archive_, name.c_str(), 0);
    if (i < 0) throw DocumentError(ErrorKind::Corrupt, "ZIP archive has no member " + quoted(name));
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_, i, 0, &st) != 0)
        throw DocumentError(ErrorKind::Corrupt, "ZIP member " + quoted(name) + " cannot be read");
    if (st.size > max_size)
        throw DocumentError(ErrorKind::Limit, "ZIP member " + quoted(name) + " expands to " + std::to_string(st.size) +
                                                  " bytes, more than the limit of " + std::to_string(max_size));
    if (st.size >= kRatioCheckFloor && st.size / limits_.zip_max_ratio > st.comp_size)
        throw DocumentError(ErrorKind::Limit,
                            "ZIP member " + quoted(name) + " exceeds resume_pipeline.zip_max_ratio; possible zip bomb");
    return read_index(static_cast<uint64_t>(i), st.size, name);
}

// Decompresses one entry, trusting nothing the directory said: reading stops one byte past the
// declared size, and libzip verifies the CRC at the end.
std::string ZipArchive::read_index(uint64_t index, uint64_t declared_size, const std::string &name) {
    zip_file_t *f = zip_fopen_index(archive_, index, 0);
    if (!f)
        throw DocumentError(ErrorKind::Corrupt, "ZIP entry " + quoted(name) + " cannot be opened",
                            std::string("libzip: ") + zip_strerror(archive_));
    std::string data;
    data.resize(declared_size);
    uint64_t got = 0;
    bool failed = false;
    std::string why;
    for (;;) {
        char extra;
        char *dst = got < declared_size ? &data[got] : &extra;
        zip_uint64_t want = got < declared_size ? declared_size - got : 1;
        if (want > (1u << 20)) want = 1u << 20;
        zip_int64_t r = zip_fread(f, dst, want);
        if (r < 0) {
            failed = true;
            why = zip_file_strerror(f);
            break;
        }
        if (r == 0) break;
        got += static_cast<uint64_t>(r);
        if (got > declared_size) {
            failed = true;
            why = "entry is longer than its directory record says";
            break;
        }
    }
    zip_fclose(f);
    if (failed || got != declared_size)
        throw DocumentError(ErrorKind::Corrupt, "ZIP entry " + quoted(name) + " is damaged",
                            why.empty() ? "entry is shorter than its directory record says" : "libzip: " + why);
    return data;
}

}  // namespace rp
