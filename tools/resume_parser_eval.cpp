// Evaluation of the built-in résumé parser against the shared corpus ground truth.
//
/* Build (from the repository root; ICU is used by this tool only, never by the core):

   mkdir -p build && g++ -std=c++17 -O2 -Wall -Wextra -iquote src/core -o build/resume_parser_eval \
       tools/resume_parser_eval.cpp src/core/resume_*.cpp src/core/pdf_text.cpp src/core/utf8_text.cpp \
       src/core/limits.cpp $(pkg-config --cflags --libs poppler-cpp re2 icu-uc icu-i18n)
*/
//
// Run (from the repository root):
//
//   build/resume_parser_eval [DIR] [--verbose] [--dump]
//
// DIR defaults to ../shared/corpus/resumes. Every DIR/X.pdf with a sibling DIR/X.truth.json is
// read with rp::pdf_text and parsed with rp::parse_resume_json. --verbose prints the misses of
// each file; --dump prints the parser's JSON.
//
// Matching follows ../shared/corpus/MANIFEST.md. Every string is normalised with ICU's
// NFKC_Casefold (NFKC + case folding) and whitespace runs collapsed to one space.
//   name, email: normalised equality.
//   phone:       equality of the digit sequences (with the leading '+', if any, ignored), or
//                normalised equality. Extraction breaks spacing ("0 1 2 3 4 5 6 7 89") and
//                writers group digits freely; the digits are the number.
//   urls:        normalised, then scheme ("http://", "https://"), a leading "www." and trailing
//                "/" removed; equality. Parser urls = basics.url + basics.profiles[].url.
//   employers:   work[].name; schools: education[].institution. A truth item is found when a
//                parser item equals it or one contains the other (normalised), the shorter
//                being at least 3 characters (so "Inc" cannot match everything).
// A field is scored only over the files whose truth value is non-null / non-empty. For the list
// fields, a file's share is the fraction of its truth items found in the parser output; the
// headline share is the MEAN OVER FILES of those fractions ("per file"); the pooled share
// (all truth items of all files together) is printed next to it. "extra" counts parser items
// that match no truth item (a precision hint; list truths are complete for employers/schools).
#include <dirent.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "document_error.h"
#include "limits.h"
#include "pdf_text.h"
#include "resume_parser.h"

namespace {

using nlohmann::json;

std::string normalise(const std::string &s) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) return s;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
    icu::UnicodeString n = nfkc_cf->normalize(u, status);
    if (U_FAILURE(status)) return s;
    std::string out;
    n.toUTF8String(out);
    std::string collapsed;
    bool space = false;
    for (char c : out) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            space = true;
            continue;
        }
        if (space && !collapsed.empty()) collapsed += ' ';
        space = false;
        collapsed += c;
    }
    return collapsed;
}

std::string normalise_url(const std::string &s) {
    std::string u = normalise(s);
    for (const char *scheme : {"https://", "http://"})
        if (u.rfind(scheme, 0) == 0) u = u.substr(std::string(scheme).size());
    if (u.rfind("www.", 0) == 0) u = u.substr(4);
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
}

std::string digits(const std::string &s) {
    std::string d;
    for (char c : s)
        if (c >= '0' && c <= '9') d += c;
    return d;
}

bool contained_match(const std::string &truth, const std::string &got) {
    const std::string a = normalise(truth), b = normalise(got);
    if (a.empty() || b.empty()) return false;
    if (a == b) return true;
    const std::string &shorter = a.size() < b.size() ? a : b;
    const std::string &longer = a.size() < b.size() ? b : a;
    return shorter.size() >= 3 && longer.find(shorter) != std::string::npos;
}

std::string read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string str_or_empty(const json &j) {
    return j.is_string() ? j.get<std::string>() : std::string();
}

struct ListScore {
    size_t found = 0, total = 0, extra = 0;
    std::vector<std::string> missed, spurious;
};

template <typename Match>
ListScore score_list(const json &truth, const std::vector<std::string> &got, Match match) {
    ListScore s;
    if (!truth.is_array()) return s;
    for (const auto &t : truth) {
        if (!t.is_string() || t.get<std::string>().empty()) continue;
        ++s.total;
        bool hit = false;
        for (const auto &g : got)
            if (match(t.get<std::string>(), g)) hit = true;
        if (hit)
            ++s.found;
        else
            s.missed.push_back(t.get<std::string>());
    }
    for (const auto &g : got) {
        bool hit = false;
        for (const auto &t : truth)
            if (t.is_string() && match(t.get<std::string>(), g)) hit = true;
        if (!hit) {
            ++s.extra;
            s.spurious.push_back(g);
        }
    }
    return s;
}

struct FieldTotals {
    double share_sum = 0;  // sum of per-file shares
    size_t files = 0;
    size_t found = 0, total = 0, extra = 0;  // pooled
};

}  // namespace

