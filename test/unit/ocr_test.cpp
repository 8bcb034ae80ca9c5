// Unit tests of OCR's limits, outside any server: every one is decided from the image's header
// before a pixel is decoded or Tesseract loads, so these run in milliseconds.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "../../src/core/document_error.h"
#include "../../src/core/document_text.h"
#include "../../src/core/ocr.h"

namespace {

using rp::DocumentError;
using rp::ErrorKind;

std::string be32(uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// A PNG signature, an IHDR declaring w × h 8-bit grey pixels (the CRC is not checked by a
// header read) and an IEND: no pixel data at all.
std::string png_header(uint32_t w, uint32_t h) {
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(w) + be32(h) + std::string{8, 0, 0, 0, 0} +
           be32(0) + be32(0) + "IEND" + be32(0xAE426082u);
}

ErrorKind kind_of(const std::string &data, const rp::Limits &limits) {
    try {
        rp::document_text(data.data(), data.size(), limits);
    } catch (const DocumentError &e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error";
    return ErrorKind::Empty;
}

TEST(Ocr, PixelBombIsALimitErrorBeforeDecoding) {
    EXPECT_EQ(kind_of(png_header(100000, 100000), rp::Limits{}), ErrorKind::Limit);
}

TEST(Ocr, PixelCapIsTheSetting) {
    rp::Limits small;
    small.ocr_max_pixels = 1000;
    EXPECT_EQ(kind_of(png_header(40, 30), small), ErrorKind::Limit);
    EXPECT_NO_THROW(rp::check_ocr_pixels(40, 25, small, "x"));
}

TEST(Ocr, ImageWithOcrOffIsUnsupported) {
    rp::Limits off;
    off.ocr = false;
    EXPECT_EQ(kind_of(png_header(100, 100), off), ErrorKind::Unsupported);
}

TEST(Ocr, TruncatedPngIsCorrupt) {
    EXPECT_EQ(kind_of(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), rp::Limits{}), ErrorKind::Corrupt);
}

}  // namespace
