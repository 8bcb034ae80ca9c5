// The candidate's name and contact details: email, phone, personal URLs and profiles, place.
#include <re2/re2.h>

#include <algorithm>

#include "resume_internal.h"

namespace rp::resume {
namespace {

constexpr size_t kNameScanLines = 40;  // the name is near the top
constexpr size_t kHeaderLines = 60;    // the contact block is near the top, or in a contact section
constexpr size_t kMaxProfiles = 12;

#define RP_TLD                                                                                                  \
    "(?:com|org|net|io|dev|me|co|ai|app|info|biz|edu|gov|xyz|tech|site|online|page|blog|cloud|design|studio|"   \
    "pro|name|ly|sh|gg|tv|fm|cc|ws|de|fr|uk|be|ca|es|it|nl|ch|at|se|no|dk|fi|pl|cz|pt|br|mx|ar|cl|in|cn|jp|kr|" \
    "sg|au|nz|ru|ua|za|ng|ke|ma|eg|il|tr|gr|ie|hu|ro|us|eu|hk|tw|vn|my|ph|th|pk|bd|lk|ae|qa|lu|is|ee|lt|lv|"    \
    "si|sk|hr|rs|bg|to|im|la|id|ir|sa|top|work|link|live|space|website|email|codes|engineer|ninja|rocks)"

RE2::Options options(bool case_sensitive) {
    RE2::Options o;
    o.set_case_sensitive(case_sensitive);
    o.set_log_errors(false);
    return o;
}

const RE2 &email_re() {
    static const RE2 *re =
        new RE2("([A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,})", options(true));
    return *re;
}

const RE2 &phone_re() {
    static const RE2 *re = new RE2(
        "((?:\\+\\s?\\d{1,3}[\\s.\\-]?)?(?:\\(\\+?\\d{1,4}\\)[\\s.\\-]?)?\\d[\\d\\s.\\-/()]{5,24}\\d)", options(true));
    return *re;
}

const RE2 &url_re() {
    static const RE2 *re = new RE2("((?:https?://)?(?:[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?\\.)+" RP_TLD
                                   "\\b(?::\\d{2,5})?(?:/[^\\s,;|\"'<>()\\[\\]{}\xC2\xB7]*)?)",
                                   options(false));
    return *re;
}

std::string lower_ascii(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c += 32;
    return s;
}

size_t count_digits(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// The word before position `at` of the line, folded to ASCII lower case ("Springfield, CA 94588"
// → "ca").
std::string word_before(std::string_view line, size_t at) {
    size_t e = at;
    while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == ',')) --e;
    size_t b = e;
    // Bounded: a long run without spaces must not make each phone match a scan of the line.
    while (b > 0 && e - b < 32 && line[b - 1] != ' ' && line[b - 1] != ',') --b;
    return lower_ascii(std::string(line.substr(b, e - b)));
}

bool is_phone_word(const std::string &w) {
    static const char *const kWords[] = {"tel", "tel.", "tel:", "phone", "phone:", "mobile", "mobile:", "mob", "mob.",
                                         "cell", "cell:", "fon", "fon:", "telefon", "telefon:", "handy", "gsm", "fax",
                                         "t", "t:", "m", "m:", "p", "p:", "ph", "ph:", "whatsapp", "call", "at"};
    for (const char *k : kWords)
        if (w == k) return true;
    return false;
}

// "Springfield, CA 94588 (555) 123-4567", "Sydney NSW 2000 0412 345 678": an address ends in a
// postcode right before the phone, and the extractor joins them into one run of digits. The first
// group is a postcode when it follows a place word (not a phone label), has the shape of one, and
// what follows it is a whole phone number.
bool postcode_before_phone(std::string_view line, size_t begin, size_t end) {
    if (begin == 0 || line[begin] == '+' || line[begin] == '(') return false;
    const std::string before = word_before(line, begin);
    if (before.empty() || is_phone_word(before)) return false;
    if (!std::any_of(before.begin(), before.end(), [](char c) { return (c >= 'a' && c <= 'z') || c < 0; }))
        return false;
    const std::string_view m = line.substr(begin, end - begin);
    const size_t space = m.find(' ');
    if (space == std::string_view::npos) return false;
    static const RE2 *postcode = new RE2("\\d{4,6}|\\d{5}-\\d{3,4}|\\d{2}-\\d{3}|\\d{3}-\\d{4}");
    if (!RE2::FullMatch(re2::StringPiece(m.data(), space), *postcode)) return false;
    const std::string_view rest = m.substr(space + 1);
    return count_digits(rest) >= 7 && (rest[0] == '(' || count_digits(rest) >= 9);
}

// A postcode on its own that has as many digits as a short phone: "SP 01310-100", "〒100-0001".
bool is_postcode(std::string_view line, size_t begin, const std::string &m) {
    static const RE2 *shape = new RE2("\\d{5}-\\d{3}|\\d{3}-\\d{4}|\\d{2}-\\d{3}");
    if (!RE2::FullMatch(m, *shape)) return false;
    if (begin >= 3 && line.substr(begin - 3, 3) == "\xE3\x80\x92") return true;  // 〒
    // "1578, 20040-020 Rio de Janeiro", "530-0001 Osaka": a place name follows the postcode.
    size_t after = begin + m.size();
    if (after < line.size() && line[after] == ',') ++after;
    if (after + 1 < line.size() && line[after] == ' ') {
        const std::u32string next = decode_utf8(line.substr(after + 1, std::min<size_t>(4, line.size() - after - 1)));
        if (!next.empty() && is_letter(next[0])) return true;
    }
    const std::string before = word_before(line, begin);
    return before.size() >= 2 && before.size() <= 3 &&
           std::all_of(before.begin(), before.end(), [](char c) { return c >= 'a' && c <= 'z'; }) &&
           !is_phone_word(before);
}

bool phone_looks_like_dates(std::string_view m) {
    static const RE2 *year_range = new RE2(
        "(?:19|20)\\d{2}\\s*[\\-/–]\\s*(?:(?:19|20)\\d{2}|\\d{1,2})\\b|\\b\\d{1,2}\\s*/\\s*(?:19|20)\\d{2}\\b|"
        "(?:19|20)\\d{2}-\\d{2}-\\d{2}");
    return RE2::PartialMatch(m, *year_range);
}

}  // namespace

