// Dates of résumé entries: "Mar. 2021 – Present", "2015 / 07", "06/2019 - heute", "2013 年 6 月 – 至今".
#include <re2/re2.h>

#include "resume_internal.h"

namespace rp::resume {
namespace {

// Month names and abbreviations: English, German, French, Spanish, Italian.
#define RP_MONTH                                                                                                \
    "(?:jan(?:uary|vier|uar|ero)?|feb(?:ruary|ruar|rero|braio)?|f[eé]v(?:rier|r)?|m[aä]r(?:ch|z|s|zo)?|"      \
    "apr(?:il|ile)?|avr(?:il)?|abr(?:il)?|may|mayo|mai|maggio|jun(?:e|i|io)?|juin|jul(?:y|i|io)?|juil(?:let)?|" \
    "aug(?:ust)?|ao[uû]t|ago(?:sto)?|sep(?:t|tember|tembre|tiembre)?|set(?:tembre)?|oct(?:ober|obre|ubre)?|"   \
    "okt(?:ober)?|nov(?:ember|embre|iembre)?|d[eé]c(?:ember|embre)?|dez(?:ember)?|dic(?:iembre|embre)?|"       \
    "gen(?:naio)?|ene(?:ro)?|lug(?:lio)?|giu(?:gno)?|ott(?:obre)?|"                                             \
    "spring|summer|fall|autumn|winter|fr[uü]hling|sommer|herbst|printemps|[eé]t[eé]|automne|hiver|"          \
    "primavera|verano|oto[nñ]o|invierno)"
#define RP_YEAR "(?:19|20)\\d{2}"
// A point in time: "Mar. 2021", "March 3, 2021", "06/2019", "15.06.2019", "06/15/2019",
// "2015 / 07", "2019-06", "2019-06-01", "2019.06", "2013 年 6 月", "2017".
#define RP_POINT                                                                                                       \
    "(?:\\b" RP_MONTH "\\b\\.?,?\\s*(?:\\d{1,2}(?:st|nd|rd|th)?,?\\s*)?" RP_YEAR                                         \
    "\\b|\\b\\d{1,2}[/.]\\d{1,2}[/.]" RP_YEAR "\\b|\\b\\d{1,2}\\s*[/.]\\s*" RP_YEAR "\\b|\\b" RP_YEAR                        \
    "-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\\d|3[01]))?\\b|\\b" RP_YEAR "\\.(?:0[1-9]|1[0-2])\\b|\\b" RP_YEAR              \
    "\\s*/\\s*\\d{1,2}\\b|" RP_YEAR "\\s*年(?:\\s*\\d{1,2}\\s*月)?|\\b" RP_YEAR "\\b)"
#define RP_NOW                                                                                                          \
    "(?:\\b(?:present|current(?:ly)?|now|today|ongoing|heute|aktuell|jetzt|laufend|aujourd['’]hui|actuel(?:lement)?|" \
    "en cours|pr[eé]sent|presente|actualidad|actual|hoy|oggi|in corso)\\b|至今)"
#define RP_DASH                                                                                                             \
    "\\s*(?:-|–|—|‐|‑|−|~|→|\\bto\\b|\\buntil\\b|\\btill\\b|\\bthrough\\b|\\bbis\\b|\\bau\\b|\\ba\\b|\\bal\\b|" \
    "\\bhasta\\b|\\band\\b|&)\\s*"
#define RP_PREFIX "(?:\\b(?:since|from|seit|depuis|desde|dal|ab|exp|expected|voraussichtlich)\\b\\.?\\s*)?"
#define RP_RANGE RP_PREFIX RP_POINT "(?:" RP_DASH RP_PREFIX "(?:" RP_POINT "|" RP_NOW ")|\\s*(?:-|–|—))?"

RE2::Options case_insensitive() {
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_log_errors(false);
    return o;
}

const RE2 &point_re() {
    static const RE2 *re = new RE2("(" RP_POINT ")", case_insensitive());
    return *re;
}
const RE2 &range_re() {
    static const RE2 *re = new RE2(RP_RANGE, case_insensitive());
    return *re;
}
const RE2 &now_re() {
    static const RE2 *re = new RE2(RP_NOW, case_insensitive());
    return *re;
}
const RE2 &label_re() {
    static const RE2 *re =
        new RE2("\\b(?:date|dates|period|zeitraum|periode|since|from|seit|depuis|desde|exp|expected|till|until)\\b:?",
                case_insensitive());
    return *re;
}
const RE2 &edge_now_re() {
    static const RE2 *re = new RE2("^[\\s\\-–—]*" RP_NOW "[\\s\\-–—]*|[\\s\\-–—]+" RP_NOW "\\s*$", case_insensitive());
    return *re;
}

int month_number(std::string_view point) {
    static const struct {
        const char *prefix;
        int month;
    } kMonths[] = {{"jan", 1},  {"ene", 1},  {"gen", 1},  {"feb", 2},  {"fev", 2},  {"mar", 3},
                   {"apr", 4},  {"avr", 4},  {"abr", 4},  {"may", 5},  {"mai", 5},  {"mag", 5},
                   {"jun", 6},  {"juin", 6}, {"giu", 6},  {"jul", 7},  {"juil", 7}, {"lug", 7},
                   {"aug", 8},  {"aou", 8},  {"ago", 8},  {"sep", 9},  {"set", 9},  {"oct", 10},
                   {"okt", 10}, {"ott", 10}, {"nov", 11}, {"dec", 12}, {"dez", 12}, {"dic", 12}};
    const std::string f = fold(point);
    std::string letters;
    for (char c : f)
        if (c >= 'a' && c <= 'z')
            letters += c;
        else if (!letters.empty())
            break;
    if (letters.size() >= 3)
        for (const auto &m : kMonths)
            if (starts_with(letters, m.prefix)) return m.month;
    return 0;
}

// "Mar. 2021" → "2021-03"; "06/2019" → "2019-06"; "2015 / 07" → "2015-07"; "2017" → "2017".
std::string iso_of_point(std::string_view point) {
    static const RE2 *year = new RE2("(" RP_YEAR ")");
    static const RE2 *num_before = new RE2("^(\\d{1,2})\\s*[/.]\\s*" RP_YEAR);
    static const RE2 *num_after = new RE2(RP_YEAR "\\s*[-./年]\\s*(\\d{1,2})");
    static const RE2 *day_month = new RE2("^(\\d{1,2})([/.])(\\d{1,2})[/.]" RP_YEAR);
    std::string y;
    if (!RE2::PartialMatch(point, *year, &y)) return std::string(point);
    int month = month_number(point);
    int n = 0, a = 0, b = 0;
    std::string sep;
    // "15.06.2019" and "15/06/2019" are day first, "06/15/2019" month first; a number over 12
    // settles it, otherwise dots are read day first and slashes month first.
    if (!month && RE2::PartialMatch(point, *day_month, &a, &sep, &b)) {
        if (a >= 1 && a <= 12 && (b > 12 || sep == "/"))
            month = a;
        else if (b >= 1 && b <= 12)
            month = b;
    }
    if (!month && RE2::PartialMatch(point, *num_before, &n) && n >= 1 && n <= 12) month = n;
    if (!month && RE2::PartialMatch(point, *num_after, &n) && n >= 1 && n <= 12) month = n;
    if (!month) return y;
    return y + (month < 10 ? "-0" : "-") + std::to_string(month);
}

}  // namespace

bool has_date(std::string_view s) {
    return RE2::PartialMatch(s, point_re());
}

bool is_month_only(std::string_view s) {
    static const RE2 *re = new RE2("\\s*" RP_MONTH "\\.?,?\\s*", case_insensitive());
    return RE2::FullMatch(s, *re);
}

bool is_date_only(std::string_view s) {
    const bool dated = has_date(s);
    if (!dated && !RE2::PartialMatch(s, now_re())) return false;
    std::string t(s);
    RE2::GlobalReplace(&t, range_re(), " ");
    RE2::GlobalReplace(&t, now_re(), " ");
    RE2::GlobalReplace(&t, label_re(), " ");
    size_t alnum = 0;
    for (char32_t c : decode_utf8(t))
        if (is_letter(c) || (c >= '0' && c <= '9')) ++alnum;
    return alnum <= 2;
}

std::string strip_dates(std::string_view s) {
    std::string t(s);
    RE2::GlobalReplace(&t, range_re(), " | ");
    RE2::GlobalReplace(&t, edge_now_re(), " ");
    static const RE2 *label = new RE2("^\\s*(?:date|dates|period|zeitraum)\\s*:", case_insensitive());
    RE2::GlobalReplace(&t, *label, " ");
    // Collapse what the removal left behind ("Org, | " → "Org").
    std::string out;
    for (const auto &w : split_words(t)) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    while (true) {
        std::string before = out;
        out = trim_field(out);
        for (const char *sep : {"|", "()", "( )"}) {
            const std::string sv(sep);
            if (out.size() >= sv.size() && out.compare(out.size() - sv.size(), sv.size(), sv) == 0)
                out.erase(out.size() - sv.size());
        }
        if (out == before) break;
    }
    return out;
}

DateRange parse_dates(std::string_view s) {
    DateRange r;
    re2::StringPiece in(s.data(), s.size());
    std::string point;
    std::vector<std::string> points;
    while (points.size() < 2 && RE2::FindAndConsume(&in, point_re(), &point)) points.push_back(point);
    if (points.empty()) return r;
    r.found = true;
    r.start = iso_of_point(points[0]);
    if (points.size() > 1) r.end = iso_of_point(points[1]);
    const size_t first = s.find(points[0]);
    const std::string_view rest = first == std::string_view::npos ? s : s.substr(first + points[0].size());
    if (points.size() == 1 && RE2::PartialMatch(rest, now_re())) r.ongoing = true;
    return r;
}

}  // namespace rp::resume
