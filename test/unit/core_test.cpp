// Unit tests of the document core, outside any server: ZIP defences, DOCX extraction, format
// detection and UTF-8 hygiene. Archives are built here with libzip so every case is visible.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../../src/core/document_error.h"
#include "../../src/core/document_format.h"
#include "../../src/core/document_text.h"
#include "../../src/core/docx_text.h"
#include "../../src/core/object_path.h"
#include "../../src/core/utf8_text.h"
#include "../../src/core/zip_reader.h"

namespace {

using rp::DocumentError;
using rp::ErrorKind;

struct Entry {
    std::string name;
    std::string data;
    bool symlink = false;
    bool stored = false;  // ZIP_CM_STORE: the bytes appear as they are inside the archive
};

// Builds a ZIP through a temporary file (libzip writes archives to files most simply).
std::string make_zip(const std::vector<Entry> &entries) {
    char path[] = "/tmp/rp-core-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int err = 0;
    zip_t *za = zip_open(path, ZIP_TRUNCATE, &err);
    for (const auto &e : entries) {
        if (!e.name.empty() && e.name.back() == '/') {
            zip_dir_add(za, e.name.c_str(), ZIP_FL_ENC_UTF_8);
            continue;
        }
        zip_source_t *src = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
        zip_int64_t i = zip_file_add(za, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
        if (e.symlink) zip_file_set_external_attributes(za, i, 0, ZIP_OPSYS_UNIX, 0120777u << 16);
        zip_set_file_compression(za, i, e.stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
    }
    zip_close(za);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::remove(path);
    return ss.str();
}

std::vector<rp::ZipEntry> entries_of(const std::string &zip, const rp::Limits &limits = {}) {
    rp::ZipArchive archive(zip.data(), zip.size(), limits);
    return archive.regular_files();
}

ErrorKind kind_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const DocumentError &e) {
        return e.kind();
    }
    ADD_FAILURE() << "no DocumentError was thrown";
    return ErrorKind::Corrupt;
}

std::string docx(const std::string &body_xml, const std::string &prolog = "") {
    return make_zip({{"word/document.xml",
                      prolog +
                          "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
                          "<w:body>" +
                          body_xml + "</w:body></w:document>"}});
}

std::string docx_text_of(const std::string &d) {
    return rp::docx_text(d.data(), d.size(), rp::Limits{});
}

}  // namespace

TEST(SafeEntryName, KeepsOrdinaryNamesAndNormalises) {
    EXPECT_EQ(rp::safe_entry_name("cv.pdf"), "cv.pdf");
    EXPECT_EQ(rp::safe_entry_name("./batch//cv.pdf"), "batch/cv.pdf");
    EXPECT_EQ(rp::safe_entry_name("batch\\2024\\cv.pdf"), "batch/2024/cv.pdf");
    EXPECT_EQ(rp::safe_entry_name("résumé.pdf"), "résumé.pdf");
    EXPECT_EQ(rp::safe_entry_name("...pdf"), "...pdf");  // dots that are not a ".." component
    EXPECT_EQ(rp::safe_entry_name("a/..b/c"), "a/..b/c");
}

TEST(SafeEntryName, RejectsEveryWayOut) {
    for (const char *bad : {"../x.pdf",
                            "a/../../etc/passwd",
                            "..",
                            "a/..",
                            "..\\..\\win.ini",
                            "/etc/passwd",
                            "\\server\\share",
                            "C:/autoexec.bat",
                            "c:evil",
                            "./C:/Windows/win.ini",
                            ".\\C:\\x",
                            "././x:",
                            "",
                            ".",
                            "./",
                            "a\x01.pdf",
                            "a\x7f.pdf",
                            "line\nbreak.pdf",
                            "bad\xff.pdf",
                            "\xc0\xaf.pdf"}) {
        EXPECT_EQ(kind_of([&] { rp::safe_entry_name(bad); }), ErrorKind::UnsafeName) << bad;
    }
}