std::vector<std::string> find_emails(std::string_view line) {
    std::vector<std::string> out;
    re2::StringPiece in(line.data(), line.size());
    std::string m;
    while (out.size() < 8 && RE2::FindAndConsume(&in, email_re(), &m)) {
        while (!m.empty() && (m.back() == '.' || m.back() == '-')) m.pop_back();
        out.push_back(m);
    }
    if (out.empty() && line.find('@') != std::string_view::npos) {
        // OCR puts spaces after dots and around '@' ("jane. doe @ example. com"): an address read
        // that way is taken without them.
        static const RE2 *spaced = new RE2(
            "([A-Za-z0-9_%+-]+(?:\\. ?[A-Za-z0-9_%+-]+)* ?@ ?[A-Za-z0-9-]+(?: ?\\. ?[A-Za-z0-9-]+)+)");
        re2::StringPiece rest(line.data(), line.size());
        while (out.size() < 8 && RE2::FindAndConsume(&rest, *spaced, &m)) {
            m.erase(std::remove(m.begin(), m.end(), ' '), m.end());
            std::string e;
            if (RE2::FullMatch(m, email_re(), &e)) out.push_back(e);
        }
    }
    return out;
}

std::vector<std::string> find_phones(std::string_view line) {
    std::vector<std::string> out;
    size_t pos = 0;
    std::string m;
    while (out.size() < 8 && pos < line.size()) {
        re2::StringPiece in(line.data() + pos, line.size() - pos);
        if (!RE2::FindAndConsume(&in, phone_re(), &m)) break;
        const size_t end = static_cast<size_t>(in.data() - line.data());
        size_t begin = end - m.size();
        pos = end;
        // Masked numbers ("+49 176 *** ***") are not the candidate's phone.
        size_t k = end;
        while (k < line.size() && line[k] == ' ') ++k;
        if (k < line.size() && line[k] == '*') continue;
        if (end < line.size() && (line[end] == '@' || line[end] == '%')) continue;
        // A phone is not glued to letters ("FSAB1104", the "6" of "M5V 2T6") or part of an email:
        // the number, if any, starts at the next group.
        const auto glued = [&](size_t at) {
            const char before = at > 0 ? line[at - 1] : ' ';
            return (before >= 'A' && before <= 'Z') || (before >= 'a' && before <= 'z') || before == '@' ||
                   before == '.' || before == '/' || before == '#';
        };
        if (glued(begin) || postcode_before_phone(line, begin, end)) {
            const size_t space = line.substr(begin, end - begin).find(' ');
            if (space == std::string_view::npos) continue;
            pos = begin + space + 1;  // look again from the group after the postcode or glued digits
            continue;
        }
        std::string t = trim(m);
        while (!t.empty() && (t.back() == '(' || t.back() == '-' || t.back() == '.')) t.pop_back();
        if (!t.empty() && t.back() == ')' && std::count(t.begin(), t.end(), '(') < std::count(t.begin(), t.end(), ')'))
            t.pop_back();
        const size_t digits = count_digits(t);
        if (digits < 7 || digits > 15) continue;
        if (phone_looks_like_dates(t)) continue;
        if (is_postcode(line, begin, t)) continue;
        // "3.66 (9.15/10.0)": decimals, not a number to call.
        static const RE2 *decimal = new RE2("(?:^|[^\\d])\\d\\.\\d");
        if (RE2::PartialMatch(t, *decimal)) continue;
        if (std::count(t.begin(), t.end(), '(') != std::count(t.begin(), t.end(), ')')) continue;
        out.push_back(trim(t));
    }
    return out;
}

