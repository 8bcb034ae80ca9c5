// What an uploaded file is, from its bytes alone (never its name or a client's type), for
// routing it: a container is decided before anything is searched inside it.
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

enum class Format {
    Empty,
    Pdf,        // %PDF- at the start (or within the first KB after junk, as PDF readers accept)
    Docx,       // a ZIP with word/document.xml
    Odt,        // a ZIP whose mimetype member says application/vnd.oasis.opendocument.text
    Zip,        // any other ZIP archive (or one too damaged to look inside)
    Doc,        // an OLE2 compound file (Word 97–2003)
    Rtf,        // {\rtf
    Png,
    Jpeg,
    Tiff,
    Text,       // UTF-8 text
    Ambiguous,  // a polyglot that is two formats with no signature at the start: refused
    Other,
};

// The rule, in order:
//  1. a signature at offset 0 decides (a ZIP local header, %PDF-, OLE2, {\rtf, PNG, JPEG, TIFF);
//     a ZIP is then classified by its members, so a ZIP of stored PDFs is a ZIP even though
//     "%PDF-" appears in its first kilobyte;
//  2. otherwise "%PDF-" within the first KB means a PDF, unless the file also ends with a ZIP
//     directory: then it is Ambiguous, and refused rather than guessed;
//  3. otherwise UTF-8 text, or Other.
// Never throws for bad data.
Format detect_format(const char *data, size_t len, const Limits &limits);

// "pdf", "docx", "odt", "zip", "doc", "rtf", "png", "jpeg", "tiff", "text", "ambiguous", "other"
// ("other" for Empty too): what document_kind() returns.
const char *format_name(Format format);

// Whether the format is a résumé the pipeline reads (PDF, Word, OpenDocument, RTF, images).
bool is_resume_format(Format format);

}  // namespace rp
