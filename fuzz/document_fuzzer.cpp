// libFuzzer harness for the document-parsing core (src/core), the code that reads untrusted
// uploads inside resume_pipeline_parser.
//
// Input layout: byte 0 selects the entry point, the rest is the document (or the ZIP entry name):
//   0 pdf_text   1 pdf_info_json   2 docx_text   3 document_text
//   4 ZipArchive::regular_files   5 safe_entry_name   6 parse_resume_json   7 document_kind
//   8 object_relative_path
// (selector values are taken modulo 9, so every input maps to some entry point).
//
// Expected outcomes, as in src/helper/parser_main.cpp: a result, rp::DocumentError (bad input,
// exceeded limit) or std::bad_alloc. Any other exception, a crash, a sanitizer report or a
// broken invariant (checked below) is a finding.
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <poppler-global.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "../src/core/document_error.h"
#include "../src/core/document_text.h"
#include "../src/core/docx_text.h"
#include "../src/core/limits.h"
#include "../src/core/object_path.h"
#include "../src/core/pdf_text.h"
#include "../src/core/resume_parser.h"
#include "../src/core/utf8_text.h"
#include "../src/core/zip_reader.h"

namespace {

enum Selector : uint8_t {
    kPdfText = 0,
    kPdfInfo = 1,
    kDocxText = 2,
    kDocumentText = 3,
    kZipEntries = 4,
    kSafeEntryName = 5,
    kParseResume = 6,
    kDocumentKind = 7,
    kObjectPath = 8,
    kSelectors = 9,
};

const char *const kSelectorNames[kSelectors] = {
    "pdf_text", "pdf_info_json", "docx_text", "document_text", "ZipArchive::regular_files", "safe_entry_name",
    "parse_resume_json", "document_kind", "object_relative_path"};

// Small limits keep each execution fast; the checks are the same code paths as the defaults.
rp::Limits fuzz_limits() {
    rp::Limits l;
    l.max_file_size = 1ull << 20;  // 1 MB
    l.zip_max_entries = 100;
    l.zip_max_total_size = 4ull << 20;  // 4 MB
    l.zip_max_ratio = 100;
    return l;
}

[[noreturn]] void invariant_failed(uint8_t selector, const char *what, std::string_view value) {
    std::string shown = rp::sanitize_utf8(value.substr(0, 200));
    std::fprintf(stderr, "\n*** INVARIANT BROKEN in %s: %s\n*** value (%zu bytes, first 200 sanitised): \"%s\"\n",
                 kSelectorNames[selector], what, value.size(), shown.c_str());
    std::abort();
}

// Text that becomes a Postgres text value: well-formed UTF-8 with no NUL byte.
void check_text(uint8_t selector, const std::string &s) {
    if (!rp::is_valid_utf8(s)) invariant_failed(selector, "result is not valid UTF-8", s);
    if (s.find('\0') != std::string::npos) invariant_failed(selector, "result contains a NUL byte", s);
}

bool has_dotdot_component(const std::string &name) {
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find_first_of("/\\", start);
        if (end == std::string::npos) end = name.size();
        if (name.compare(start, end - start, "..") == 0 && end - start == 2) return true;
        start = end + 1;
    }
    return false;
}

// A name safe_entry_name accepted: a normalised relative path that it accepts again unchanged.
void check_entry_name(uint8_t selector, const std::string &name) {
    check_text(selector, name);
    if (name.empty()) invariant_failed(selector, "entry name is empty", name);
    if (name[0] == '/' || name[0] == '\\') invariant_failed(selector, "entry name is absolute", name);
    if (name.find('\\') != std::string::npos) invariant_failed(selector, "entry name keeps a backslash", name);
    if (has_dotdot_component(name)) invariant_failed(selector, "entry name has a \"..\" component", name);
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7F) invariant_failed(selector, "entry name has a control character", name);
    std::string again;
    try {
        again = rp::safe_entry_name(name);
    } catch (const rp::DocumentError &e) {
        std::fprintf(stderr, "*** safe_entry_name on its own output threw: %s\n", e.what());
        invariant_failed(selector, "safe_entry_name is not idempotent (its output is rejected)", name);
    }
    if (again != name) invariant_failed(selector, "safe_entry_name is not idempotent (output changes)", name);
}