std::vector<std::string> find_urls(std::string_view line) {
    std::string text(line);
    RE2::GlobalReplace(&text, email_re(), " ");
    std::vector<std::string> out;
    re2::StringPiece in(text);
    std::string m;
    while (out.size() < 16 && RE2::FindAndConsume(&in, url_re(), &m)) {
        const size_t end = static_cast<size_t>(in.data() - text.data());
        const size_t begin = end - m.size();
        if (begin > 0) {
            const char before = text[begin - 1];
            if (before == '@' || before == '.' || before == '-' || before == '_' || (before >= '0' && before <= '9') ||
                (before >= 'A' && before <= 'Z') || (before >= 'a' && before <= 'z'))
                continue;
        }
        while (!m.empty() && std::string_view(".,:;!?)").find(m.back()) != std::string_view::npos) m.pop_back();
        const std::string lower = lower_ascii(m);
        const bool scheme = starts_with(lower, "http://") || starts_with(lower, "https://");
        const bool www = starts_with(lower, "www.") || lower.find("://www.") != std::string::npos;
        // "ASP.NET", "Node.JS": words with dots, not addresses. Hosts are written in lower case.
        const size_t host_end = m.find('/', scheme ? m.find("://") + 3 : 0);
        const std::string host = m.substr(0, host_end);
        if (!scheme && !www && host != lower_ascii(host)) continue;
        out.push_back(m);
    }
    return out;
}

