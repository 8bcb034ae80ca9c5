// Text of a document whose format is found from its bytes, never from its name.
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// By the format detect_format() finds: PDF → pdf_text, DOCX → docx_text, ODT → odt_text,
// DOC → doc_text, RTF → rtf_text, PNG/JPEG/TIFF → image_text (OCR), UTF-8 text → itself (BOM
// dropped). Anything else throws DocumentError naming what was found ("a ZIP archive that is not
// a DOCX or ODT", a polyglot, ...).
std::string document_text(const char *data, size_t len, const Limits &limits);

// What the bytes are, for routing an upload: format_name(detect_format()), see document_format.h.
// Never throws for bad data.
std::string document_kind(const char *data, size_t len, const Limits &limits);

// A short human name for well-known binary formats, or "" when the bytes are not recognised.
std::string describe_binary_format(const char *data, size_t len);

}  // namespace rp
