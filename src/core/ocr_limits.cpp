// The parts of OCR (ocr.h) that need no Tesseract: where its language data is, and the size check
// every page or image passes before anything is decoded or rendered. Kept apart from ocr.cpp so
// the parser's zygote, which does not link Tesseract (src/helper/heavy_plugin.h), has them.
#include <cmath>
#include <cstdint>

#include "document_error.h"
#include "ocr.h"

#ifndef RP_TESSDATA_DIR
#define RP_TESSDATA_DIR "/usr/share/tesseract-ocr/5/tessdata"
#endif

namespace rp {
namespace {

std::string megapixels(uint64_t pixels) {
    if (pixels % 1000000 == 0) return std::to_string(pixels / 1000000) + " million";
    return std::to_string(pixels);
}

}  // namespace

const char *ocr_data_dir() {
    return RP_TESSDATA_DIR;
}

void check_ocr_pixels(double width, double height, const Limits &limits, const std::string &what) {
    const double pixels = std::fabs(width) * std::fabs(height);
    if (!(pixels <= static_cast<double>(limits.ocr_max_pixels)))
        throw DocumentError(ErrorKind::Limit,
                            what + " is " + std::to_string(static_cast<uint64_t>(std::fabs(width))) + " × " +
                                std::to_string(static_cast<uint64_t>(std::fabs(height))) +
                                " pixels, more than resume_pipeline.ocr_max_megapixels (" +
                                megapixels(limits.ocr_max_pixels) + ")",
                            "Nothing was decoded. Raise resume_pipeline.ocr_max_megapixels (or lower "
                            "resume_pipeline.ocr_dpi for PDF pages) if such documents are expected.");
}

}  // namespace rp
