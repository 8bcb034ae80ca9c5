// resume_pipeline_parser_heavy.so: OCR (src/core/ocr.cpp) and Word 97-2003 (src/core/doc_text.cpp)
// for the parser's document processes, behind the table of heavy_plugin.h. Loaded only by a
// document process that needs one of them (heavy_client.cpp), never by the zygote.
//
// Everything the core functions throw is caught here and handed back as a Failure: the core's
// classes are hidden in each of the two files (-fvisibility=hidden), so an exception thrown in
// one would not be recognised by a catch in the other.
#include <new>
#include <stdexcept>

#include "../core/doc_text.h"
#include "../core/ocr.h"
#include "heavy_plugin.h"

namespace rp::heavy {
namespace {

template <typename Fn>
Outcome guarded(Failure &failure, Fn &&fn) {
    try {
        fn();
        return Outcome::kOk;
    } catch (const DocumentError &e) {
        failure.kind = e.kind();
        failure.message = e.what();
        failure.detail = e.detail();
        return Outcome::kDocumentError;
    } catch (const std::bad_alloc &) {
        return Outcome::kOutOfMemory;
    } catch (const std::exception &e) {
        failure.message = e.what();
        return Outcome::kFailed;
    } catch (...) {
        failure.message = "unknown exception";
        return Outcome::kFailed;
    }
}

Outcome doc_text(const char *data, size_t len, const Limits &limits, std::string &out, Failure &failure) {
    return guarded(failure, [&] { out = rp::doc_text(data, len, limits); });
}

Outcome ocr_image(const char *data, size_t len, const Limits &limits, std::string &out, Failure &failure) {
    return guarded(failure, [&] { out = rp::ocr_image(data, len, limits); });
}

void *engine_new() {
    try {
        return new OcrEngine;
    } catch (...) {
        return nullptr;
    }
}

void engine_free(void *engine) {
    delete static_cast<OcrEngine *>(engine);
}

Outcome engine_read_gray(void *engine, const unsigned char *pixels, int width, int height, int bytes_per_line, int dpi,
                         std::string &out, Failure &failure) {
    return guarded(failure, [&] {
        out = static_cast<OcrEngine *>(engine)->read_gray(pixels, width, height, bytes_per_line, dpi);
    });
}

Outcome engine_read_pix(void *engine, Pix *pix, std::string &out, Failure &failure) {
    return guarded(failure, [&] { out = static_cast<OcrEngine *>(engine)->read_pix(pix); });
}

const Plugin kPlugin = {kVersion, sizeof(Limits), doc_text, ocr_image, engine_new, engine_free, engine_read_gray,
                        engine_read_pix};

}  // namespace
}  // namespace rp::heavy

extern "C" __attribute__((visibility("default"))) const rp::heavy::Plugin *rp_heavy_plugin_v1() {
    return &rp::heavy::kPlugin;
}
