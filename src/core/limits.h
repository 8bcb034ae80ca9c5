// Limits applied to untrusted documents. Values come from the resume_pipeline.* settings; the
// defaults here match the documented defaults so the core can be used on its own.
#pragma once
#include "no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rp {

// What a read did by OCR, for callers that record where text came from (the helper's response
// flag, the résumé's text_source).
struct OcrReport {
    std::vector<int> pdf_pages;  // 1-based pages of a PDF read by OCR
    int images = 0;              // image documents (PNG, JPEG, TIFF) read by OCR
    bool any() const { return images > 0 || !pdf_pages.empty(); }
};

struct Limits {
    uint64_t max_file_size = 50ull << 20;        // resume_pipeline.max_file_size
    uint64_t zip_max_entries = 1000;             // resume_pipeline.zip_max_entries
    uint64_t zip_max_total_size = 256ull << 20;  // resume_pipeline.zip_max_total_size
    uint64_t zip_max_ratio = 100;                // resume_pipeline.zip_max_ratio
    bool ocr = true;                             // resume_pipeline.ocr: read images and scanned pages
    uint32_t ocr_dpi = 300;                      // resume_pipeline.ocr_dpi: rendering of PDF pages
    uint64_t ocr_max_pages = 10;                 // resume_pipeline.ocr_max_pages: per document
    uint64_t ocr_max_pixels = 40000000;          // resume_pipeline.ocr_max_megapixels: per page or image
    OcrReport *ocr_report = nullptr;             // filled when not null
};

// Entries smaller than this are exempt from the ratio check: tiny files of repeated bytes
// legitimately compress far better than any real bomb threshold.
constexpr uint64_t kRatioCheckFloor = 1ull << 20;

// Throws DocumentError(Empty / Limit) when a document cannot be accepted by size alone.
void check_document_size(size_t len, const Limits &limits, const char *what);

std::string format_bytes(uint64_t n);

}  // namespace rp
