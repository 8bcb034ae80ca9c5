// OCR with Tesseract: image documents (PNG, JPEG, TIFF, decoded by Leptonica) and PDF pages
// rendered by poppler (see ocr.cpp). Every size is checked before a pixel is decoded.
#pragma once
#include "no_postgres.h"

#include <memory>
#include <string>

#include "limits.h"

struct Pix;  // Leptonica's image

namespace rp {

// Tesseract's language data; the parser's sandbox lets it read this directory and no other.
const char *ocr_data_dir();

// Throws DocumentError(Limit) when a page or image of width × height pixels is over
// limits.ocr_max_pixels. `what` names it in the message ("page 3", "the PNG image").
void check_ocr_pixels(double width, double height, const Limits &limits, const std::string &what);

// One Tesseract for the pages of one document: the language data is loaded at the first page
// (that costs more than reading a small page) and kept for the next ones.
class OcrEngine {
public:
    OcrEngine();
    ~OcrEngine();
    OcrEngine(const OcrEngine &) = delete;
    OcrEngine &operator=(const OcrEngine &) = delete;

    // Text of an 8-bit grey image, rows of bytes_per_line bytes, scanned at dpi.
    std::string read_gray(const unsigned char *pixels, int width, int height, int bytes_per_line, int dpi);

    // Text of a decoded image; its own resolution is used when it declares a plausible one.
    std::string read_pix(Pix *pix);

    struct State;

private:
    std::unique_ptr<State> state_;
};

// Text of a PNG, JPEG or TIFF (every page of a TIFF, at most limits.ocr_max_pages), pages
// separated by a form feed. Throws DocumentError: Unsupported with OCR off, Limit for too many
// pixels or pages, Corrupt for an image that cannot be decoded.
std::string ocr_image(const char *data, size_t len, const Limits &limits);

}  // namespace rp