namespace {

struct ParsedUrl {
    std::string host;  // lower case, no "www."
    std::vector<std::string> path;
};

ParsedUrl parse_url(std::string_view url) {
    ParsedUrl p;
    std::string s = std::string(url);
    const size_t scheme = s.find("://");
    if (scheme != std::string::npos) s = s.substr(scheme + 3);
    const size_t slash = s.find('/');
    p.host = lower_ascii(s.substr(0, slash));
    if (starts_with(p.host, "www.")) p.host = p.host.substr(4);
    if (slash != std::string::npos) {
        std::string seg;
        for (char c : s.substr(slash + 1)) {
            if (c == '/' || c == '?' || c == '#') {
                if (!seg.empty()) p.path.push_back(seg);
                seg.clear();
                if (c != '/') break;
            } else {
                seg += c;
            }
        }
        if (!seg.empty()) p.path.push_back(seg);
    }
    return p;
}

struct Network {
    const char *host;
    const char *name;
    const char *user_prefix;  // path segment before the user name ("in" for LinkedIn), or ""
};
const Network kNetworks[] = {
    {"linkedin.com", "LinkedIn", "in"},
    {"github.com", "GitHub", ""},
    {"gitlab.com", "GitLab", ""},
    {"bitbucket.org", "Bitbucket", ""},
    {"twitter.com", "Twitter", ""},
    {"x.com", "X", ""},
    {"stackoverflow.com", "Stack Overflow", "users"},
    {"medium.com", "Medium", ""},
    {"behance.net", "Behance", ""},
    {"dribbble.com", "Dribbble", ""},
    {"kaggle.com", "Kaggle", ""},
    {"facebook.com", "Facebook", ""},
    {"instagram.com", "Instagram", ""},
    {"youtube.com", "YouTube", ""},
    {"researchgate.net", "ResearchGate", "profile"},
    {"orcid.org", "ORCID", ""},
    {"xing.com", "XING", "profile"},
    {"codepen.io", "CodePen", ""},
    {"leetcode.com", "LeetCode", ""},
    {"hackerrank.com", "HackerRank", ""},
    {"dev.to", "DEV", ""},
    {"huggingface.co", "Hugging Face", ""},
    {"keybase.io", "Keybase", ""},
    {"scholar.google.com", "Google Scholar", ""},
};

const Network *network_of(const ParsedUrl &u) {
    for (const auto &n : kNetworks) {
        const std::string h = n.host;
        if (u.host == h || (u.host.size() > h.size() && u.host.compare(u.host.size() - h.size(), h.size(), h) == 0 &&
                            u.host[u.host.size() - h.size() - 1] == '.'))
            return &n;
    }
    return nullptr;
}

// The user name of a profile URL, or "" when the URL points at something else (a repository,
// a post, a company page).
std::string profile_user(const ParsedUrl &u, const Network &n) {
    const std::string prefix = n.user_prefix;
    if (std::string(n.host) == "scholar.google.com") return u.path.empty() ? "" : "scholar";
    if (!prefix.empty()) {
        if (u.path.size() >= 2 && u.path.size() <= 3 && lower_ascii(u.path[0]) == prefix)
            return prefix == "users" && u.path.size() == 3 ? u.path[2] : u.path[1];
        if (std::string(n.host) == "linkedin.com" && u.path.size() == 2 && lower_ascii(u.path[0]) == "pub")
            return u.path[1];
        return "";
    }
    if (u.path.size() != 1) return "";
    std::string user = u.path[0];
    if (!user.empty() && (user[0] == '@' || user[0] == '~')) user = user.substr(1);
    return user;
}

// The registered part of a host without the TLD: "blog.jane-doe.co.uk" → "janedoe".
std::string host_label(const std::string &host) {
    std::vector<std::string> labels;
    size_t b = 0;
    for (size_t i = 0; i <= host.size(); ++i)
        if (i == host.size() || host[i] == '.') {
            labels.push_back(host.substr(b, i - b));
            b = i + 1;
        }
    if (labels.size() < 2) return "";
    size_t idx = labels.size() - 2;
    if (idx > 0 && labels[idx].size() <= 3 && labels.back().size() == 2) --idx;  // co.uk, com.au
    std::string out;
    for (char c : labels[idx])
        if (c != '-' && c != '_') out += c;
    return out;
}

std::vector<std::string> ascii_tokens(std::string_view s, size_t min_len) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : fold(s) + " ") {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            cur += c;
        } else {
            if (cur.size() >= min_len) out.push_back(cur);
            cur.clear();
        }
    }
    return out;
}

// Prose, not a contact line: many words and no "·" / "|" / "•" separators between short parts.
bool is_description_line(const Line &line) {
    if (split_words(line.text).size() <= 14) return false;
    for (const char *sep : {" \xC2\xB7 ", " | ", " \xE2\x80\xA2 ", " \xE2\x80\x94 "})
        if (line.text.find(sep) != std::string::npos) return false;
    return true;
}

// "GitHub: https://github.com/x", "• Blog: http://…": a label and a link, nothing else.
bool is_labelled_link(const Line &line, const std::string &url) {
    const size_t at = line.text.find(url);
    if (at == std::string::npos) return false;
    const std::string before = trim_field(line.text.substr(0, at));
    const std::string after = trim_field(line.text.substr(at + url.size()));
    return after.empty() && !before.empty() && split_words(before).size() <= 3;
}

// The section of every line, and the lines a contact heading hands over, computed once (a
// lookup per line would be quadratic on hostile input made of headings).
class SectionIndex {
public:
    SectionIndex(const std::vector<SectionSpan> &sections, size_t lines) : kind_(lines, Section::Other) {
        for (size_t k = 0; k < sections.size(); ++k) {
            const SectionSpan &s = sections[k];
            for (size_t i = s.begin; i < s.end && i < lines; ++i) kind_[i] = s.kind;
            // In a sidebar laid out next to the main column, a "Contact" heading with nothing
            // under it is followed by the next heading, then by the contact lines.
            if (!carry_ && s.kind == Section::Contact && s.end == s.begin && k + 1 < sections.size())
                carry_ = std::make_pair(sections[k + 1].begin, sections[k + 1].end);
        }
    }
    Section of(size_t line) const { return line < kind_.size() ? kind_[line] : Section::Other; }
    bool contact_region(size_t line) const {
        const Section kind = of(line);
        if ((kind == Section::Header && line < kHeaderLines) || kind == Section::Contact) return true;
        return carry_ && line >= carry_->first && line < carry_->second;
    }

private:
    std::vector<Section> kind_;
    std::optional<std::pair<size_t, size_t>> carry_;
};

