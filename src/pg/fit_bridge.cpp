// The C entry point of the built-in candidate scorer (rp::fit, src/core/fit_score.h) for
// fit_functions.c. No Postgres header here, and no server include path when it is compiled
// (mk/objs/fit_score.mk): only plain C types cross this line. Every C++ exception is caught here;
// the result is malloc'd, so the C side copies it into palloc'd memory and frees it.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "../core/fit_score.h"
#include "bridge_copy.h"

using rp::copy_out;

// Declared in fit_functions.c. 0 with *out (malloc'd, NUL-terminated, free with rp_fit_free)
// and *out_len set; -1 with a one-line message in err for bad input; -2 when memory ran out.
// posting_json NULL means no posting.
extern "C" int rp_fit_score(const char *resume_json, size_t resume_len, const char *raw_text, size_t raw_len,
                            const char *posting_json, size_t posting_len, int as_of_year, int as_of_month, char **out,
                            size_t *out_len, char *err, size_t err_size) {
    *out = nullptr;
    *out_len = 0;
    try {
        std::optional<rp::fit::Posting> posting;
        if (posting_json) {
            std::string why;
            if (!rp::fit::posting_from_json(std::string_view(posting_json, posting_len), &posting, &why)) {
                copy_out(why, err, err_size);
                return -1;
            }
        }
        const rp::fit::Result r =
            rp::fit::score(std::string_view(resume_json, resume_len), std::string_view(raw_text, raw_len),
                           posting ? &*posting : nullptr, as_of_year, as_of_month);
        if (!r.ok) {
            copy_out(r.error, err, err_size);
            return -1;
        }
        char *buf = static_cast<char *>(std::malloc(r.json.size() + 1));
        if (!buf) {
            copy_out("out of memory", err, err_size);
            return -2;
        }
        std::memcpy(buf, r.json.data(), r.json.size());
        buf[r.json.size()] = '\0';
        *out = buf;
        *out_len = r.json.size();
        return 0;
    } catch (const std::bad_alloc &) {
        copy_out("out of memory", err, err_size);
        return -2;
    } catch (const std::exception &e) {
        copy_out(e.what(), err, err_size);
    } catch (...) {
        copy_out("unexpected error while scoring", err, err_size);
    }
    return -1;
}

extern "C" void rp_fit_free(char *p) {
    std::free(p);
}
