#include "docx_text.h"

#include <libxml/xmlreader.h>

#include <cstring>
#include <memory>

#include "document_error.h"
#include "utf8_text.h"
#include "zip_reader.h"

namespace rp {
namespace {

constexpr const char *kMainPart = "word/document.xml";
constexpr const char *kWordNs = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

void ignore_xml_error(void *, xmlErrorPtr) {}

bool is_word(xmlTextReaderPtr r, const char *local) {
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    return ns && name && std::strcmp(reinterpret_cast<const char *>(ns), kWordNs) == 0 &&
           std::strcmp(reinterpret_cast<const char *>(name), local) == 0;
}

// Walks WordprocessingML with libxml2's streaming reader. No network, no external entities,
// no DTD loading: a DOCX is untrusted input. Text comes only from w:t (so deleted text and
// field codes stay out); w:tab, w:br and w:cr keep their meaning; each w:p ends a line.
std::string paragraphs_from_xml(const std::string &xml) {
    XmlReader reader = untrusted_xml_reader(xml, kMainPart, "DOCX main document cannot be parsed as XML");
    std::string out;
    std::string paragraph;
    int text_depth = -1;  // depth of the open w:t element, or -1
    int rc;
    while ((rc = xmlTextReaderRead(reader.get())) == 1) {
        const int type = xmlTextReaderNodeType(reader.get());
        const int depth = xmlTextReaderDepth(reader.get());
        if (type == XML_READER_TYPE_ELEMENT) {
            const bool empty = xmlTextReaderIsEmptyElement(reader.get());
            if (is_word(reader.get(), "t")) {
                if (!empty) text_depth = depth;
            } else if (is_word(reader.get(), "tab")) {
                paragraph += '\t';
            } else if (is_word(reader.get(), "br") || is_word(reader.get(), "cr")) {
                paragraph += '\n';
            } else if (is_word(reader.get(), "p") && empty) {
                out += "\n";
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (text_depth == depth && is_word(reader.get(), "t")) {
                text_depth = -1;
            } else if (is_word(reader.get(), "p")) {
                out += paragraph;
                out += '\n';
                paragraph.clear();
            }
        } else if (text_depth >= 0 && (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                                       type == XML_READER_TYPE_CDATA || type == XML_READER_TYPE_WHITESPACE)) {
            const xmlChar *v = xmlTextReaderConstValue(reader.get());
            if (v) paragraph += reinterpret_cast<const char *>(v);
        }
    }
    if (rc != 0) throw DocumentError(ErrorKind::Corrupt, "DOCX main document is not well-formed XML");
    out += paragraph;  // text outside any paragraph, if a producer wrote some
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return sanitize_utf8(out);
}

}  // namespace

void XmlReaderDeleter::operator()(_xmlTextReader *reader) const {
    xmlFreeTextReader(reader);
}

XmlReader untrusted_xml_reader(const std::string &xml, const char *url, const char *failure) {
    XmlReader reader(xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()), url, nullptr,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!reader) throw DocumentError(ErrorKind::Corrupt, failure);
    xmlTextReaderSetStructuredErrorHandler(reader.get(), ignore_xml_error, nullptr);
    return reader;
}

bool is_docx(const ZipArchive &archive) {
    return archive.has_member(kMainPart);
}

std::string docx_text(ZipArchive &archive, const Limits &limits) {
    if (!is_docx(archive))
        throw DocumentError(ErrorKind::Corrupt, "not a DOCX: the ZIP archive has no word/document.xml");
    // The XML of a document is far larger than its text but bounded by the same budget as a
    // ZIP's contents.
    return paragraphs_from_xml(archive.read_member(kMainPart, limits.zip_max_total_size));
}

std::string docx_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "DOCX");
    if (!looks_like_zip(data, len))
        throw DocumentError(ErrorKind::Corrupt, "not a DOCX: the data is not a ZIP archive");
    ZipArchive archive(data, len, limits);
    return docx_text(archive, limits);
}

}  // namespace rp