// "B jane@x.org • T +1 234 567 890 • www.jane.dev": two or more contact items on one short line
// make it a contact line wherever it stands (a page footer, a sidebar).
bool is_contact_line(const Line &line) {
    if (split_words(line.text).size() > 20) return false;
    return find_emails(line.text).size() + find_phones(line.text).size() + find_urls(line.text).size() >= 2;
}

bool has_phone_label(const std::string &folded) {
    static const RE2 *re = new RE2(
        "(?:^|[^a-z])(?:tel|tel\\.|phone|mobile|mob|cell|telefon|telephone|telefono|handy|fon|movil|cellulare|"
        "portable|gsm|whatsapp)\\b");
    return RE2::PartialMatch(folded, *re);
}

// --- name -----------------------------------------------------------------------------------

bool is_particle(const std::string &folded_word) {
    static const char *const kParticles[] = {"van", "von", "der", "den", "de",  "da",    "das", "del", "della",
                                             "di",  "du",  "la",  "le",  "bin", "binti", "ibn", "al",  "el",
                                             "y",   "dos", "ten", "ter", "zu",  "dei",   "st",  "mc"};
    for (const char *p : kParticles)
        if (folded_word == p) return true;
    return false;
}

// Removes "Resume", "CV", "Curriculum Vitae" words around a name and keeps the first segment of a
// "Name · Title · City" line.
std::string name_candidate_text(const std::string &text) {
    std::string first = text;
    for (const char *sep : {" \xC2\xB7 ", " | ", " \xE2\x80\x94 ", " \xE2\x80\x93 ", " - ", ", "}) {
        const size_t at = first.find(sep);
        if (at != std::string::npos) first = first.substr(0, at);
    }
    std::vector<std::string> words = split_words(first);
    std::vector<std::string> kept;
    for (const auto &w : words) {
        std::string f;
        for (char c : fold(w))
            if (c != '.' && c != ':' && c != '-') f += c;
        if (is_name_stopword(f)) continue;
        kept.push_back(w);
    }
    std::string out;
    for (const auto &w : kept) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return trim_field(out);
}

bool plausible_name(const std::string &candidate, bool allow_single_word) {
    if (candidate.empty() || candidate.size() > 60) return false;
    const std::u32string cps = decode_utf8(candidate);
    size_t cjk = 0, letters = 0;
    for (char32_t c : cps) {
        if (is_cjk(c)) ++cjk;
        if (is_letter(c)) ++letters;
        if ((c >= '0' && c <= '9') || c == '@' || c == '/' || c == ':' || c == ',' || c == '&' || c == '(' ||
            c == '|' || c == '!' || c == '?' || c == '"' || c == 0x201C || c == 0x201D || c == '+' || c == '#' ||
            c == '=' || c == ';')
            return false;
    }
    if (cjk > 0) {  // "王小明", "小龙 李"
        const size_t spaces = static_cast<size_t>(std::count(cps.begin(), cps.end(), U' '));
        return cjk + spaces == cps.size() && cjk >= 2 && cjk <= 5 && spaces <= 1;
    }
    if (letters < 3) return false;
    const std::vector<std::string> words = split_words(candidate);
    if (words.size() > 5 || (words.size() < 2 && !allow_single_word)) return false;
    if (has_title_word(candidate) || has_org_word(candidate) || has_degree_word(candidate) || is_location(candidate) ||
        is_country(candidate))
        return false;
    size_t capitalised = 0;
    for (const auto &w : words) {
        const std::u32string wc = decode_utf8(w);
        std::string fw = fold(w);
        if (is_particle(fw)) continue;
        if (wc.empty() || !(is_upper(wc[0]) || is_caseless_letter(wc[0]))) return false;
        // "D." initials are fine; other dots ("e.g.", "Sr.") are not names.
        const size_t dots = static_cast<size_t>(std::count(w.begin(), w.end(), '.'));
        if (dots > 0 && !(wc.size() == 2 && wc[1] == '.')) return false;
        ++capitalised;
    }
    return capitalised >= 1;
}

}  // namespace