int main(int argc, char **argv) {
    std::string dir = "../shared/corpus/resumes";
    bool verbose = false, dump = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--verbose")
            verbose = true;
        else if (a == "--dump")
            dump = true;
        else if (a == "--help" || a == "-h") {
            std::cout << "usage: resume_parser_eval [DIR] [--verbose] [--dump]\n";
            return 0;
        } else
            dir = a;
    }

    std::vector<std::string> pdfs;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            const std::string n = e->d_name;
            if (n.size() > 4 && n.compare(n.size() - 4, 4, ".pdf") == 0) pdfs.push_back(n);
        }
        closedir(d);
    } else {
        std::cerr << "cannot open directory " << dir << "\n";
        return 2;
    }
    std::sort(pdfs.begin(), pdfs.end());

    const char *const kFields[] = {"name", "email", "phone", "urls", "employers", "schools"};
    std::map<std::string, FieldTotals> totals;
    size_t evaluated = 0;

    std::printf("%-50s %-5s %-5s %-5s %-7s %-9s %-7s\n", "file", "name", "email", "phone", "urls", "employers",
                "schools");
    for (const auto &pdf : pdfs) {
        const std::string base = pdf.substr(0, pdf.size() - 4);
        const std::string truth_path = dir + "/" + base + ".truth.json";
        std::ifstream probe(truth_path);
        if (!probe) continue;
        json truth;
        try {
            truth = json::parse(read_file(truth_path));
        } catch (const std::exception &e) {
            std::cerr << base << ": bad truth file: " << e.what() << "\n";
            continue;
        }
        const std::string data = read_file(dir + "/" + pdf);
        std::string text;
        try {
            text = rp::pdf_text(data.data(), data.size(), rp::Limits{});
        } catch (const std::exception &e) {
            std::cerr << base << ": pdf_text failed: " << e.what() << "\n";
        }
        const json out = json::parse(rp::parse_resume_json(text));
        ++evaluated;
        if (dump) std::cout << base << ": " << out.dump(2) << "\n";

        const json &basics = out["basics"];
        std::vector<std::string> urls, employers, schools;
        if (basics["url"].is_string()) urls.push_back(basics["url"]);
        for (const auto &p : basics["profiles"])
            if (p["url"].is_string()) urls.push_back(p["url"]);
        for (const auto &w : out["work"]) employers.push_back(str_or_empty(w["name"]));
        for (const auto &e : out["education"]) schools.push_back(str_or_empty(e["institution"]));

        std::map<std::string, std::string> cell;
        std::vector<std::string> notes;
        auto scalar = [&](const char *field, bool ok, const std::string &got) {
            const std::string t = str_or_empty(truth[field]);
            if (t.empty()) {
                cell[field] = "-";
                return;
            }
            auto &ft = totals[field];
            ++ft.files;
            ++ft.total;
            if (ok) {
                ++ft.found;
                ft.share_sum += 1;
                cell[field] = "ok";
            } else {
                cell[field] = "MISS";
                notes.push_back(std::string(field) + ": want \"" + t + "\" got \"" + got + "\"");
            }
        };
        const std::string name = str_or_empty(basics["name"]), email = str_or_empty(basics["email"]),
                          phone = str_or_empty(basics["phone"]);
        scalar("name", !name.empty() && normalise(name) == normalise(str_or_empty(truth["name"])), name);
        scalar("email", !email.empty() && normalise(email) == normalise(str_or_empty(truth["email"])), email);
        const std::string tphone = str_or_empty(truth["phone"]);
        scalar("phone",
               !phone.empty() && (normalise(phone) == normalise(tphone) ||
                                  (!digits(phone).empty() && digits(phone) == digits(tphone))),
               phone);

        auto list = [&](const char *field, const std::vector<std::string> &got, auto match) {
            ListScore s = score_list(truth[field], got, match);
            if (s.total == 0) {
                cell[field] = "-";
                if (!got.empty())
                    notes.push_back(std::string(field) + ": none in truth, parser gave " + std::to_string(got.size()));
                return;
            }
            auto &ft = totals[field];
            ++ft.files;
            ft.share_sum += static_cast<double>(s.found) / static_cast<double>(s.total);
            ft.found += s.found;
            ft.total += s.total;
            ft.extra += s.extra;
            cell[field] = std::to_string(s.found) + "/" + std::to_string(s.total) +
                          (s.extra ? "+" + std::to_string(s.extra) : "");
            for (const auto &m : s.missed) notes.push_back(std::string(field) + ": missed \"" + m + "\"");
            for (const auto &m : s.spurious) notes.push_back(std::string(field) + ": extra \"" + m + "\"");
        };
        list("urls", urls,
             [](const std::string &t, const std::string &g) { return normalise_url(t) == normalise_url(g); });
        list("employers", employers, contained_match);
        list("schools", schools, contained_match);

        std::printf("%-50s %-5s %-5s %-5s %-7s %-9s %-7s\n", base.substr(0, 50).c_str(), cell["name"].c_str(),
                    cell["email"].c_str(), cell["phone"].c_str(), cell["urls"].c_str(), cell["employers"].c_str(),
                    cell["schools"].c_str());
        if (verbose)
            for (const auto &n : notes) std::printf("    %s\n", n.c_str());
    }

    std::printf("\n%zu files evaluated in %s\n", evaluated, dir.c_str());
    std::printf("%-10s %6s %12s %8s %14s %6s\n", "field", "files", "share/file", "pooled", "found/total", "extra");
    for (const char *f : kFields) {
        const auto &t = totals[f];
        const double per_file = t.files ? t.share_sum / static_cast<double>(t.files) : 0.0;
        const double pooled = t.total ? static_cast<double>(t.found) / static_cast<double>(t.total) : 0.0;
        std::printf("%-10s %6zu %12.3f %8.3f %8zu/%-5zu %6zu\n", f, t.files, per_file, pooled, t.found, t.total,
                    t.extra);
    }
    return 0;
}
