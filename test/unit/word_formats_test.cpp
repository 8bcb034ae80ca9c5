// Unit tests of the Word-family readers outside any server: the RTF reader's tricky cases (\uN
// and \ucN, code pages, destinations, fields, \bin, nesting and damage), and the ODT and .doc
// readers on the committed samples in test/data/word.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../../src/core/doc_text.h"
#include "../../src/core/document_error.h"
#include "../../src/core/odt_text.h"
#include "../../src/core/rtf_text.h"

namespace {

using rp::DocumentError;
using rp::ErrorKind;

std::string rtf(const std::string &s) {
    return rp::rtf_text(s.data(), s.size(), rp::Limits{});
}

ErrorKind rtf_error(const std::string &s) {
    try {
        rtf(s);
    } catch (const DocumentError &e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error for " << s;
    return ErrorKind::Empty;
}

std::string sample(const std::string &name) {
    // make unit runs the tests from the repository root.
    std::ifstream f("test/data/word/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TEST(Rtf, UnicodeSkipsItsFallbackCharactersByTheCurrentUcCount) {
    EXPECT_EQ(rtf("{\\rtf1 caf\\u233?s}"), "cafés");
    EXPECT_EQ(rtf("{\\rtf1\\uc2 \\u1046\\'3f\\'3fX}"), "ЖX");
    EXPECT_EQ(rtf("{\\rtf1\\uc0 \\u1046 X}"), "ЖX");
    // \ucN is scoped to its group; the outer count comes back after '}'.
    EXPECT_EQ(rtf("{\\rtf1 {\\uc3 \\u1046abc}\\u1046?d}"), "ЖЖd");
    // A fallback character never crosses a group boundary.
    EXPECT_EQ(rtf("{\\rtf1\\uc2 \\u1046?{x}}"), "Жx");
    // A control word counts as one fallback character.
    EXPECT_EQ(rtf("{\\rtf1 \\u1046\\'e0b}"), "Жb");
}

TEST(Rtf, NegativeUnicodeAndSurrogatePairs) {
    EXPECT_EQ(rtf("{\\rtf1 \\u-4064?}"), "\xEF\x80\xA0");                // U+F020
    EXPECT_EQ(rtf("{\\rtf1 \\u-10179?\\u-8704?}"), "\xF0\x9F\x98\x80");  // U+1F600
    EXPECT_EQ(rtf("{\\rtf1 \\u-10179?x}"), "\xEF\xBF\xBDx");             // a lone high surrogate
}

TEST(Rtf, HexEscapesUseTheDocumentOrFontCodePage) {
    EXPECT_EQ(rtf("{\\rtf1\\ansi caf\\'e9}"), "café");
    EXPECT_EQ(rtf("{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8}"), "При");
    EXPECT_EQ(rtf("{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset238 Arial CE;}}\\f1 \\'a3\\'f3d\\'9f\\f0 \\'e9}"),
              "Łódźé");
    EXPECT_EQ(rtf("{\\rtf1\\mac \\'8e}"), "é");
    // \plain goes back to the default font's code page.
    EXPECT_EQ(rtf("{\\rtf1\\deff0{\\fonttbl{\\f0 A;}{\\f1\\fcharset204 B;}}\\f1\\'c0\\plain\\'c0}"), "АÀ");
    // An unknown code page shows U+FFFD rather than guessing.
    EXPECT_EQ(rtf("{\\rtf1\\ansicpg932 a\\'82b}"),
              "a\xEF\xBF\xBD"
              "b");
}

TEST(Rtf, SkippedDestinationsLeaveNoText) {
    EXPECT_EQ(rtf("{\\rtf1{\\fonttbl{\\f0 Times;}}{\\colortbl;\\red0;}{\\stylesheet{\\s0 Normal;}}"
                  "{\\info{\\title T}{\\author A}}{\\header H}{\\footer F}{\\*\\generator G;}body}"),
              "body");
    EXPECT_EQ(rtf("{\\rtf1 a{\\pict\\pngblip 89504e47}b{\\*\\unknown x}c}"), "abc");
}

TEST(Rtf, FieldsKeepTheirResultAndDropTheirCode) {
    EXPECT_EQ(rtf("{\\rtf1 mail {\\field{\\*\\fldinst HYPERLINK \"mailto:a@b.c\"}{\\fldrslt a@b.c}} now}"),
              "mail a@b.c now");
    EXPECT_EQ(rtf("{\\rtf1{\\object{\\*\\objdata 0102}{\\result shown}}}"), "shown");
    EXPECT_EQ(rtf("{\\rtf1 A{\\*\\shpinst{\\sp{\\sn x}{\\sv y}}{\\shptxt box}}B}"), "AboxB");
}

TEST(Rtf, BreaksTabsCellsAndSymbols) {
    EXPECT_EQ(rtf("{\\rtf1 a\\par b\\line c\\tab d}"), "a\nb\nc\td");
    EXPECT_EQ(rtf("{\\rtf1 x\\cell y\\cell\\row z}"), "x\ty\nz");
    EXPECT_EQ(rtf("{\\rtf1 \\{\\}\\\\\\~\\emdash\\endash\\bullet\\lquote\\rquote}"),
              "{}\\\xC2\xA0\xE2\x80\x94\xE2\x80\x93\xE2\x80\xA2\xE2\x80\x98\xE2\x80\x99");
    EXPECT_EQ(rtf("{\\rtf1 a\r\nb\\\nc}"), "ab\nc");  // file line breaks are not text; \<newline> is \par
}

TEST(Rtf, BinaryDataIsSkippedAsBytes) {
    EXPECT_EQ(rtf(std::string("{\\rtf1 a{\\pict\\bin4 {}\\\0}b}", 27)), "ab");
    EXPECT_EQ(rtf_error("{\\rtf1 a\\bin999 xy}"), ErrorKind::Corrupt);
}

TEST(Rtf, DamageAndLimitsAreClearErrors) {
    EXPECT_EQ(rtf_error("not rtf"), ErrorKind::Corrupt);
    EXPECT_EQ(rtf_error(""), ErrorKind::Empty);
    EXPECT_EQ(rtf_error("{\\rtf1 open {group"), ErrorKind::Corrupt);
    EXPECT_EQ(rtf_error("{\\rtf1 x}}"), ErrorKind::Corrupt);
    EXPECT_EQ(rtf_error("{\\rtf1 x\\"), ErrorKind::Corrupt);
    EXPECT_EQ(rtf_error("{\\rtf1 \\'4"), ErrorKind::Corrupt);
    EXPECT_EQ(rtf_error("{\\rtf1 \\" + std::string(40, 'a') + " x}"), ErrorKind::Corrupt);
    // Deep nesting is refused without recursion, whatever the depth.
    EXPECT_EQ(rtf_error("{\\rtf1 " + std::string(1000000, '{') + std::string(1000000, '}') + "}"), ErrorKind::Limit);
    // Output is bounded by the file size limit.
    rp::Limits small;
    small.max_file_size = 64;
    std::string big = "{\\rtf1 " + std::string(30, 'x');
    for (int i = 0; i < 30; ++i) big += "\\u1046?";
    big += "}";
    try {
        rp::rtf_text(big.data(), big.size(), small);
        ADD_FAILURE() << "no limit error";
    } catch (const DocumentError &e) {
        EXPECT_EQ(e.kind(), ErrorKind::Limit);
    }
}

TEST(Rtf, TextAfterTheDocumentAndHugeParametersAreHarmless) {
    EXPECT_EQ(rtf("{\\rtf1 a}\r\n{junk}"), "a");
    // Parameters are clamped: \uc to 64 (so "b" is a fallback character), \u to 16 bits.
    EXPECT_EQ(rtf("{\\rtf1\\uc99999999999999 \\u99999999999999 b}"), "\xEF\xBF\xBF");
    EXPECT_EQ(rtf("{\\rtf1 \\'zzb}"), "b");
}

TEST(Odt, SamplesGiveParagraphsInOrder) {
    const std::string d = sample("cv_ada.odt");
    const std::string text = rp::odt_text(d.data(), d.size(), rp::Limits{});
    EXPECT_EQ(text.rfind("Ada Whitfield\nData Engineer", 0), 0u) << text;
    EXPECT_NE(text.find("ada.whitfield@example.com"), std::string::npos);
    EXPECT_NE(text.find("Café Numérique Ltd — 2019 to present"), std::string::npos);
}

TEST(Doc, SamplesGiveTextWithFieldResultsNotCodes) {
    for (const char *name : {"cv_ada.doc", "cv_lukasz.doc"}) {
        const std::string d = sample(name);
        const std::string text = rp::doc_text(d.data(), d.size(), rp::Limits{});
        EXPECT_EQ(text.find("HYPERLINK"), std::string::npos) << text;
        EXPECT_TRUE(text.find("ada.whitfield@example.com") != std::string::npos ||
                    text.find("Работал с PostgreSQL и Go.") != std::string::npos)
            << text;
    }
}

TEST(Doc, NotOle2AndTruncatedAreCorrupt) {
    const std::string d = sample("cv_ada.doc");
    for (size_t cut : {size_t{7}, size_t{600}, size_t{6000}}) {
        try {
            rp::doc_text(d.data(), cut, rp::Limits{});
            ADD_FAILURE() << "no error at " << cut;
        } catch (const DocumentError &e) {
            EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << cut << ": " << e.what();
        }
    }
}

}  // namespace