std::optional<std::string> find_name(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections) {
    const size_t limit = std::min(lines.size(), kNameScanLines);
    const SectionIndex index(sections, limit);
    for (size_t i = 0; i < limit; ++i) {
        const Line &line = lines[i];
        if (line.text.empty()) continue;
        if (auto kind = heading_kind(line)) {
            // A résumé that opens with its sections (the name drawn as graphics) has no name here.
            if (*kind != Section::Contact && *kind != Section::Summary && *kind != Section::Other) break;
            continue;
        }
        if (index.of(i) != Section::Header && index.of(i) != Section::Contact) continue;
        if (!find_emails(line.text).empty() || !find_urls(line.text).empty() || !find_phones(line.text).empty())
            continue;
        const std::string candidate = name_candidate_text(line.text);
        if (candidate.empty()) continue;
        const bool single = split_words(candidate).size() == 1;
        if (!plausible_name(candidate, single)) continue;
        const std::u32string cps = decode_utf8(candidate);
        if (!cps.empty() && is_cjk(cps[0])) return candidate;  // written without spaces, never wrapped
        // The name wrapped in a narrow box ("Dmitri M." / "Sharma") and printed again in full
        // below it, as some templates do: the full one.
        for (size_t j = i + 1, seen = 0; j < limit && seen < 3; ++j) {
            if (lines[j].text.empty()) continue;
            ++seen;
            const std::string longer = name_candidate_text(lines[j].text);
            if (longer.size() > candidate.size() + 1 && starts_with(longer, candidate + " ") &&
                plausible_name(longer, false) && !heading_kind(lines[j]))
                return longer;
        }
        if (!single) return candidate;
        // One word: a letter-spaced name broken over lines ("J O H N" / "D O E"), or a mononym.
        for (size_t j = i + 1; j < limit && j <= i + 3; ++j) {
            if (lines[j].text.empty()) continue;
            const std::string next = name_candidate_text(lines[j].text);
            if (split_words(next).size() == 1 && plausible_name(next, true) && !heading_kind(lines[j]))
                return candidate + " " + next;
            break;
        }
    }
    return std::nullopt;
}

namespace {

std::optional<size_t> next_text_line(const std::vector<Line> &lines, size_t i, int step) {
    for (int k = 1; k <= 3; ++k) {  // blank lines between the items of a sidebar
        const long j = static_cast<long>(i) + step * k;
        if (j < 0 || j >= static_cast<long>(lines.size())) return std::nullopt;
        if (!lines[static_cast<size_t>(j)].text.empty()) return static_cast<size_t>(j);
    }
    return std::nullopt;
}

// "(https://github.com/jane-" / "doe)", "https://jane-" / "doe.dev • …": a narrow column broke a
// link at a hyphen or a slash; the rest is the first word of the next line. Returns the joined
// link, or nothing, and sets `fragment` to what it took from the next line.
std::optional<std::string> wrapped_url(const std::vector<Line> &lines, size_t i, std::string &fragment) {
    const std::string &t = lines[i].text;
    const size_t space = t.rfind(' ');
    std::string tail = t.substr(space == std::string::npos ? 0 : space + 1);
    if (!tail.empty() && tail.front() == '(') tail.erase(0, 1);
    const std::string lower = lower_ascii(tail);
    if (!(starts_with(lower, "http://") || starts_with(lower, "https://") || starts_with(lower, "www.")) ||
        tail.size() < 9 || std::string_view("-/_").find(tail.back()) == std::string_view::npos)
        return std::nullopt;
    const auto j = next_text_line(lines, i, 1);
    if (!j) return std::nullopt;
    const std::string &next = lines[*j].text;
    std::string f = next.substr(0, next.find(' '));
    if (!f.empty() && f.back() == ')') f.pop_back();
    if (f.empty() || f.size() > 64 || !std::all_of(f.begin(), f.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '-' || c == '_' || c == '/' || c == '~' || c == '%';
        }))
        return std::nullopt;
    const auto found = find_urls(tail + f);
    if (found.size() != 1 || found[0] != tail + f) return std::nullopt;
    fragment = f;
    return tail + f;
}

// "james.mcallister@yand" / "ex.ru": a narrow column wraps an address; the rest is one
// lower-case fragment on the next line, and only the joined domain ends in a real TLD.
std::optional<std::string> wrapped_email(const std::vector<Line> &lines, size_t i) {
    const std::string &t = lines[i].text;
    if (t.find('@') == std::string::npos || t.find(' ') != std::string::npos) return std::nullopt;
    const auto j = next_text_line(lines, i, 1);
    if (!j) return std::nullopt;
    const std::string &f = lines[*j].text;
    if (f.size() > 24 || !std::all_of(f.begin(), f.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
        }))
        return std::nullopt;
    auto tld_ok = [](const std::string &email) {
        const std::string domain = email.substr(email.find('@') + 1);
        return RE2::FullMatch(domain, url_re());
    };
    const std::string joined = t + f;
    const auto found = find_emails(joined);
    if (found.size() != 1 || found[0] != joined || !tld_ok(joined)) return std::nullopt;
    const auto alone = find_emails(t);
    if (!alone.empty() && tld_ok(alone[0])) return std::nullopt;
    return joined;
}

