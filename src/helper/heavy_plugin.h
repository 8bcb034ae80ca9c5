// The interface between resume_pipeline_parser and resume_pipeline_parser_heavy.so, the plugin
// that holds the readers whose libraries few documents need: OCR (Tesseract, Leptonica) and Word
// 97-2003 .doc (libwv, libgsf), with the fifty-odd shared libraries they pull in. Linked into the
// zygote, those libraries made every document process's fork and exit copy and tear down their
// mappings; as a plugin they are mapped only by the document process that reads a scan, an image
// or a .doc (heavy_client.cpp loads it; heavy_plugin.cpp is its side).
//
// Both sides come from the same build and are installed together, so the table may use C++
// types; the version and sizeof(Limits) catch a plugin left over from another build. No exception
// crosses the boundary: the plugin catches everything and hands back what it caught (Failure),
// and the parser's side throws it again.
#pragma once

#include <cstddef>
#include <string>

#include "../core/document_error.h"
#include "../core/limits.h"

struct Pix;

namespace rp::heavy {

// The plugin's file name; the parser looks for it in its own directory (make install puts both
// in PostgreSQL's bindir).
constexpr const char *kPluginName = "resume_pipeline_parser_heavy.so";
// The exported entry point: returns the plugin's table.
constexpr const char *kEntryPoint = "rp_heavy_plugin_v1";
constexpr int kVersion = 1;

enum class Outcome : int { kOk, kDocumentError, kOutOfMemory, kFailed };

// What a call that did not return kOk threw.
struct Failure {
    ErrorKind kind = ErrorKind::Corrupt;  // of a DocumentError
    std::string message;
    std::string detail;
};

struct Plugin {
    int version;          // kVersion
    size_t limits_size;   // sizeof(rp::Limits) in the plugin's build
    // rp::doc_text and rp::ocr_image (doc_text.h, ocr.h): the text in `out`.
    Outcome (*doc_text)(const char *data, size_t len, const Limits &limits, std::string &out, Failure &failure);
    Outcome (*ocr_image)(const char *data, size_t len, const Limits &limits, std::string &out, Failure &failure);
    // An rp::OcrEngine (ocr.h) and its two readers.
    void *(*engine_new)();
    void (*engine_free)(void *engine);
    Outcome (*engine_read_gray)(void *engine, const unsigned char *pixels, int width, int height, int bytes_per_line,
                                int dpi, std::string &out, Failure &failure);
    Outcome (*engine_read_pix)(void *engine, Pix *pix, std::string &out, Failure &failure);
};

using EntryPoint = const Plugin *(*)();

}  // namespace rp::heavy
