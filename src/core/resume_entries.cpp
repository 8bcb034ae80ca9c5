// Work and education entries: which line of an entry names the organisation, whatever the layout
// ("Title, Org — dates", "Org / City / Title / dates", "dates – Title, Org, City", "Title @Org").
#include <re2/re2.h>

#include <algorithm>

#include "resume_internal.h"

namespace rp::resume {
namespace {

constexpr size_t kMaxEntries = 60;
constexpr size_t kMaxSummary = 1000;
constexpr size_t kMaxOrgWords = 12;

enum class Kind { Skip, Date, Dated, Header, Description };

struct Item {
    size_t index;  // line index
    Kind kind;
    std::string text;  // Dated: the text left when the dates are removed
};

bool is_bullet_start(const std::string &t) {
    return starts_with(t, "\xE2\x80\xA2") || starts_with(t, "- ") || starts_with(t, "* ") ||
           starts_with(t, "\xC2\xB7") || starts_with(t, "\xE2\x80\x93 ") || starts_with(t, "o ");
}

// "• Did this" → "Did this".
std::string strip_bullet(const std::string &t) {
    for (const char *b : {"\xE2\x80\xA2", "\xC2\xB7", "- ", "* ", "\xE2\x80\x93 "})
        if (starts_with(t, b)) return trim(t.substr(std::string(b).size()));
    return t;
}

bool ends_sentence(const std::string &t) {
    if (t.empty() || t.back() != '.') return false;
    return trim_field(t) != t;  // trim_field keeps the full stop of abbreviations
}

size_t letter_count(std::string_view s) {
    size_t n = 0;
    for (char32_t c : decode_utf8(s)) n += is_letter(c);
    return n;
}

// Organisation names are capitalised ("Harbor Payments", "Tchouque-Tschouk Kot", "NEXON"); a
// sentence fragment is not. Text in parentheses does not count.
bool capitalised_phrase(std::string_view s) {
    std::string outside;
    int depth = 0;
    for (char c : s) {
        if (c == '(') ++depth;
        if (depth == 0) outside += c;
        if (c == ')' && depth > 0) --depth;
    }
    const std::vector<std::string> words = split_words(outside);
    if (words.empty() || words.size() > kMaxOrgWords) return false;
    size_t considered = 0, capital = 0;
    for (const auto &w : words) {
        const std::u32string cps = decode_utf8(w);
        size_t k = 0;
        while (k < cps.size() && !is_letter(cps[k]) && !(cps[k] >= '0' && cps[k] <= '9')) ++k;
        if (k == cps.size()) continue;
        const std::string f = fold(w);
        if (f == "of" || f == "and" || f == "the" || f == "for" || f == "de" || f == "du" || f == "des" || f == "der" ||
            f == "und" || f == "et" || f == "y" || f == "la" || f == "le" || f == "di" || f == "del" || f == "in" ||
            f == "at" || f == "on" || f == "&")
            continue;
        ++considered;
        if (is_upper(cps[k]) || (cps[k] >= '0' && cps[k] <= '9') || is_cjk(cps[k]) || !is_lower(cps[k])) ++capital;
    }
    return considered > 0 && capital * 10 >= considered * 7;
}

bool has_cjk(std::string_view s) {
    for (char32_t c : decode_utf8(s))
        if (is_cjk(c)) return true;
    return false;
}

// The head noun of a phrase: the last word, or the last word before "of" / "for" / "at"
// ("Director of Engineering" → Director, "University of Bremen" → University).
std::string head_word(std::string_view s) {
    std::vector<std::string> words = split_words(fold(s));
    for (size_t i = 1; i < words.size(); ++i)
        if (words[i] == "of" || words[i] == "for" || words[i] == "at" || words[i] == "de" || words[i] == "in" ||
            words[i] == "fur" || words[i] == "du" || words[i] == "des" || words[i] == "der") {
            words.resize(i);
            break;
        }
    while (!words.empty() && (words.back().empty() || words.back()[0] == '(' || words.back() == "&")) words.pop_back();
    return words.empty() ? std::string() : words.back();
}

// Classifies one line of an entry section.
Kind classify(const Line &line, const std::optional<std::string> &name) {
    const std::string &t = line.text;
    if (t.empty()) return Kind::Skip;
    if (is_date_only(t)) return Kind::Date;
    if (is_month_only(t)) return Kind::Skip;
    if (letter_count(t) == 0) return Kind::Skip;  // page numbers, rules
    if (is_entry_label(trim_field(t))) return Kind::Skip;  // "Highlights" above an entry's bullets
    if (name && name->size() >= 5 && line.folded.find(fold(*name)) != std::string::npos) return Kind::Skip;  // footer
    const std::vector<std::string> words = split_words(t);
    const auto urls = find_urls(t);
    if (!urls.empty() && urls.front().size() + 4 >= t.size()) return Kind::Skip;  // a bare link
    if (starts_with(line.folded, "see ") || starts_with(line.folded, "voir ")) return Kind::Description;
    const bool dated = has_date(t);
    if (words.size() > 12) {
        // A long entry line keeps its structure: "2014 – 2016 Master of Science in CS, MIT, Cambridge".
        const std::vector<std::string> fields = dated ? split_fields(strip_dates(t)) : std::vector<std::string>{};
        if (!dated || words.size() > 24 || fields.size() < 2 || split_words(fields[0]).size() > 8)
            return Kind::Description;
    }
    if (is_bullet_start(t) && words.size() > 5) return Kind::Description;
    if (ends_sentence(t) && words.size() >= 4 && t.find(", ") == std::string::npos) return Kind::Description;
    // A wrapped sentence: mostly lower-case words.
    if (words.size() >= 7 && t.find(", ") == std::string::npos && !capitalised_phrase(t) && !has_cjk(t))
        return Kind::Description;
    if (t.back() == ',' && words.size() >= 4 && !dated) return Kind::Description;
    const std::u32string cps = decode_utf8(t);
    if (!cps.empty() && (cps[0] == 0x201C || cps[0] == '"')) return Kind::Description;
    if (!cps.empty() && is_lower(cps[0]) && !dated) {
        // "otulea.uni-bremen.de, 2010 - 2011" starts in lower case and is an organisation.
        const std::string first = words.empty() ? "" : words[0];
        if (first.find('.') == std::string::npos || find_urls(first).empty()) return Kind::Description;
    }
    return dated ? Kind::Dated : Kind::Header;
}

// "Systems Administrator" is a title and "Lagoon Security" is not: the head noun decides when
// both kinds of word occur.
bool title_only(std::string_view s) {
    if (!has_title_word(s)) return false;
    if (!has_org_word(s)) return true;
    const std::string head = head_word(s);
    return has_title_word(head) && !has_org_word(head);
}

bool org_phrase(std::string_view s) {
    if (!has_org_word(s)) return false;
    if (!has_title_word(s)) return true;
    return !title_only(s);
}

bool city_like(const std::string &f) {
    return split_words(f).size() <= 3 && !has_org_word(f) && !has_title_word(f) && !contains_digit(f) &&
           capitalised_phrase(f);
}

// "University of Bergen. Thesis on fluids": the name ends with its sentence.
std::string cut_sentence(const std::string &f) {
    for (size_t at = f.find(". "); at != std::string::npos; at = f.find(". ", at + 2)) {
        size_t b = at;
        while (b > 0 && f[b - 1] != ' ' && f[b - 1] != '.') --b;
        if (at - b >= 3 && f[at - 1] >= 'a' && f[at - 1] <= 'z') return trim_field(f.substr(0, at));
    }
    return f;
}

struct Parsed {
    std::optional<std::string> org;
    std::optional<std::string> title;
    bool strong = false;  // the line has entry structure: a title and an organisation
};

const RE2 &at_org_re() {
    static const RE2 *re = new RE2("^(.*?)\\s*(?:\\s@\\s?|^@\\s?|\\s+at\\s+|\\s+chez\\s+|\\s+bei\\s+)(\\S.*)$");
    return *re;
}

// One entry line: "Title, Org, City, Country", "Org - Title", "Title @Org", "Org".
Parsed parse_entry_line(const std::string &text, bool education) {
    Parsed p;
    std::string left, right;
    if (RE2::FullMatch(text, at_org_re(), &left, &right) && find_emails(text).empty()) {
        left = trim_field(left);
        right = trim_field(right);
        if (!right.empty() && (left.empty() ? false : has_title_word(left)) && !title_only(right)) {
            p.org = right;
            p.title = left;
            p.strong = true;
            return p;
        }
    }
    std::vector<std::string> fields = split_fields(text);
    // Places at the end: "…, San Francisco, USA", "…, Mountain View, CA".
    bool dropped_place = false;
    while (fields.size() > 1 && (is_country(fields.back()) || is_location(fields.back()))) {
        fields.pop_back();
        dropped_place = true;
    }
    if (dropped_place && fields.size() > 2 && city_like(fields.back())) fields.pop_back();
    fields.erase(std::remove_if(fields.begin(), fields.end(), [](const std::string &f) { return is_date_only(f); }),
                 fields.end());
    if (fields.empty()) return p;

    auto role_like = [&](const std::string &f) {
        return education ? (has_degree_word(f) && !has_school_word(f)) : title_only(f);
    };
    auto org_like = [&](const std::string &f) { return education ? has_school_word(f) : org_phrase(f); };

    if (fields.size() == 1) {
        if (!role_like(fields[0]) && (org_like(fields[0]) || capitalised_phrase(fields[0])))
            p.org = fields[0];
        else if (role_like(fields[0]))
            p.title = fields[0];
        return p;
    }
    // An organisation word decides; then a role in one field makes another the organisation;
    // then position: "Title, Org" with commas, "Org - Title" with dashes and bars.
    int pick = -1;
    for (size_t i = 0; i < fields.size() && pick < 0; ++i)
        if (org_like(fields[i]) && !role_like(fields[i])) pick = static_cast<int>(i);
    int role = -1;
    for (size_t i = 0; i < fields.size() && role < 0; ++i)
        if (role_like(fields[i])) role = static_cast<int>(i);
    if (pick < 0 && role >= 0) {
        for (size_t i = 0; i < fields.size() && pick < 0; ++i) {
            if (static_cast<int>(i) == role || role_like(fields[i])) continue;
            // "Major in …", "Specialization in AI", "GPA: 3.9": details of a degree, not a school.
            const std::string f = fold(fields[i]);
            if (education && (f.find(" in ") != std::string::npos || starts_with(f, "gpa") || starts_with(f, "major") ||
                              starts_with(f, "minor") || starts_with(f, "grade")))
                continue;
            if (capitalised_phrase(fields[i])) pick = static_cast<int>(i);
        }
    }
    if (pick < 0 && !education) {
        const size_t comma = text.find(", ");
        size_t other = std::string::npos;
        for (const char *sep : {" - ", " | ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " \xC2\xB7 "})
            other = std::min(other, text.find(sep));
        const int candidate = (comma != std::string::npos && comma < other) ? 1 : 0;
        if (capitalised_phrase(fields[candidate])) pick = candidate;
    }
    if (pick >= 0) {
        p.org = fields[pick];
        if (role >= 0 && role != pick) {
            p.title = fields[role];
            p.strong = true;
        } else if (!education && pick == 1 && fields.size() >= 2) {
            p.title = fields[0];
        }
    }
    return p;
}

struct Block {
    std::vector<Item> items;
};

std::vector<Block> make_blocks(const std::vector<Line> &lines, size_t begin, size_t end,
                               const std::optional<std::string> &name) {
    std::vector<Block> blocks(1);
    for (size_t i = begin; i < end; ++i) {
        const Kind k = classify(lines[i], name);
        if (k == Kind::Skip) continue;
        if (k == Kind::Description) {
            blocks.back().items.push_back({i, k, lines[i].text});
            blocks.emplace_back();
            continue;
        }
        Item item{i, k, lines[i].text};
        if (k == Kind::Dated) {
            item.text = strip_dates(lines[i].text);
            if (item.text.empty() || letter_count(item.text) == 0) item.kind = Kind::Date;
        }
        blocks.back().items.push_back(std::move(item));
    }
    return blocks;
}

struct Found {
    std::string org;
    std::optional<std::string> title;
    size_t first_line, last_line;
    std::optional<size_t> date_line;
};

// The best organisation line of a group of undated header lines, whole.
std::optional<size_t> best_org_line(const std::vector<Item> &group, bool require_org_word) {
    int best_score = -100;
    std::optional<size_t> best;
    for (size_t k = 0; k < group.size(); ++k) {
        const std::string t = trim_field(group[k].text);
        if (t.empty() || is_location(t) || split_words(t).size() > kMaxOrgWords) continue;
        const bool org = org_phrase(t);
        if (require_org_word && !org) continue;
        if (!capitalised_phrase(t) && !has_cjk(t)) continue;
        int score = (org ? 3 : 0) - (title_only(t) ? 4 : has_title_word(t) ? 2 : 0) + (k == 0 ? 1 : 0);
        if (parse_entry_line(t, false).strong) score += 3;  // "Title, Org, City" on one line
        if (score > best_score) {
            best_score = score;
            best = k;
        }
    }
    if (best_score < -1) return std::nullopt;
    return best;
}

// Work entries of one section. In a section that only interrupts the work section (a sidebar's
// "Skills" between two jobs of the main column), only lines that clearly name an organisation count.
void work_in_span(const std::vector<Line> &lines, size_t begin, size_t end, bool strict, bool mixed,
                  const std::optional<std::string> &name, std::vector<Found> &out) {
    for (const Block &block : make_blocks(lines, begin, end, name)) {
        std::vector<Item> items;
        for (const auto &it : block.items)
            if (it.kind != Kind::Description) items.push_back(it);
        if (items.empty()) continue;

        // Groups of undated header lines between anchors (dates).
        std::vector<std::vector<Item>> groups(1);
        std::vector<const Item *> anchors;
        for (const auto &it : items) {
            if (it.kind == Kind::Date || it.kind == Kind::Dated) {
                anchors.push_back(&it);
                groups.emplace_back();
            } else {
                groups.back().push_back(it);
            }
        }
        std::vector<bool> used(groups.size(), false);
        // "Title / Org / Title / Org" with no date between: a table whose dates column was
        // extracted apart. Each title line and the organisation line after it are one entry.
        for (size_t g = 0; g < groups.size() && !strict; ++g) {
            const std::vector<Item> &group = groups[g];
            if (group.size() < 4 || group.size() % 2 != 0) continue;
            bool pairs = true;
            for (size_t k = 0; k + 1 < group.size() && pairs; k += 2) {
                const std::string org = trim_field(group[k + 1].text);
                pairs = title_only(trim_field(group[k].text)) && !has_title_word(org) && !is_location(org) &&
                        split_words(org).size() <= 8 && (capitalised_phrase(org) || has_cjk(org));
            }
            if (!pairs) continue;
            for (size_t k = 0; k + 1 < group.size() && out.size() < kMaxEntries; k += 2) {
                // The title has its own line, so the organisation leads its line ("Org, City").
                const std::vector<std::string> fields = split_fields(group[k + 1].text);
                out.push_back({fields.empty() ? trim_field(group[k + 1].text) : fields.front(), trim_field(group[k].text),
                               group[k].index, group[k + 1].index, std::nullopt});
            }
            used[g] = true;
        }

        auto take_group = [&](size_t g, const Item *anchor) -> bool {
            if (used[g] || groups[g].empty()) return false;
            std::vector<Item> candidates;
            for (const auto &it : groups[g])
                if (!is_location(trim_field(it.text))) candidates.push_back(it);
            if (candidates.empty()) return false;
            Found f;
            if (candidates.size() == 1) {
                Parsed p = parse_entry_line(candidates[0].text, false);
                if (!p.org || (strict && !p.strong && !has_org_word(*p.org))) return false;
                if (mixed && !p.strong && !has_org_word(*p.org)) return false;
                f.org = *p.org;
                f.title = p.title;
            } else {
                auto k = best_org_line(candidates, strict || mixed);
                if (!k) return false;
                Parsed p = parse_entry_line(candidates[*k].text, false);
                f.org = p.strong && p.org ? *p.org : cut_sentence(trim_field(candidates[*k].text));
                for (const auto &c : candidates)
                    if (c.index != candidates[*k].index && has_title_word(c.text) && !f.title)
                        f.title = trim_field(c.text);
                if (p.strong && p.title) f.title = p.title;
            }
            f.first_line = groups[g].front().index;
            f.last_line = groups[g].back().index;
            if (anchor) {
                f.date_line = anchor->index;
                f.first_line = std::min(f.first_line, anchor->index);
                f.last_line = std::max(f.last_line, anchor->index);
            }
            used[g] = true;
            out.push_back(std::move(f));
            return true;
        };

        if (anchors.empty()) {
            // No date: only a line with entry structure ("Tutor, UCL, Louvain") is an entry, or a
            // title line with an organisation line next to it (the dates of a right-aligned
            // column can be extracted after the entry's bullets).
            const size_t before = out.size();
            for (const auto &it : groups[0]) {
                Parsed p = parse_entry_line(it.text, false);
                if (p.org && p.strong) out.push_back({*p.org, p.title, it.index, it.index, std::nullopt});
            }
            if (out.size() == before && !strict && groups[0].size() == 2) {
                const std::string a = trim_field(groups[0][0].text), b = trim_field(groups[0][1].text);
                const bool a_title = title_only(a), b_title = title_only(b);
                if (a_title != b_title) {
                    const std::string &org = a_title ? b : a;
                    if (!is_location(org) && !has_title_word(org) && split_words(org).size() <= 6 &&
                        (capitalised_phrase(org) || has_cjk(org)) && (!mixed || has_org_word(org)))
                        out.push_back({org, a_title ? a : b, groups[0][0].index, groups[0][1].index, std::nullopt});
                }
            }
            continue;
        }
        for (size_t a = 0; a < anchors.size() && out.size() < kMaxEntries; ++a) {
            const Item *anchor = anchors[a];
            if (anchor->kind == Kind::Dated) {
                Parsed p = parse_entry_line(anchor->text, false);
                bool ok = p.org.has_value();
                if (ok && (strict || mixed) && !p.strong && !has_org_word(*p.org)) ok = false;
                if (ok) {
                    out.push_back({*p.org, p.title, anchor->index, anchor->index, anchor->index});
                    continue;
                }
            }
            // Groups g = a (before the anchor) and a + 1 (after it).
            if (!take_group(a, anchor)) take_group(a + 1, anchor);
        }
    }
}

std::optional<std::string> nonempty(std::string s) {
    if (s.empty()) return std::nullopt;
    return s;
}

bool is_empty_span(const std::vector<Line> &lines, const SectionSpan &s) {
    for (size_t i = s.begin; i < s.end && i < lines.size(); ++i)
        if (!lines[i].text.empty()) return false;
    return true;
}

bool is_main_section(Section s) {
    return s == Section::Work || s == Section::Mixed || s == Section::Education;
}
bool interrupts(Section s) {
    return s == Section::Summary || s == Section::Skills || s == Section::Languages || s == Section::Contact ||
           s == Section::Other;
}

std::string dedupe_key(const std::string &s) {
    std::string k;
    for (char32_t c : decode_utf8(fold(s)))
        if (is_letter(c) || (c >= '0' && c <= '9')) append_utf8(k, c);
    return k;
}

// "Master of Science in Computer Science" → ("Master of Science", "Computer Science").
void split_degree(const std::string &degree, EducationEntry &e) {
    const std::string f = fold(degree);
    const size_t in = f.find(" in ");
    if (in != std::string::npos && in == degree.find(" in ")) {
        e.study_type = trim_field(degree.substr(0, in));
        e.area = nonempty(trim_field(degree.substr(in + 4)));
        return;
    }
    const std::vector<std::string> words = split_words(degree);
    const bool abbreviation = words.size() >= 2 && has_degree_word(words[0]) &&
                              (words[0].find('.') != std::string::npos || words[0].size() <= 5) &&
                              fold(words[1]) != "of";
    if (abbreviation) {
        e.study_type = words[0];
        e.area = nonempty(trim_field(degree.substr(words[0].size())));
        return;
    }
    e.study_type = degree;
}

// The institution named on one education line, with the degree when the line has one.
std::optional<EducationEntry> parse_education_line(const std::string &text) {
    const std::vector<std::string> fields = split_fields(text);
    std::optional<std::string> school, degree;
    for (const auto &field : fields) {
        const std::string f = cut_sentence(field);
        if (!school && has_school_word(f) && split_words(f).size() <= kMaxOrgWords &&
            (capitalised_phrase(f) || has_cjk(f)))
            school = f;
        else if (!degree && has_degree_word(f) && !has_school_word(f))
            degree = f;
    }
    if (!school) {
        Parsed p = parse_entry_line(text, true);
        // "PhD in Computer Science, CalTech, Pasadena"; not "M.Sc., Physics", where the second
        // field is the subject.
        if (p.org && p.title && !is_field_of_study(*p.org)) school = p.org;
    }
    if (!school) return std::nullopt;
    EducationEntry e;
    e.institution = *school;
    if (degree) split_degree(*degree, e);
    return e;
}

const char *const kConnectors[] = {"de", "of",  "for", "and", "du",  "des", "der", "fur", "di",  "del",
                                   "la", "the", "&",   "d'",  "und", "y",   "da",  "do",  "van", "von"};

// "Université Hassan II de" / "Casablanca : Faculté des": a name broken over two lines.
std::string with_continuation(const std::vector<Line> &lines, size_t i, size_t end) {
    std::string t = lines[i].text;
    const std::vector<std::string> words = split_words(fold(t));
    if (words.empty()) return t;
    bool dangling = false;
    for (const char *c : kConnectors)
        if (words.back() == c) dangling = true;
    if (!dangling) return t;
    for (size_t j = i + 1; j < end && j <= i + 2; ++j)
        if (!lines[j].text.empty()) return t + " " + lines[j].text;
    return t;
}

}  // namespace

std::optional<std::string> org_of_line(std::string_view line) {
    std::string t = strip_dates(line);
    Parsed p = parse_entry_line(t, false);
    return p.org;
}

namespace {

// Form-like CVs (Europass) label each field of an entry on the left: "Dates", "Occupation or
// position held", "Name and address of employer". A label may wrap around its value.
bool key_is(const Line &l, std::initializer_list<const char *> keys) {
    for (const char *k : keys)
        if (l.key == k) return true;
    return false;
}
bool employer_label(const Line &l) {
    return key_is(l, {"nameandaddressofemployer", "nameandaddressof", "employer", "employername", "nameofemployer",
                      "arbeitgeber", "nameundadressedesarbeitgebers", "employeur", "nometadressedelemployeur",
                      "empleador", "nombreydirecciondelempleador", "datoredilavoro", "nomeeindirizzodeldatoredilavoro"});
}
bool label_fragment(const Line &l) {
    return employer_label(l) ||
           key_is(l, {"dates", "date", "occupationorpositionheld", "occupationorposition", "held", "mainactivitiesand",
                      "responsibilities", "mainactivitiesandresponsibilities", "typeofbusinessorsector",
                      "typeofbusiness", "orsector", "beruflichepositionoderfunktion", "fonctionoupostesoccupes",
                      "funcionocargoocupados"});
}

// The value after the label at line i: the next line that is not a piece of a label.
std::optional<size_t> labelled_value(const std::vector<Line> &lines, size_t i, size_t end) {
    for (size_t j = i + 1; j < end && j <= i + 3; ++j) {
        if (lines[j].text.empty() || label_fragment(lines[j])) continue;
        return j;
    }
    return std::nullopt;
}

std::vector<WorkEntry> labelled_work(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections) {
    std::vector<WorkEntry> out;
    for (const auto &s : sections) {
        if (s.kind != Section::Work && s.kind != Section::Mixed) continue;
        std::optional<std::string> position, start, end;
        bool ongoing = false;
        for (size_t i = s.begin; i < s.end && out.size() < kMaxEntries; ++i) {
            const Line &l = lines[i];
            if (key_is(l, {"dates", "date"})) {
                position.reset();
                if (auto v = labelled_value(lines, i, s.end)) {
                    const DateRange d = parse_dates(lines[*v].text);
                    start = d.found ? std::optional<std::string>(d.start) : std::nullopt;
                    end = d.found && !d.ongoing ? d.end : std::nullopt;
                    ongoing = d.ongoing;
                }
            } else if (key_is(l, {"occupationorpositionheld", "occupationorposition", "beruflichepositionoderfunktion",
                                  "fonctionoupostesoccupes", "funcionocargoocupados"})) {
                if (auto v = labelled_value(lines, i, s.end)) position = trim_field(lines[*v].text);
            } else if (employer_label(l) && !key_is(l, {"employer"})) {
                const auto v = labelled_value(lines, i, s.end);
                if (!v) continue;
                const std::vector<std::string> fields = split_fields(lines[*v].text);
                const std::string org = trim_field(fields.empty() ? lines[*v].text : fields.front());
                if (org.empty() || split_words(org).size() > kMaxOrgWords || (!capitalised_phrase(org) && !has_cjk(org)))
                    continue;
                WorkEntry w;
                w.name = org;
                w.position = position;
                w.start = start;
                if (!ongoing) w.end = end;
                out.push_back(std::move(w));
                start.reset();
                end.reset();
                position.reset();
            }
        }
    }
    return out;
}

}  // namespace

std::vector<WorkEntry> find_work(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections,
                                 const std::optional<std::string> &name) {
    if (std::vector<WorkEntry> labelled = labelled_work(lines, sections); !labelled.empty()) return labelled;
    std::vector<Found> found;
    bool in_work = false;
    // An empty work heading: its entries follow under sidebar headings (a plain flag and kind:
    // GCC 12 takes an optional<Section> here for maybe-uninitialised).
    bool carry = false;
    Section carry_kind = Section::Work;
    for (size_t n = 0; n < sections.size(); ++n) {
        const SectionSpan &s = sections[n];
        const bool right_after_empty_work =
            n > 0 && (sections[n - 1].kind == Section::Work || sections[n - 1].kind == Section::Mixed) &&
            is_empty_span(lines, sections[n - 1]);
        if (s.kind == Section::Work || s.kind == Section::Mixed) {
            in_work = true;
            carry = false;
            if (is_empty_span(lines, s)) {
                carry = true;
                carry_kind = s.kind;
                continue;
            }
            work_in_span(lines, s.begin, s.end, false, s.kind == Section::Mixed, name, found);
        } else if (s.kind == Section::Education) {
            // "Experience" and "Education" side by side: both headings first, then both columns.
            if (right_after_empty_work) work_in_span(lines, s.begin, s.end, false, true, name, found);
            in_work = false;
            carry = false;
        } else if (carry && s.kind != Section::References && s.kind != Section::Header) {
            work_in_span(lines, s.begin, s.end, false, carry_kind == Section::Mixed, name, found);
        } else if (in_work && interrupts(s.kind)) {
            work_in_span(lines, s.begin, s.end, true, false, name, found);
        }
    }
    std::vector<WorkEntry> out;
    std::vector<std::string> keys;
    for (size_t n = 0; n < found.size() && out.size() < kMaxEntries; ++n) {
        const Found &f = found[n];
        const std::string key = dedupe_key(f.org);
        if (key.empty()) continue;
        // The same organisation twice in a row is one entry split over lines, not two jobs.
        if (!keys.empty() && keys.back() == key && !f.date_line) continue;
        WorkEntry w;
        w.name = f.org;
        w.position = f.title;
        if (f.date_line) {
            DateRange d = parse_dates(lines[*f.date_line].text);
            if (d.found) {
                w.start = d.start;
                if (!d.ongoing) w.end = d.end;
            }
        }
        // Summary: the description lines after the entry, up to the next entry.
        const size_t stop = n + 1 < found.size() ? found[n + 1].first_line : std::min(lines.size(), f.last_line + 40);
        std::string summary;
        for (size_t i = f.last_line + 1; i < stop && i < lines.size() && summary.size() < kMaxSummary; ++i) {
            if (heading_kind(lines[i])) break;
            if (classify(lines[i], name) != Kind::Description) continue;
            std::string t = strip_bullet(lines[i].text);
            if (t.empty()) continue;
            if (!summary.empty()) summary += ' ';
            summary += t;
        }
        if (summary.size() > kMaxSummary) {
            size_t cut = kMaxSummary;
            while (cut > 0 && (static_cast<unsigned char>(summary[cut]) & 0xC0) == 0x80) --cut;
            summary.resize(cut);
        }
        w.summary = nonempty(summary);
        keys.push_back(key);
        out.push_back(std::move(w));
    }
    return out;
}

std::vector<EducationEntry> find_education(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections,
                                           const std::optional<std::string> &name) {
    std::vector<EducationEntry> out;
    std::vector<std::string> keys;
    auto add = [&](EducationEntry e, size_t line, size_t begin, size_t end) {
        const std::string key = dedupe_key(e.institution);
        if (key.empty() || out.size() >= kMaxEntries) return;
        if (std::find(keys.begin(), keys.end(), key) != keys.end() && !e.study_type) return;
        // Dates: on the line, else on a date line next to it.
        for (size_t d = 0; d <= 3; ++d) {
            for (size_t j : {line + d, line >= d ? line - d : line}) {
                if (j < begin || j >= end) continue;
                if (d > 0 && !is_date_only(lines[j].text)) continue;
                DateRange r = parse_dates(lines[j].text);
                if (!r.found) continue;
                e.start = r.start;
                if (!r.ongoing) e.end = r.end;
                d = 4;
                break;
            }
        }
        keys.push_back(key);
        out.push_back(std::move(e));
    };

    auto scan = [&](size_t begin, size_t end, bool loose) {
        std::optional<std::string> pending_degree;
        std::optional<size_t> last_line;
        for (size_t i = begin; i < end; ++i) {
            const Kind k = classify(lines[i], name);
            if (k == Kind::Skip || k == Kind::Date) continue;
            if (k == Kind::Description) {
                // A wrapped line ending in "de" / "of" may still carry the school.
                if (!has_school_word(lines[i].text)) continue;
            }
            std::string text = with_continuation(lines, i, end);
            text = strip_dates(text);
            if (auto e = parse_education_line(text)) {
                if (loose && !has_school_word(e->institution)) continue;
                if (!e->study_type && pending_degree) split_degree(*pending_degree, *e);
                pending_degree.reset();
                const size_t before = out.size();
                add(std::move(*e), i, begin, end);
                if (out.size() > before) last_line = i;
            } else if (has_degree_word(text) && k != Kind::Description) {
                const std::vector<std::string> parts = split_fields(text);
                const std::string degree = parts.empty() ? trim_field(text) : parts.front();
                // "School / Degree" when the school just came without one, else "Degree / School".
                if (!out.empty() && !out.back().study_type && last_line && i - *last_line <= 3)
                    split_degree(degree, out.back());
                else
                    pending_degree = degree;
            }
        }
    };

    bool carry = false;  // an empty education heading: its entries follow under sidebar headings
    for (const auto &s : sections) {
        if (s.kind == Section::Education || s.kind == Section::Mixed) {
            carry = is_empty_span(lines, s);
            scan(s.begin, s.end, false);
        } else if (s.kind == Section::Work) {
            carry = false;
        } else if (carry && s.kind != Section::References) {
            scan(s.begin, s.end, false);
        }
    }
    // No education section found, or an empty one (columns interleaved): schools named anywhere
    // outside descriptions.
    if (out.empty())
        for (const auto &s : sections)
            if (s.kind == Section::Header || is_main_section(s.kind) || interrupts(s.kind)) scan(s.begin, s.end, true);
    return out;
}

}  // namespace rp::resume
