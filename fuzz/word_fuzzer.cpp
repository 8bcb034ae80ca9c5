// libFuzzer harness for one Word-family reader of src/core, chosen when it is compiled:
// -DWORD_READER=0 rtf_text, 1 odt_text, 2 doc_text (rtf_fuzzer, odt_fuzzer, doc_fuzzer in the
// Makefile). The whole input is the document. Expected outcomes are a result, rp::DocumentError
// or std::bad_alloc, as in document_fuzzer.cpp; anything else, a crash, a sanitizer report or text
// that is not valid UTF-8 without NUL bytes (or larger than the file size limit) is a finding.
// libwv, libgsf and libxml2 are uninstrumented distribution builds: see README.md.
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "../src/core/doc_text.h"
#include "../src/core/document_error.h"
#include "../src/core/limits.h"
#include "../src/core/odt_text.h"
#include "../src/core/rtf_text.h"
#include "../src/core/utf8_text.h"

#ifndef WORD_READER
#error "compile with -DWORD_READER=0 (RTF), 1 (ODT) or 2 (DOC)"
#endif

namespace {

rp::Limits fuzz_limits() {
    rp::Limits l;
    l.max_file_size = 1ull << 20;  // 1 MB
    l.zip_max_entries = 100;
    l.zip_max_total_size = 4ull << 20;
    l.zip_max_ratio = 100;
    return l;
}

std::string read(const char *p, size_t n, const rp::Limits &limits) {
#if WORD_READER == 0
    return rp::rtf_text(p, n, limits);
#elif WORD_READER == 1
    return rp::odt_text(p, n, limits);
#else
    return rp::doc_text(p, n, limits);
#endif
}

[[noreturn]] void invariant_failed(const char *what, const std::string &value) {
    std::string shown = rp::sanitize_utf8(value.substr(0, 200));
    std::fprintf(stderr, "\n*** INVARIANT BROKEN: %s\n*** value (%zu bytes, first 200 sanitised): \"%s\"\n", what,
                 value.size(), shown.c_str());
    std::abort();
}

void ignore_xml_generic(void *, const char *, ...) {}
void ignore_xml_structured(void *, xmlErrorPtr) {}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    xmlInitParser();
    xmlSetGenericErrorFunc(nullptr, ignore_xml_generic);
    xmlSetStructuredErrorFunc(nullptr, ignore_xml_structured);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const rp::Limits limits = fuzz_limits();
    try {
        const std::string out = read(reinterpret_cast<const char *>(data), size, limits);
        if (!rp::is_valid_utf8(out)) invariant_failed("result is not valid UTF-8", out);
        if (out.find('\0') != std::string::npos) invariant_failed("result contains a NUL byte", out);
        // A UTF-8 character may finish just past the limit, never more.
        if (out.size() > limits.max_file_size + 4) invariant_failed("result is larger than max_file_size", out);
    } catch (const rp::DocumentError &) {
    } catch (const std::bad_alloc &) {
    }
    return 0;
}
