// Accuracy of the built-in parser over sets of résumés with ground truth: every DIR/X.pdf (or
// .docx, …) with a sibling DIR/X.truth.json is read the way the pipeline reads it
// (rp::document_text) and parsed with rp::parse_resume_json. Build and usage: see
// tools/groundtruth/README.md (tools/groundtruth/build.sh writes build/gt_score).
//
// Matching (normalised = NFKC + case folding + white-space folding; ICU in this tool only):
//   name, email  normalised equality;
//   phone        equal digit sequences;
//   urls         normalised, without scheme, "www." and trailing "/", equal; a truth url is found
//                when basics.url or any profile url equals it;
//   employers    work[].name, schools: education[].institution; a truth entry is found when a
//                parser entry equals it or one contains the other, the shorter side at least 3
//                characters.
// Shares are means over files of each file's share of its truth values found. "wrong" counts
// what the parser filled in that matches no truth value: a scalar with another value, a list
// entry matching no truth entry (truth lists are complete).
// --present-only: a truth value that is not in the extracted text (a theme that does not print
// the phone, prints only an icon for a link) is not scored; how many were left out is printed.
// For a scan (truth key "scan_of": the case it was made from, in the same folder) presence is
// judged on the text layer of that source's scanned pages ("scan_pages"), not on what OCR read,
// so a value the OCR misread counts as missed.
// Documents are read with the pipeline's defaults (rp::Limits{}: OCR on, 300 dpi), and Tesseract
// with one thread (OMP_THREAD_LIMIT=1), as the parser process runs it. --skip-scans leaves out the
// cases with "scan_of" (they take seconds a page).
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "document_text.h"
#include "limits.h"
#include "resume_parser.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string norm(const std::string &s) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *n = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) return s;
    std::string folded;
    n->normalize(icu::UnicodeString::fromUTF8(s), status).toUTF8String(folded);
    if (U_FAILURE(status)) return s;
    std::string out;
    bool space = false;
    for (char c : folded) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::string url_norm(const std::string &s) {
    std::string u = norm(s);
    for (const char *scheme : {"https://", "http://"})
        if (u.rfind(scheme, 0) == 0) u.erase(0, std::string(scheme).size());
    if (u.rfind("www.", 0) == 0) u.erase(0, 4);
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
}

std::string digits(const std::string &s) {
    std::string d;
    for (char c : s)
        if (c >= '0' && c <= '9') d += c;
    return d;
}

bool contains_either(const std::string &truth, const std::string &got) {
    const std::string a = norm(truth), b = norm(got);
    if (a.empty() || b.empty()) return false;
    if (a == b) return true;
    const std::string &shorter = a.size() < b.size() ? a : b, &longer = a.size() < b.size() ? b : a;
    return shorter.size() >= 3 && longer.find(shorter) != std::string::npos;
}

std::string slurp(const fs::path &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string str(const json &j) { return j.is_string() ? j.get<std::string>() : std::string(); }

// A key of a JSON object, or null when it is absent (const operator[] asserts it is there).
const json &at(const json &j, const std::string &key) {
    static const json null;
    if (!j.is_object()) return null;
    const auto it = j.find(key);
    return it == j.end() ? null : *it;
}

struct Field {
    double share_sum = 0;
    size_t files = 0, wrong = 0, absent = 0;
};

struct Text {
    std::string norm, nospace, digits;  // the extracted text three ways, for --present-only
};

bool present(const Text &t, const std::string &field, const std::string &value) {
    if (field == "phone") return t.digits.find(digits(value)) != std::string::npos;
    if (field == "urls") return t.nospace.find(url_norm(value)) != std::string::npos;
    std::string v = norm(value);
    v.erase(std::remove(v.begin(), v.end(), ' '), v.end());
    return t.nospace.find(v) != std::string::npos;
}

const char *const kFields[] = {"name", "email", "phone", "urls", "employers", "schools"};

}  // namespace

// The text of a document, or "" when it cannot be read (printed to stderr).
std::string read_text(const std::string &path) {
    const std::string data = slurp(path);
    try {
        return rp::document_text(data.data(), data.size(), rp::Limits{});
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
        return {};
    }
}

// The first `pages` pages of a text whose pages end with a form feed.
std::string first_pages(const std::string &text, long pages) {
    size_t at = 0;
    for (long p = 0; p < pages; ++p) {
        at = text.find('\f', at);
        if (at == std::string::npos) return text;
        ++at;
    }
    return text.substr(0, at);
}