TEST(Utf8, ValidatesStrictly) {
    EXPECT_TRUE(rp::is_valid_utf8("plain ascii"));
    EXPECT_TRUE(rp::is_valid_utf8("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(rp::is_valid_utf8("\xc0\x80"));          // overlong NUL
    EXPECT_FALSE(rp::is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(rp::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(rp::is_valid_utf8("\xe2\x82"));          // truncated
}

TEST(Utf8, SanitiseDropsNulAndReplacesInvalid) {
    EXPECT_EQ(rp::sanitize_utf8(std::string("a\0b", 3)), "ab");
    EXPECT_EQ(rp::sanitize_utf8("x\xffy"), "x\xef\xbf\xbdy");
    EXPECT_EQ(rp::sanitize_utf8("\xc3\xa9"), "\xc3\xa9");
}

TEST(ZipArchive, ListsRegularFilesOnly) {
    auto zip = make_zip({{"docs/", ""},
                         {"docs/cv.pdf", "%PDF-1.4 fake"},
                         {"link.pdf", "/etc/passwd", true},
                         {"inner.zip", make_zip({{"x.txt", "x"}})}});
    auto entries = entries_of(zip);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].name, "docs/cv.pdf");
    EXPECT_EQ(entries[0].data, "%PDF-1.4 fake");
    EXPECT_EQ(entries[1].name, "inner.zip");
    EXPECT_EQ(entries[1].data.substr(0, 2), "PK");  // nested archive returned, not opened
}

TEST(ZipArchive, RejectsTraversalBeforeReturningAnything) {
    auto zip = make_zip({{"ok.pdf", "fine"}, {"../../etc/passwd", "root:x:0:0"}});
    EXPECT_EQ(kind_of([&] { entries_of(zip); }), ErrorKind::UnsafeName);
}

TEST(ZipArchive, RatioBomb) {
    auto zip = make_zip({{"zeros.bin", std::string(8 << 20, '\0')}});
    EXPECT_EQ(kind_of([&] { entries_of(zip); }), ErrorKind::Limit);
    rp::Limits generous;
    generous.zip_max_ratio = 100000;
    EXPECT_EQ(entries_of(zip, generous).at(0).data.size(), size_t(8) << 20);
}

TEST(ZipArchive, SmallEntriesAreExemptFromTheRatio) {
    auto zip = make_zip({{"tiny.txt", std::string(100000, 'a')}});  // ~1000:1 but 100 kB
    EXPECT_EQ(entries_of(zip).at(0).data.size(), 100000u);
}

TEST(ZipArchive, EntryCountTotalSizeAndEntrySize) {
    std::vector<Entry> many;
    for (int i = 0; i < 20; ++i) many.push_back({"f" + std::to_string(i), "x"});
    rp::Limits limits;
    limits.zip_max_entries = 10;
    auto zip = make_zip(many);
    EXPECT_EQ(kind_of([&] { rp::ZipArchive(zip.data(), zip.size(), limits); }), ErrorKind::Limit);

    rp::Limits small;
    small.zip_max_total_size = 1000;
    auto two = make_zip({{"a", std::string(600, 'a')}, {"b", std::string(600, 'b')}});
    EXPECT_EQ(kind_of([&] { entries_of(two, small); }), ErrorKind::Limit);

    // An entry larger than max_file_size, in an archive that is itself small enough.
    auto big = make_zip({{"big", std::string(5000, 'x')}});
    rp::Limits tiny_file;
    tiny_file.max_file_size = 1000;
    ASSERT_LT(big.size(), 1000u);
    EXPECT_EQ(kind_of([&] { entries_of(big, tiny_file); }), ErrorKind::Limit);
}

TEST(ZipArchive, DamagedData) {
    auto zip = make_zip({{"a.txt", std::string(5000, 'q')}});
    EXPECT_EQ(kind_of([&] { entries_of(""); }), ErrorKind::Empty);
    EXPECT_EQ(kind_of([&] { entries_of(zip.substr(0, zip.size() / 2)); }), ErrorKind::Corrupt);
    std::string flipped = zip;
    flipped[40] ^= 0x55;  // inside the compressed data: CRC or inflate fails
    EXPECT_EQ(kind_of([&] { entries_of(flipped); }), ErrorKind::Corrupt);
}

TEST(DocxText, ParagraphsTabsBreaksAndNothingElse) {
    auto d = docx(
        "<w:p><w:r><w:t>Jane</w:t></w:r><w:r><w:t xml:space=\"preserve\"> Roe</w:t></w:r></w:p>"
        "<w:p/>"
        "<w:p><w:r><w:t>2020</w:t><w:tab/><w:t>Acme &amp; Co</w:t><w:br/><w:t>line two</w:t></w:r></w:p>"
        "<w:p><w:r><w:delText>deleted</w:delText><w:instrText>HYPERLINK x</w:instrText><w:t>kept</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>");
    EXPECT_EQ(docx_text_of(d), "Jane Roe\n\n2020\tAcme & Co\nline two\nkept\ncell");
}

TEST(DocxText, NoExternalEntitiesAndNoEntityBlowUp) {
    auto xxe = docx("<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>",
                    "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>");
    std::string text;
    try {
        text = docx_text_of(xxe);
    } catch (const DocumentError &) {
    }
    EXPECT_EQ(text.find("root:"), std::string::npos);

    // "Billion laughs": ten levels of ten references each.
    std::string lol = "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY e0 \"lol\">";
    for (int i = 1; i < 10; ++i) {
        std::string refs;
        for (int k = 0; k < 10; ++k) refs += "&e" + std::to_string(i - 1) + ";";
        lol += "<!ENTITY e" + std::to_string(i) + " \"" + refs + "\">";
    }
    lol += "]>";
    auto bomb = docx("<w:p><w:r><w:t>&e9;</w:t></w:r></w:p>", lol);
    try {
        EXPECT_LT(docx_text_of(bomb).size(), 1000000u);
    } catch (const DocumentError &) {
    }
}

TEST(DocxText, NotADocx) {
    auto zip = make_zip({{"readme.txt", "hello"}});
    EXPECT_EQ(kind_of([&] { docx_text_of(zip); }), ErrorKind::Corrupt);
    EXPECT_EQ(kind_of([&] { docx_text_of("plain text"); }), ErrorKind::Corrupt);
    EXPECT_EQ(kind_of([&] { docx_text_of(docx("<w:p><w:r><w:t>unclosed")); }), ErrorKind::Corrupt);
}

TEST(DocumentText, DetectsByContent) {
    rp::Limits l;
    auto text = [&](const std::string &s) { return rp::document_text(s.data(), s.size(), l); };
    EXPECT_EQ(text("plain r\xc3\xa9sum\xc3\xa9\n"), "plain r\xc3\xa9sum\xc3\xa9\n");
    EXPECT_EQ(text("\xef\xbb\xbfwith BOM"), "with BOM");
    EXPECT_EQ(text(docx("<w:p><w:r><w:t>from docx</w:t></w:r></w:p>")), "from docx");
    EXPECT_EQ(kind_of([&] { text(""); }), ErrorKind::Empty);
    EXPECT_EQ(kind_of([&] { text("Caf\xe9"); }), ErrorKind::BadEncoding);
    // Images are read by OCR now: a PNG signature with no header is a damaged image.
    EXPECT_EQ(kind_of([&] { text(std::string("\x89PNG\r\n\x1a\n\0\0", 10)); }), ErrorKind::Corrupt);
    EXPECT_EQ(kind_of([&] { text(std::string("\0\1\2\3binary", 10)); }), ErrorKind::Unsupported);
    EXPECT_EQ(kind_of([&] { text(make_zip({{"a.txt", "a"}})); }), ErrorKind::Unsupported);
    EXPECT_EQ(kind_of([&] { text("%PDF-1.7 not really"); }), ErrorKind::Corrupt);
    rp::Limits tiny;
    tiny.max_file_size = 4;
    EXPECT_EQ(kind_of([&] { rp::document_text("hello", 5, tiny); }), ErrorKind::Limit);
}

TEST(DocumentText, NamesWhatItFound) {
    EXPECT_EQ(rp::describe_binary_format("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8),
              "a legacy Microsoft Office (OLE2) file such as a .doc");
    EXPECT_EQ(rp::describe_binary_format("\xFF\xD8\xFF\xE0", 4), "a JPEG image");
    EXPECT_EQ(rp::describe_binary_format("hello", 5), "");
}

TEST(ObjectPath, StaysUnderTheRoot) {
    EXPECT_EQ(rp::object_relative_path("resumes", "u1/cv.pdf"), "resumes/u1/cv.pdf");
    EXPECT_EQ(rp::object_relative_path("my-bucket.2", "u1/batch/r\xc3\xa9sum\xc3\xa9.pdf"),
              "my-bucket.2/u1/batch/r\xc3\xa9sum\xc3\xa9.pdf");
    for (const char *bad : {"../etc/passwd", "u1/../../etc/passwd", "/etc/passwd", "u1//cv.pdf", "u1/./cv.pdf", "u1/",
                            "", "u1\\..\\x", "u1/a\x01.pdf", "u1/\xff.pdf", "u1/.."}) {
        EXPECT_EQ(kind_of([&] { rp::object_relative_path("resumes", bad); }), ErrorKind::UnsafeName) << bad;
    }
    for (const char *bad : {"", "..", ".", "Resumes", "a/b", "a b", "../x"}) {
        EXPECT_EQ(kind_of([&] { rp::object_relative_path(bad, "u1/cv.pdf"); }), ErrorKind::UnsafeName) << bad;
    }
    EXPECT_EQ(kind_of([&] { rp::object_relative_path("resumes", "u1/" + std::string(256, 'a')); }),
              ErrorKind::UnsafeName);
}

TEST(ObjectPath, RefusesNamesThatDisplayAsSomethingElse) {
    // Right-to-left override: "cv\u202Efdp.exe" is shown as "cvexe.pdf".
    for (const std::string bad : {"u1/cv\xe2\x80\xae" "fdp.exe", "u1/a\xe2\x80\x8b.pdf", "u1/\xef\xbb\xbf" "cv.pdf",
                                  "u1/cv\xc2\x85.pdf", "u1/x\xe2\x81\xa6.pdf", "u1/soft\xc2\xad" "hyphen.pdf"})
        EXPECT_EQ(kind_of([&] { rp::object_relative_path("resumes", bad); }), ErrorKind::UnsafeName) << bad;
    // Ordinary non-ASCII letters, CJK and emoji stay allowed.
    EXPECT_NO_THROW(rp::object_relative_path("resumes", "u1/Ren\xc3\xa9" "e \xe6\x9d\x8e \xf0\x9f\x93\x84.pdf"));
}

// ---- Format detection: containers first -------------------------------------------------------

namespace {

const std::string kTinyPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

rp::Format format_of(const std::string &bytes) {
    return rp::detect_format(bytes.data(), bytes.size(), rp::Limits{});
}

}  // namespace

TEST(Format, StoredZipOfPdfsIsAZipNotAPdf) {
    // %PDF- sits in the first kilobyte of such an archive (after a 30-byte local header).
    std::string zip = make_zip({{"a.pdf", kTinyPdf, false, true}, {"b.pdf", kTinyPdf, false, true}});
    ASSERT_NE(zip.substr(0, 1024).find("%PDF-"), std::string::npos);
    EXPECT_EQ(format_of(zip), rp::Format::Zip);
    EXPECT_EQ(rp::document_kind(zip.data(), zip.size(), rp::Limits{}), "zip");
}

TEST(Format, DeflatedAndMixedZipsAreZips) {
    EXPECT_EQ(format_of(make_zip({{"a.pdf", kTinyPdf}, {"b.pdf", kTinyPdf}})), rp::Format::Zip);
    EXPECT_EQ(format_of(make_zip({{"a.pdf", kTinyPdf, false, true}, {"b.pdf", kTinyPdf}})), rp::Format::Zip);
}

TEST(Format, StoredDocxAndOdtAreDecidedByTheirMembers) {
    EXPECT_EQ(format_of(make_zip({{"word/document.xml", "<w:document/>", false, true}})), rp::Format::Docx);
    EXPECT_EQ(format_of(make_zip({{"mimetype", "application/vnd.oasis.opendocument.text", false, true},
                                  {"content.xml", "<office:document-content/>"}})),
              rp::Format::Odt);
    // The mimetype decides: without content.xml it is a damaged ODT, for the ODT reader to say so.
    EXPECT_EQ(format_of(make_zip({{"mimetype", "application/vnd.oasis.opendocument.text", false, true}})),
              rp::Format::Odt);
    // A mimetype of another OpenDocument kind is not a text document.
    EXPECT_EQ(format_of(make_zip({{"mimetype", "application/vnd.oasis.opendocument.spreadsheet", false, true},
                                  {"content.xml", "<x/>"}})),
              rp::Format::Zip);
}

TEST(Format, SignaturesAtTheStartDecide) {
    EXPECT_EQ(format_of(kTinyPdf), rp::Format::Pdf);
    EXPECT_EQ(format_of(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + std::string(600, '\0')), rp::Format::Doc);
    EXPECT_EQ(format_of("{\\rtf1\\ansi Hello}"), rp::Format::Rtf);
    EXPECT_EQ(format_of(std::string("\x89PNG\r\n\x1a\n", 8) + "rest"), rp::Format::Png);
    EXPECT_EQ(format_of("\xFF\xD8\xFF\xE0 jpeg"), rp::Format::Jpeg);
    EXPECT_EQ(format_of(std::string("II*\0", 4) + "tiff"), rp::Format::Tiff);
    EXPECT_EQ(format_of("Jane Doe\njane@example.org\n"), rp::Format::Text);
    EXPECT_EQ(format_of(""), rp::Format::Empty);
}

TEST(Format, PdfAfterJunkIsStillAPdf) {
    EXPECT_EQ(format_of(std::string(100, '\x01') + kTinyPdf), rp::Format::Pdf);
}

TEST(Format, PdfZipPolyglotWithoutASignatureAtTheStartIsRefused) {
    // Junk, a PDF header in the first KB, and a ZIP directory at the end: both readers would
    // accept it. Neither is guessed.
    std::string zip = make_zip({{"x.txt", "x"}});
    std::string polyglot = std::string(16, '\x01') + kTinyPdf + zip;
    EXPECT_EQ(format_of(polyglot), rp::Format::Ambiguous);
    EXPECT_EQ(kind_of([&] { rp::document_text(polyglot.data(), polyglot.size(), rp::Limits{}); }),
              ErrorKind::Unsupported);
    // A PDF with an archive appended is a PDF: its signature is at the start.
    EXPECT_EQ(format_of(kTinyPdf + zip), rp::Format::Pdf);
    // An archive that starts as one is an archive, whatever PDF is inside or after it.
    EXPECT_EQ(format_of(zip + kTinyPdf), rp::Format::Zip);
}