void run(uint8_t selector, const char *p, size_t n) {
    const rp::Limits limits = fuzz_limits();
    switch (selector) {
        case kPdfText:
            check_text(selector, rp::pdf_text(p, n, limits));
            break;
        case kPdfInfo: {
            const std::string out = rp::pdf_info_json(p, n, limits);
            check_text(selector, out);
            nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
            if (j.is_discarded() || !j.is_object()) invariant_failed(selector, "result is not a JSON object", out);
            for (const char *k :
                 {"pages", "encrypted", "locked", "pdf_version", "title", "author", "subject", "keywords", "creator",
                  "producer", "creation_date", "modification_date", "linearized"})
                if (!j.contains(k)) invariant_failed(selector, "result lacks a documented key", out);
            break;
        }
        case kDocxText:
            check_text(selector, rp::docx_text(p, n, limits));
            break;
        case kDocumentText:
            check_text(selector, rp::document_text(p, n, limits));
            break;
        case kZipEntries: {
            rp::ZipArchive archive(p, n, limits);
            const std::vector<rp::ZipEntry> entries = archive.regular_files();
            if (entries.size() > limits.zip_max_entries)
                invariant_failed(selector, "more entries than zip_max_entries", std::to_string(entries.size()));
            uint64_t total = 0;
            for (const auto &e : entries) {
                check_entry_name(selector, e.name);
                if (e.data.size() > limits.max_file_size)
                    invariant_failed(selector, "entry larger than max_file_size", e.name);
                total += e.data.size();
            }
            if (total > limits.zip_max_total_size)
                invariant_failed(selector, "entries larger than zip_max_total_size", std::to_string(total));
            break;
        }
        case kSafeEntryName:
            check_entry_name(selector, rp::safe_entry_name(std::string(p, n)));
            break;
        case kParseResume: {
            // Never throws, whatever the text: a JSON Resume object with every top-level key.
            const std::string out = rp::parse_resume_json(std::string_view(p, n));
            check_text(selector, out);
            const auto j = nlohmann::json::parse(out, nullptr, false);
            if (j.is_discarded() || !j.is_object()) invariant_failed(selector, "result is not a JSON object", out);
            for (const char *k : {"basics", "work", "education", "skills"})
                if (!j.contains(k)) invariant_failed(selector, "result lacks a top-level key", out);
            break;
        }
        case kDocumentKind: {
            const std::string kind = rp::document_kind(p, n, limits);
            if (kind != "pdf" && kind != "docx" && kind != "zip" && kind != "text" && kind != "other")
                invariant_failed(selector, "unknown kind", kind);
            break;
        }
        case kObjectPath: {
            const std::string path = rp::object_relative_path("resumes", std::string(p, n));
            check_text(selector, path);
            if (path.rfind("resumes/", 0) != 0) invariant_failed(selector, "path leaves the bucket", path);
            if (has_dotdot_component(path)) invariant_failed(selector, "path has a \"..\" component", path);
            break;
        }
        default:
            break;
    }
}

void ignore_poppler(const std::string &, void *) {}
void ignore_xml_generic(void *, const char *, ...) {}
void ignore_xml_structured(void *, xmlErrorPtr) {}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    // As the helper does at start-up. The core also installs its own handler while a PDF is open
    // (PopplerDiagnostics in pdf_text.cpp) and a discarding one when it closes.
    poppler::set_debug_error_function(ignore_poppler, nullptr);
    xmlInitParser();
    xmlSetGenericErrorFunc(nullptr, ignore_xml_generic);
    xmlSetStructuredErrorFunc(nullptr, ignore_xml_structured);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t selector = data[0] % kSelectors;
    const char *p = reinterpret_cast<const char *>(data + 1);
    const size_t n = size - 1;
    try {
        run(selector, p, n);
    } catch (const rp::DocumentError &) {
        // Expected: bad input or an exceeded limit.
    } catch (const std::bad_alloc &) {
        // Expected under memory limits (RLIMIT_AS in the helper).
    }
    // Anything else propagates: libFuzzer reports an uncaught exception as a crash.
    return 0;
}