int main(int argc, char **argv) {
    // Tesseract parallelises with OpenMP, which reads OMP_THREAD_LIMIT when the library loads:
    // run again with it set, as the parser process does (and a page takes a third of the time).
    if (!std::getenv("OMP_THREAD_LIMIT")) {
        setenv("OMP_THREAD_LIMIT", "1", 1);
        execv("/proc/self/exe", argv);
    }
    std::vector<std::string> dirs;
    bool verbose = false, present_only = false, skip_scans = false;
    std::string by;  // a truth key to break the figures down by ("renderer")
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--verbose")
            verbose = true;
        else if (a == "--present-only")
            present_only = true;
        else if (a == "--skip-scans")
            skip_scans = true;
        else if (a == "--text" && i + 1 < argc) {  // print one document's text and its parse
            const std::string data = slurp(argv[++i]);
            const std::string text = rp::document_text(data.data(), data.size(), rp::Limits{});
            std::printf("%s\n----\n%s\n", text.c_str(), json::parse(rp::parse_resume_json(text)).dump(1).c_str());
            return 0;
        } else if (a == "--by" && i + 1 < argc)
            by = argv[++i];
        else
            dirs.push_back(a);
    }
    if (dirs.empty()) {
        std::fprintf(stderr, "usage: gt_score [--verbose] [--present-only] [--skip-scans] [--by KEY] DIR... | --text FILE\n");
        return 2;
    }
    std::vector<fs::path> truths;
    for (const auto &d : dirs)
        for (const auto &e : fs::directory_iterator(d)) {
            const std::string n = e.path().filename().string();
            if (n.size() > 11 && n.compare(n.size() - 11, 11, ".truth.json") == 0) truths.push_back(e.path());
        }
    std::sort(truths.begin(), truths.end());

    std::map<std::string, std::map<std::string, Field>> groups;  // group → field → totals
    size_t files = 0, skipped = 0;
    for (const auto &tp : truths) {
        const std::string base = tp.string().substr(0, tp.string().size() - 11);
        std::string doc;
        for (const char *ext : {".pdf", ".docx", ".odt", ".doc", ".rtf", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})
            if (fs::exists(base + ext)) {
                doc = base + ext;
                break;
            }
        if (doc.empty()) continue;
        const json truth = json::parse(slurp(tp));
        const std::string scan_of = str(at(truth, "scan_of"));
        if (skip_scans && !scan_of.empty()) {
            ++skipped;
            continue;
        }
        const std::string text = read_text(doc);
        const json got = json::parse(rp::parse_resume_json(text));
        ++files;
        std::string shown = text;  // what the document shows as text, for --present-only
        if (present_only && !scan_of.empty()) {
            const fs::path source = tp.parent_path() / (scan_of + ".pdf");
            const json &pages = at(truth, "scan_pages");
            shown = first_pages(read_text(source.string()), pages.is_number() ? pages.get<long>() : 1);
        }
        Text t;
        t.norm = norm(shown);
        t.nospace = t.norm;
        t.nospace.erase(std::remove(t.nospace.begin(), t.nospace.end(), ' '), t.nospace.end());
        t.digits = digits(shown);

        std::vector<std::string> notes;
        std::vector<std::string> group_names{"all"};
        if (!by.empty() && !str(at(truth, by)).empty()) group_names.push_back(str(at(truth, by)));
        auto score = [&](const char *field, const std::vector<std::string> &want, const std::vector<std::string> &have,
                         auto match) {
            std::vector<std::string> scored;
            for (const auto &w : want) {
                if (w.empty()) continue;
                if (present_only && !present(t, field, w)) {
                    for (const std::string &g : group_names) ++groups[g][field].absent;
                    continue;
                }
                scored.push_back(w);
            }
            size_t found = 0, wrong = 0;
            for (const auto &w : scored) {
                if (std::any_of(have.begin(), have.end(), [&](const std::string &h) { return match(w, h); }))
                    ++found;
                else
                    notes.push_back(std::string(field) + ": missed \"" + w + "\"");
            }
            for (const auto &h : have) {
                if (h.empty()) continue;
                const bool any = std::any_of(want.begin(), want.end(), [&](const std::string &w) { return match(w, h); });
                if (!any && (!scored.empty() || std::string(field) == "employers" || std::string(field) == "schools")) {
                    ++wrong;
                    notes.push_back(std::string(field) + ": wrong \"" + h + "\"");
                }
            }
            for (const std::string &g : group_names) {
                Field &f = groups[g][field];
                f.wrong += wrong;
                if (scored.empty()) continue;
                ++f.files;
                f.share_sum += static_cast<double>(found) / static_cast<double>(scored.size());
            }
        };
        auto list = [](const json &j) {
            std::vector<std::string> v;
            if (j.is_array())
                for (const auto &x : j) v.push_back(str(x));
            return v;
        };
        const json &b = got["basics"];
        std::vector<std::string> urls, employers, schools;
        if (b["url"].is_string()) urls.push_back(b["url"]);
        for (const auto &p : b["profiles"]) urls.push_back(str(p["url"]));
        for (const auto &w : got["work"]) employers.push_back(str(w["name"]));
        for (const auto &e : got["education"]) schools.push_back(str(e["institution"]));
        auto eq = [](const std::string &w, const std::string &h) { return norm(w) == norm(h); };
        score("name", {str(truth["name"])}, {str(b["name"])}, eq);
        score("email", {str(truth["email"])}, {str(b["email"])}, eq);
        score("phone", {str(truth["phone"])}, {str(b["phone"])},
              [](const std::string &w, const std::string &h) { return !digits(h).empty() && digits(w) == digits(h); });
        score("urls", list(truth["urls"]), urls,
              [](const std::string &w, const std::string &h) { return url_norm(w) == url_norm(h); });
        score("employers", list(truth["employers"]), employers, contains_either);
        score("schools", list(truth["schools"]), schools, contains_either);
        if (verbose && !notes.empty()) {
            std::printf("%s\n", doc.c_str());
            for (const auto &n : notes) std::printf("    %s\n", n.c_str());
        }
    }
    // Machine-readable lines: "<group> <field> <share> <files> <wrong> <absent>".
    std::printf("# %zu files%s; group field share files wrong absent\n", files,
                skipped ? (", " + std::to_string(skipped) + " scans skipped").c_str() : "");
    for (const auto &[g, fields] : groups)
        for (const char *f : kFields) {
            auto it = fields.find(f);
            if (it == fields.end()) continue;
            const Field &x = it->second;
            std::printf("%s %s %.3f %zu %zu %zu\n", g.c_str(), f, x.files ? x.share_sum / static_cast<double>(x.files) : 0.0,
                        x.files, x.wrong, x.absent);
        }
    return 0;
}
