// DOCX text: the paragraphs of the main document part (word/document.xml), in order, one per line.
#pragma once
#include "no_postgres.h"

#include <memory>
#include <string>

#include "limits.h"

struct _xmlTextReader;

namespace rp {

class ZipArchive;

// Throws DocumentError.
std::string docx_text(const char *data, size_t len, const Limits &limits);

// The same for an archive already opened (document_text has opened it to sniff it).
std::string docx_text(ZipArchive &archive, const Limits &limits);

// True when the archive holds a WordprocessingML main document.
bool is_docx(const ZipArchive &archive);

// libxml2's streaming reader over an untrusted XML part (DOCX, ODT): no network, no DTD loading,
// no entity substitution, errors silenced. Throws DocumentError(Corrupt, failure) if it cannot
// start. A read that returns -1 means the XML is not well-formed.
struct XmlReaderDeleter {
    void operator()(_xmlTextReader *reader) const;
};
using XmlReader = std::unique_ptr<_xmlTextReader, XmlReaderDeleter>;
XmlReader untrusted_xml_reader(const std::string &xml, const char *url, const char *failure);

}  // namespace rp
