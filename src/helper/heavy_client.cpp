// OCR and Word 97-2003 for the parser binary, from resume_pipeline_parser_heavy.so (see
// heavy_plugin.h for why they are a plugin). The zygote never loads it: a document process
// loads it the first time its document needs OCR (an image, a PDF page without a text layer)
// or is a .doc, already inside its sandbox. That works because loading a library needs only what
// the document filter allows anyway (openat read-only, read, fstat, mmap, mprotect, close) plus
// what the libraries' constructors ask on loading, which the filter answers narrowly (see
// allow_document_work in sandbox.cpp), and Landlock lets the sandbox read the plugin, the
// loader's cache and the system's library directory (public, read-only files).
//
// A plugin that is missing, unreadable or from another build is an error of that document
// (XX000, naming the file and the reason), never a crash; documents that need neither OCR nor
// .doc are not affected.
#include "heavy_client.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "../core/doc_text.h"
#include "../core/ocr.h"
#include "heavy_plugin.h"

namespace rp {
namespace heavy {
namespace {

char path[PATH_MAX];
const Plugin *loaded = nullptr;

const Plugin &plugin() {
    if (loaded) return *loaded;
    if (!path[0])
        throw std::runtime_error(std::string("OCR and Word .doc need ") + kPluginName +
                                 ", and the parser could not tell where it is installed");
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        throw std::runtime_error(std::string("OCR and Word .doc need the parser's plugin, which could not be loaded (") +
                                 (why ? why : path) + "); make install puts it next to resume_pipeline_parser");
    }
    auto entry = reinterpret_cast<EntryPoint>(dlsym(handle, kEntryPoint));
    const Plugin *p = entry ? entry() : nullptr;
    if (!p || p->version != kVersion || p->limits_size != sizeof(Limits))
        throw std::runtime_error(std::string("OCR and Word .doc need the parser's plugin, but ") + path +
                                 " is from another build of resume_pipeline; install both from the same one");
    loaded = p;
    return *p;
}

// The result of a plugin call, or what it caught thrown again on this side.
std::string result(Outcome outcome, std::string &out, const Failure &failure) {
    switch (outcome) {
        case Outcome::kOk:
            return std::move(out);
        case Outcome::kDocumentError:
            throw DocumentError(failure.kind, failure.message, failure.detail);
        case Outcome::kOutOfMemory:
            throw std::bad_alloc();
        case Outcome::kFailed:
            break;
    }
    throw std::runtime_error(failure.message);
}

}  // namespace

void locate_plugin() {
    char exe[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    const char *slash = std::strrchr(exe, '/');
    if (!slash) return;
    const std::string p = std::string(exe, static_cast<size_t>(slash + 1 - exe)) + kPluginName;
    if (p.size() < sizeof path) std::memcpy(path, p.c_str(), p.size() + 1);
}

const char *plugin_path() {
    return path;
}

}  // namespace heavy

struct OcrEngine::State {
    void *engine = nullptr;
};

// The plugin is loaded here, before the caller renders the first page, so a missing one fails
// the document at once.
OcrEngine::OcrEngine() : state_(new State) {
    state_->engine = heavy::plugin().engine_new();
    if (!state_->engine) throw std::bad_alloc();
}

OcrEngine::~OcrEngine() {
    if (state_->engine) heavy::plugin().engine_free(state_->engine);
}

std::string OcrEngine::read_gray(const unsigned char *pixels, int width, int height, int bytes_per_line, int dpi) {
    std::string out;
    heavy::Failure failure;
    return heavy::result(
        heavy::plugin().engine_read_gray(state_->engine, pixels, width, height, bytes_per_line, dpi, out, failure),
        out, failure);
}

std::string OcrEngine::read_pix(Pix *pix) {
    std::string out;
    heavy::Failure failure;
    return heavy::result(heavy::plugin().engine_read_pix(state_->engine, pix, out, failure), out, failure);
}

std::string ocr_image(const char *data, size_t len, const Limits &limits) {
    std::string out;
    heavy::Failure failure;
    return heavy::result(heavy::plugin().ocr_image(data, len, limits, out, failure), out, failure);
}

std::string doc_text(const char *data, size_t len, const Limits &limits) {
    std::string out;
    heavy::Failure failure;
    return heavy::result(heavy::plugin().doc_text(data, len, limits, out, failure), out, failure);
}

}  // namespace rp