// "Phone" on one line and the number on the next; or a number alone next to an email or a link
// alone: contact items stand together even where the columns put them under another heading.
bool phone_in_contact_cluster(const std::vector<Line> &lines, size_t i) {
    if (const auto p = next_text_line(lines, i, -1)) {
        const Line &prev = lines[*p];
        if (split_words(prev.text).size() <= 2 && has_phone_label(prev.folded) && find_phones(prev.text).empty())
            return true;
    }
    size_t letters = 0;
    for (char32_t ch : decode_utf8(lines[i].text)) letters += is_letter(ch);
    if (letters > 0) return false;
    for (int step : {-1, 1})
        if (const auto n = next_text_line(lines, i, step)) {
            const std::string &t = lines[*n].text;
            if (t.find(' ') != std::string::npos) continue;
            if (!find_emails(t).empty() || !find_urls(t).empty()) return true;
        }
    return false;
}

}  // namespace

Contacts find_contacts(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections) {
    Contacts c;
    c.name = find_name(lines, sections);
    const SectionIndex index(sections, lines.size());

    // Email: the first one of the contact block, else the first one outside references.
    for (int pass = 0; pass < 2 && !c.email; ++pass)
        for (size_t i = 0; i < lines.size() && !c.email; ++i) {
            const Section kind = index.of(i);
            if (kind == Section::References) continue;
            if (pass == 0 && !index.contact_region(i)) continue;
            if (auto joined = wrapped_email(lines, i)) {
                c.email = joined;
                break;
            }
            auto emails = find_emails(lines[i].text);
            if (!emails.empty()) c.email = emails.front();
        }

    // Phone: the contact block or a labelled line first; then a line that is mostly the number.
    // A short bare number alone on its line ("88010-000", "530-0001") may be an address's postal
    // code: it is taken only when the pass finds no number that looks more like a phone.
    auto weak_phone = [](const Line &line, const std::string &phone) {
        if (count_digits(phone) > 9 || phone.find('+') != std::string::npos || phone.find('(') != std::string::npos)
            return false;
        if (has_phone_label(line.folded)) return false;
        return trim_field(line.text) == trim_field(phone);
    };
    for (int pass = 0; pass < 2 && !c.phone; ++pass) {
        std::optional<std::string> weak;
        for (size_t i = 0; i < lines.size() && !c.phone; ++i) {
            const Section kind = index.of(i);
            if (kind == Section::References) continue;
            const Line &line = lines[i];
            auto phones = find_phones(line.text);
            if (phones.empty()) continue;
            if (pass == 0) {
                if (!index.contact_region(i) && !has_phone_label(line.folded) && !is_contact_line(line) &&
                    !phone_in_contact_cluster(lines, i))
                    continue;
                if (is_description_line(line)) continue;
            } else {
                if (kind == Section::Work || kind == Section::Education || kind == Section::Projects ||
                    kind == Section::Awards || kind == Section::Mixed)
                    continue;
                size_t letters = 0;
                for (char32_t ch : decode_utf8(line.text)) letters += is_letter(ch);
                if (letters > 12) continue;
            }
            if (weak_phone(line, phones.front())) {
                if (!weak) weak = phones.front();
                continue;
            }
            c.phone = phones.front();
        }
        if (!c.phone) c.phone = weak;
    }

    // URLs: personal links of the contact block, profile links anywhere, a homepage named like
    // the candidate; never links in project or job descriptions.
    std::vector<std::string> name_tokens, email_tokens;
    std::string email_domain;
    if (c.name) name_tokens = ascii_tokens(*c.name, 3);
    if (c.email) {
        const size_t at = c.email->find('@');
        email_tokens = ascii_tokens(c.email->substr(0, at), 3);
        email_domain = host_label(lower_ascii(c.email->substr(at + 1)));
    }
    std::vector<std::string> seen;
    std::string fragment;
    for (size_t i = 0; i < lines.size() && !(c.url && c.profiles.size() >= kMaxProfiles); ++i) {
        const Section kind = index.of(i);
        if (kind == Section::Projects || kind == Section::References || kind == Section::Awards) continue;
        const Line &line = lines[i];
        const std::string taken = std::move(fragment);  // the start of this line, joined to a link above
        fragment.clear();
        std::vector<std::string> urls;
        for (std::string &url : find_urls(line.text))
            if (taken.empty() || url != taken || !starts_with(line.text, taken)) urls.push_back(std::move(url));
        if (auto joined = wrapped_url(lines, i, fragment)) {
            // The broken link's first half may have matched on its own ("https://jane-doe.").
            urls.erase(std::remove_if(urls.begin(), urls.end(),
                                      [&](const std::string &u) { return starts_with(*joined, u); }),
                       urls.end());
            urls.push_back(*joined);
        }
        for (const std::string &url : urls) {
            const size_t at = line.text.find(url);
            if (at != std::string::npos) {
                const std::string before = fold(line.text.substr(at >= 6 ? at - 6 : 0, at >= 6 ? 6 : at));
                if (before.find("see ") != std::string::npos || before.find("voir ") != std::string::npos) continue;
            }
            const ParsedUrl u = parse_url(url);
            const Network *net = network_of(u);
            const std::string user = net ? profile_user(u, *net) : "";
            const std::string label = host_label(u.host);
            bool personal = false;
            if (!label.empty() && u.path.size() <= 1 && !net) {
                if (label == email_domain) personal = true;
                for (const auto &t : name_tokens)
                    if (label.find(t) != std::string::npos) personal = true;
                for (const auto &t : email_tokens)
                    if (label.find(t) != std::string::npos) personal = true;
            }
            bool accept = false;
            if (index.contact_region(i) && (!is_description_line(line) || !user.empty())) accept = true;
            if (is_contact_line(line) && kind != Section::Work && kind != Section::Education) accept = true;
            if (is_contact_line(line) && !find_emails(line.text).empty()) accept = true;
            if (net && !user.empty()) accept = true;
            if (personal) accept = true;
            if ((kind == Section::Other || kind == Section::Skills || kind == Section::Languages) &&
                is_labelled_link(line, url))
                accept = true;
            if (net && user.empty()) accept = false;  // a repository or a post, not a profile
            if (!accept || c.profiles.size() >= kMaxProfiles) continue;
            std::string key = lower_ascii(u.host);
            for (const auto &p : u.path) key += "/" + lower_ascii(p);
            if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
            seen.push_back(key);
            if (net) {
                if (c.profiles.size() < kMaxProfiles) c.profiles.push_back({net->name, user, url});
            } else if (!c.url) {
                c.url = url;
            } else if (c.profiles.size() < kMaxProfiles) {
                c.profiles.push_back({"", "", url});  // a second personal site (blog)
            }
        }
    }

    // Place: a "City, Country" or "Location: …" segment of the contact block.
    for (size_t i = 0; i < lines.size() && i < kHeaderLines && !c.city; ++i) {
        if (!index.contact_region(i)) continue;
        std::string text = lines[i].text;
        for (const char *sep : {" \xC2\xB7 ", " | ", " \xE2\x80\x94 ", " \xE2\x80\xA2 "}) {
            size_t at;
            while ((at = text.find(sep)) != std::string::npos) text.replace(at, std::string(sep).size(), "\n");
        }
        size_t b = 0;
        while (b <= text.size() && !c.city) {
            size_t e = text.find('\n', b);
            if (e == std::string::npos) e = text.size();
            std::string seg = trim(text.substr(b, e - b));
            b = e + 1;
            if (seg.empty() || contains_digit(seg) || seg.find('@') != std::string::npos) continue;
            const size_t colon = seg.find(':');
            const bool labelled = colon != std::string::npos && is_location(seg) && colon < 12;
            if (labelled) seg = trim(seg.substr(colon + 1));
            if (!labelled && (!is_location(seg) || seg.find(',') == std::string::npos)) continue;
            if (split_words(seg).size() > 6) continue;
            // Icon glyphs extracted as symbols ("½ Bremen, Germany") are not part of the place.
            const std::u32string cps = decode_utf8(seg);
            size_t skip = 0;
            while (skip < cps.size() && !is_letter(cps[skip])) ++skip;
            seg = encode_utf8(cps.substr(skip));
            const size_t comma = seg.rfind(',');
            if (comma == std::string::npos) {
                c.city = trim_field(seg);
            } else {
                c.city = trim_field(seg.substr(0, comma));
                c.region = trim_field(seg.substr(comma + 1));
            }
        }
    }
    return c;
}

}  // namespace rp::resume
