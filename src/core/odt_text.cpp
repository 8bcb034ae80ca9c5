// OpenDocument text (.odt): the paragraphs and headings of content.xml in document order, one per
// line, read from the ZIP through ZipArchive (zip-bomb limits) and libxml2's streaming reader with
// the same safe settings as DOCX (untrusted_xml_reader).
#include "odt_text.h"

#include <libxml/xmlreader.h>

#include <cstdlib>
#include <cstring>

#include "document_error.h"
#include "docx_text.h"
#include "utf8_text.h"
#include "zip_reader.h"

namespace rp {
namespace {

constexpr const char *kContent = "content.xml";
constexpr const char *kManifest = "META-INF/manifest.xml";
constexpr const char *kTextNs = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
constexpr const char *kOfficeNs = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
constexpr const char *kSvgNs = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0";
constexpr long kMaxSpaces = 1000;  // <text:s text:c="N"/>: more is padding, not text

bool is(xmlTextReaderPtr r, const char *ns, const char *local) {
    const xmlChar *uri = xmlTextReaderConstNamespaceUri(r);
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    return uri && name && std::strcmp(reinterpret_cast<const char *>(uri), ns) == 0 &&
           std::strcmp(reinterpret_cast<const char *>(name), local) == 0;
}

// Elements whose text is not the document's: comments, the old text of tracked changes, the
// descriptions of frames and images, the bullet text LibreOffice caches for lists.
bool skipped(xmlTextReaderPtr r) {
    return is(r, kOfficeNs, "annotation") || is(r, kOfficeNs, "annotation-end") || is(r, kTextNs, "tracked-changes") ||
           is(r, kTextNs, "note-citation") || is(r, kSvgNs, "title") || is(r, kSvgNs, "desc") ||
           is(r, kTextNs, "sequence-decls") || is(r, kTextNs, "variable-decls") || is(r, kTextNs, "user-field-decls");
}

long space_count(xmlTextReaderPtr r) {
    xmlChar *c = xmlTextReaderGetAttributeNs(r, reinterpret_cast<const xmlChar *>("c"),
                                             reinterpret_cast<const xmlChar *>(kTextNs));
    if (!c) return 1;
    char *end = nullptr;
    long n = std::strtol(reinterpret_cast<const char *>(c), &end, 10);
    xmlFree(c);
    if (n < 1) return 1;
    return n > kMaxSpaces ? kMaxSpaces : n;
}

class ContentReader {
public:
    std::string run(const std::string &xml) {
        // No base URL: libxml2 makes a relative one absolute with getcwd, which the sandbox forbids.
        XmlReader reader = untrusted_xml_reader(xml, nullptr, "ODT content.xml cannot be parsed as XML");
        xmlTextReaderPtr r = reader.get();
        int rc;
        int skip_depth = -1;  // depth of the element being skipped, or -1
        while ((rc = xmlTextReaderRead(r)) == 1) {
            const int type = xmlTextReaderNodeType(r);
            const int depth = xmlTextReaderDepth(r);
            if (skip_depth >= 0) {
                if (type == XML_READER_TYPE_END_ELEMENT && depth == skip_depth) skip_depth = -1;
                continue;
            }
            if (type == XML_READER_TYPE_ELEMENT) {
                const bool empty = xmlTextReaderIsEmptyElement(r);
                if (skipped(r)) {
                    if (!empty) skip_depth = depth;
                } else if (is(r, kTextNs, "p") || is(r, kTextNs, "h")) {
                    // A paragraph inside a paragraph (a text box, a footnote body) ends the
                    // line before it rather than running into it.
                    end_line();
                    if (empty)
                        out_ += '\n';
                    else
                        ++open_;
                } else if (is(r, kTextNs, "s")) {
                    if (open_) paragraph_.append(static_cast<size_t>(space_count(r)), ' ');
                } else if (is(r, kTextNs, "tab")) {
                    if (open_) paragraph_ += '\t';
                } else if (is(r, kTextNs, "line-break")) {
                    if (open_) paragraph_ += '\n';
                }
            } else if (type == XML_READER_TYPE_END_ELEMENT) {
                if ((is(r, kTextNs, "p") || is(r, kTextNs, "h")) && open_) {
                    --open_;
                    end_line();
                }
            } else if (open_ && (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                                 type == XML_READER_TYPE_CDATA)) {
                const xmlChar *v = xmlTextReaderConstValue(r);
                if (v) paragraph_ += reinterpret_cast<const char *>(v);
            }
        }
        if (rc != 0) throw DocumentError(ErrorKind::Corrupt, "ODT content.xml is not well-formed XML");
        end_line();
        while (!out_.empty() && out_.back() == '\n') out_.pop_back();
        return sanitize_utf8(out_);
    }

private:
    void end_line() {
        if (paragraph_.empty()) return;
        out_ += paragraph_;
        out_ += '\n';
        paragraph_.clear();
    }

    std::string out_;
    std::string paragraph_;
    int open_ = 0;  // text:p / text:h elements open
};

}  // namespace

std::string odt_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "ODT");
    if (!looks_like_zip(data, len))
        throw DocumentError(ErrorKind::Corrupt, "not an ODT: the data is not a ZIP archive");
    ZipArchive archive(data, len, limits);
    // An encrypted package lists its cipher in the manifest; content.xml is then ciphertext.
    if (archive.has_member(kManifest) &&
        archive.read_member(kManifest, limits.zip_max_total_size).find("encryption-data") != std::string::npos)
        throw DocumentError(ErrorKind::Encrypted, "ODT is encrypted: it needs a password to open",
                            "Save it without a password and upload it again.");
    if (!archive.has_member(kContent))
        throw DocumentError(ErrorKind::Corrupt, "ODT is damaged: the archive has no content.xml");
    // Bounded like every member of an upload: by the archive's total size limit (and its ratio).
    return ContentReader().run(archive.read_member(kContent, limits.zip_max_total_size));
}

}  // namespace rp
