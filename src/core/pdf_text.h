// PDF text and metadata through poppler-cpp.
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// Text of every page in reading order (pdf_layout.h: columns one after the other), pages
// separated by a form feed. Throws DocumentError.
std::string pdf_text(const char *data, size_t len, const Limits &limits);

// JSON object: pages, encrypted, locked, pdf_version, title, author, subject, keywords,
// creator, producer, creation_date, modification_date, linearized. A PDF that needs a
// password still answers (locked: true, pages: null) so callers can tell why text fails.
std::string pdf_info_json(const char *data, size_t len, const Limits &limits);

// True when data starts like a PDF (the header may sit anywhere in the first 1024 bytes).
bool looks_like_pdf(const char *data, size_t len);

}  // namespace rp
