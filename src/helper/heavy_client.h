// The parser's side of the heavy plugin (heavy_client.cpp): rp::OcrEngine, rp::ocr_image and
// rp::doc_text (src/core/ocr.h, doc_text.h) for the parser binary, which does not link Tesseract,
// Leptonica, libwv or libgsf but loads resume_pipeline_parser_heavy.so when a document needs them.
#pragma once

namespace rp::heavy {

// Once in the zygote, before the sandbox: the plugin is looked for next to this executable.
void locate_plugin();

// Its path, or an empty string if the executable's own could not be read.
const char *plugin_path();

}  // namespace rp::heavy
