// DOCX text: the paragraphs of the main document part (word/document.xml), in order, one per line.
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

class ZipArchive;

// Throws DocumentError.
std::string docx_text(const char *data, size_t len, const Limits &limits);

// The same for an archive already opened (document_text has opened it to sniff it).
std::string docx_text(ZipArchive &archive, const Limits &limits);

// True when the archive holds a WordprocessingML main document.
bool is_docx(const ZipArchive &archive);

}  // namespace rp
