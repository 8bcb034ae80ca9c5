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
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdio>
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

int main(int argc, char **argv) {
    std::vector<std::string> dirs;
    bool verbose = false, present_only = false;
    std::string by;  // a truth key to break the figures down by ("renderer")
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--verbose")
            verbose = true;
        else if (a == "--present-only")
            present_only = true;
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
        std::fprintf(stderr, "usage: gt_score [--verbose] [--present-only] [--by KEY] DIR... | --text FILE\n");
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
    size_t files = 0;
    for (const auto &tp : truths) {
        const std::string base = tp.string().substr(0, tp.string().size() - 11);
        std::string doc;
        for (const char *ext : {".pdf", ".docx", ".odt", ".doc", ".rtf", ".txt"})
            if (fs::exists(base + ext)) {
                doc = base + ext;
                break;
            }
        if (doc.empty()) continue;
        const json truth = json::parse(slurp(tp));
        const std::string data = slurp(doc);
        std::string text;
        try {
            text = rp::document_text(data.data(), data.size(), rp::Limits{});
        } catch (const std::exception &e) {
            std::fprintf(stderr, "%s: %s\n", doc.c_str(), e.what());
        }
        const json got = json::parse(rp::parse_resume_json(text));
        ++files;
        Text t;
        t.norm = norm(text);
        t.nospace = t.norm;
        t.nospace.erase(std::remove(t.nospace.begin(), t.nospace.end(), ' '), t.nospace.end());
        t.digits = digits(text);

        std::vector<std::string> notes;
        std::vector<std::string> group_names{"all"};
        if (!by.empty() && !str(truth[by]).empty()) group_names.push_back(str(truth[by]));
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
    std::printf("# %zu files; group field share files wrong absent\n", files);
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
