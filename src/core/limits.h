// Limits applied to untrusted documents. Values come from the resume_pipeline.* settings; the
// defaults here match the documented defaults so the core can be used on its own.
#pragma once
#include "no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace rp {

struct Limits {
    uint64_t max_file_size = 50ull << 20;        // resume_pipeline.max_file_size
    uint64_t zip_max_entries = 1000;             // resume_pipeline.zip_max_entries
    uint64_t zip_max_total_size = 256ull << 20;  // resume_pipeline.zip_max_total_size
    uint64_t zip_max_ratio = 100;                // resume_pipeline.zip_max_ratio
};

// Entries smaller than this are exempt from the ratio check: tiny files of repeated bytes
// legitimately compress far better than any real bomb threshold.
constexpr uint64_t kRatioCheckFloor = 1ull << 20;

// Throws DocumentError(Empty / Limit) when a document cannot be accepted by size alone.
void check_document_size(size_t len, const Limits &limits, const char *what);

std::string format_bytes(uint64_t n);

}  // namespace rp
