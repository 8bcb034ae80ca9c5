// Text helpers of the résumé parser: a little Unicode without ICU, character repair of
// extracted text, lines, fields.
#include <cstring>

#include "resume_internal.h"
#include "utf8_text.h"

namespace rp::resume {
namespace {

bool in(char32_t c, char32_t lo, char32_t hi) {
    return c >= lo && c <= hi;
}

// Latin-1 Supplement U+00C0..U+00FF without accents; "" for × and ÷.
const char *const kLatin1Fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // C0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",  // D0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // E0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",   // F0
};

// Latin Extended-A U+0100..U+017F: base letters, as ranges.
struct FoldRange {
    char32_t lo, hi;
    const char *base;
};
const FoldRange kLatinExtAFold[] = {
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"}, {0x10E, 0x111, "d"},  {0x112, 0x11B, "e"},  {0x11C, 0x123, "g"},
    {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"}, {0x134, 0x135, "j"},  {0x136, 0x138, "k"},
    {0x139, 0x142, "l"}, {0x143, 0x14B, "n"}, {0x14C, 0x151, "o"},  {0x152, 0x153, "oe"}, {0x154, 0x159, "r"},
    {0x15A, 0x161, "s"}, {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"},  {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

bool latin_ext_a_upper(char32_t c) {
    if (in(c, 0x100, 0x137)) return c % 2 == 0;
    if (in(c, 0x139, 0x148)) return c % 2 == 1;
    if (in(c, 0x14A, 0x177)) return c % 2 == 0;
    if (c == 0x178) return true;
    if (in(c, 0x179, 0x17E)) return c % 2 == 1;
    return false;
}

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// Bullet-like symbols become '•' so that entry code sees one bullet.
bool is_bullet_symbol(char32_t c) {
    return c == 0x2023 || c == 0x2043 || c == 0x25AA || c == 0x25AB || c == 0x25BA || c == 0x25B8 || c == 0x25CF ||
           c == 0x25E6 || c == 0x25CB || c == 0x25A0 || c == 0x27A2 || c == 0x2219 || c == 0x2756;
}

// Pictographs, dingbats, arrows, private-use icon fonts: decoration in a résumé.
bool is_icon(char32_t c) {
    return in(c, 0xE000, 0xF8FF) || c >= 0xF0000 || in(c, 0x2190, 0x21FF) || in(c, 0x2300, 0x23FF) ||
           in(c, 0x25A0, 0x25FF) || in(c, 0x2600, 0x27BF) || in(c, 0x2B00, 0x2BFF) || in(c, 0x1F000, 0x1FAFF) ||
           c == 0xFFFD;
}

}  // namespace

std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        char32_t cp;
        size_t n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if ((c >> 5) == 6) {
            cp = c & 0x1F;
            n = 2;
        } else if ((c >> 4) == 14) {
            cp = c & 0x0F;
            n = 3;
        } else if ((c >> 3) == 30) {
            cp = c & 0x07;
            n = 4;
        } else {
            out += U'\uFFFD';
            ++i;
            continue;
        }
        if (i + n > s.size()) {
            out += U'\uFFFD';
            break;
        }
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out += cp;
        i += n;
    }
    return out;
}

void append_utf8(std::string &out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string encode_utf8(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) append_utf8(out, c);
    return out;
}

bool is_cjk(char32_t c) {
    return in(c, 0x3040, 0x30FF) || in(c, 0x3400, 0x4DBF) || in(c, 0x4E00, 0x9FFF) || in(c, 0xAC00, 0xD7AF) ||
           in(c, 0xF900, 0xFAFF);
}

bool is_upper(char32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    if (in(c, 0xC0, 0xDE)) return c != 0xD7;
    if (in(c, 0x100, 0x17F)) return latin_ext_a_upper(c);
    if (in(c, 0x391, 0x3A9)) return c != 0x3A2;
    if (in(c, 0x400, 0x42F)) return true;
    return false;
}

bool is_lower(char32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z';
    if (in(c, 0xDF, 0xFF)) return c != 0xF7;
    if (in(c, 0x100, 0x17F)) return !latin_ext_a_upper(c);
    if (in(c, 0x3AC, 0x3CE)) return true;
    if (in(c, 0x430, 0x45F)) return true;
    return false;
}

bool is_letter(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (in(c, 0xC0, 0x24F)) return c != 0xD7 && c != 0xF7;
    return in(c, 0x370, 0x3FF) || in(c, 0x400, 0x52F) || in(c, 0x5D0, 0x5EA) || in(c, 0x620, 0x64A) ||
           in(c, 0x671, 0x6D3) || in(c, 0x900, 0xDFF) || in(c, 0xE01, 0xE30) || in(c, 0x10D0, 0x10FF) ||
           in(c, 0x1200, 0x137F) || in(c, 0x1E00, 0x1EFF) || is_cjk(c);
}

bool is_caseless_letter(char32_t c) {
    return (in(c, 0x590, 0x10FF) || in(c, 0x1200, 0x137F)) && is_letter(c);
}

char32_t to_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (in(c, 0xC0, 0xDE) && c != 0xD7) return c + 32;
    if (in(c, 0x100, 0x17F) && latin_ext_a_upper(c)) return c == 0x178 ? 0xFF : c + 1;
    if (in(c, 0x391, 0x3A9) && c != 0x3A2) return c + 32;
    if (in(c, 0x410, 0x42F)) return c + 32;
    if (in(c, 0x400, 0x40F)) return c + 80;
    return c;
}

std::string fold(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : decode_utf8(s)) {
        c = to_lower(c);
        if (in(c, 0xC0, 0xFF)) {
            out += kLatin1Fold[c - 0xC0];
            continue;
        }
        if (in(c, 0x100, 0x17F)) {
            bool done = false;
            for (const auto &r : kLatinExtAFold)
                if (in(c, r.lo, r.hi)) {
                    out += r.base;
                    done = true;
                    break;
                }
            if (done) continue;
        }
        append_utf8(out, c);
    }
    return out;
}

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) ++b;
    while (e > b && is_space(s[e - 1])) --e;
    return std::string(s.substr(b, e - b));
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool contains_digit(std::string_view s) {
    for (char c : s)
        if (c >= '0' && c <= '9') return true;
    return false;
}

std::string trim_field(std::string_view s) {
    static const char *const kFrame[] = {" ",
                                         ",",
                                         ";",
                                         ":",
                                         "|",
                                         "-",
                                         "*",
                                         "/",
                                         "\xC2\xB7" /*·*/,
                                         "\xE2\x80\x93" /*–*/,
                                         "\xE2\x80\x94" /*—*/,
                                         "\xE2\x80\xA2" /*•*/,
                                         "~"};
    bool changed = true;
    while (changed && !s.empty()) {
        changed = false;
        for (const char *f : kFrame) {
            const size_t n = std::strlen(f);
            if (s.size() >= n && s.compare(0, n, f) == 0) {
                s.remove_prefix(n);
                changed = true;
            }
            if (s.size() >= n && s.compare(s.size() - n, n, f) == 0) {
                s.remove_suffix(n);
                changed = true;
            }
        }
    }
    // A final full stop ends a sentence-style entry ("Tutor, UCL, Louvain."), but belongs to
    // abbreviations ("Inc.", "Co.", "S.A.", "Jr.").
    if (!s.empty() && s.back() == '.') {
        const size_t sp = s.find_last_of(' ');
        std::string_view last = sp == std::string_view::npos ? s : s.substr(sp + 1);
        const bool abbreviation =
            is_company_suffix(last) || last.size() <= 2 || (last.size() >= 3 && last[last.size() - 3] == '.');
        if (!abbreviation) s.remove_suffix(1);
    }
    return trim(s);
}

std::vector<std::string> split_words(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        size_t j = i;
        while (j < s.size() && !is_space(s[j])) ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string normalize_text(std::string_view raw) {
    const std::string clean = sanitize_utf8(raw);
    std::string out;
    out.reserve(clean.size());
    const std::u32string cps = decode_utf8(clean);
    for (size_t i = 0; i < cps.size(); ++i) {
        char32_t c = cps[i];
        if (c == '\r') {
            if (i + 1 < cps.size() && cps[i + 1] == '\n') continue;
            out += '\n';
        } else if (c == '\n' || c == '\f' || c == '\v' || c == 0x2028 || c == 0x2029 || c == 0x85) {
            out += '\n';
        } else if (c == '\t') {
            out += " | ";
        } else if (c < 0x20 || c == 0x7F || in(c, 0x80, 0x9F)) {
            out += ' ';
        } else if (c == 0xAD) {
            out += '-';  // LuaTeX writes its hyphen glyph as a soft hyphen
        } else if (c == 0xA0 || in(c, 0x2000, 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000) {
            out += ' ';
        } else if (in(c, 0x200B, 0x200D) || c == 0x2060 || c == 0xFEFF || in(c, 0xFE00, 0xFE0F)) {
            // zero-width characters and variation selectors
        } else if (in(c, 0xFB00, 0xFB06)) {
            static const char *const kLig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
            out += kLig[c - 0xFB00];
        } else if (c == 0x132 || c == 0x133) {
            out += c == 0x132 ? "IJ" : "ij";
        } else if (in(c, 0xFF01, 0xFF5E)) {
            out += static_cast<char>(c - 0xFEE0);  // full-width ASCII
        } else if (c == 0x3001) {
            out += ", ";
        } else if (is_bullet_symbol(c)) {
            out += "\xE2\x80\xA2";
        } else if (is_icon(c)) {
            out += ' ';
        } else {
            append_utf8(out, c);
        }
    }
    return out;
}

namespace {

// "j o h n . d o e" → "john.doe"; runs of two or more spaces stay word breaks.
bool letter_spaced(const std::vector<std::string> &tokens) {
    if (tokens.size() < 3) return false;
    size_t singles = 0;
    for (const auto &t : tokens) {
        const std::u32string cps = decode_utf8(t);
        if (cps.size() == 1 && !is_cjk(cps[0])) ++singles;
    }
    return singles >= 3 && singles * 10 >= tokens.size() * 6;
}

}  // namespace

Line make_line(std::string text, bool letter_spaced) {
    Line line;
    line.text = std::move(text);
    line.letter_spaced = letter_spaced;
    line.folded = fold(line.text);
    for (char32_t c : decode_utf8(line.folded))
        if (is_letter(c) || (c >= '0' && c <= '9')) append_utf8(line.key, c);
    return line;
}

std::vector<Line> make_lines(std::string_view text) {
    std::vector<Line> lines;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view raw = text.substr(pos, nl - pos);
        pos = nl + 1;

        Line line;
        const std::vector<std::string> tokens = split_words(raw);
        if (letter_spaced(tokens)) {
            line.letter_spaced = true;
            // Word breaks are the wider gaps (two or more spaces) when there are any.
            std::string joined;
            bool gap = false;
            for (size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == ' ') {
                    if (i + 1 < raw.size() && raw[i + 1] == ' ') gap = true;
                    continue;
                }
                if (gap && !joined.empty()) joined += ' ';
                gap = false;
                joined += raw[i];
            }
            line.text = trim(joined);
        } else {
            std::string collapsed;
            for (size_t i = 0; i < tokens.size(); ++i) {
                if (i) collapsed += ' ';
                collapsed += tokens[i];
            }
            line.text = std::move(collapsed);
        }
        lines.push_back(make_line(std::move(line.text), line.letter_spaced));
        if (nl == text.size()) break;
    }
    return lines;
}

std::vector<std::string> split_fields(std::string_view line) {
    static const char *const kSeparators[] = {" | ",
                                              " \xC2\xB7 ",      // ·
                                              " \xE2\x80\xA2 ",  // •
                                              " \xE2\x80\x94 ",  // —
                                              " \xE2\x80\x93 ",  // –
                                              " - ",
                                              ", ",
                                              "; ",
                                              " : "};
    std::vector<std::string> raw;
    std::string current;
    for (size_t i = 0; i < line.size();) {
        bool matched = false;
        for (const char *sep : kSeparators) {
            const size_t n = std::strlen(sep);
            if (line.compare(i, n, sep) == 0) {
                raw.push_back(current);
                current.clear();
                i += n;
                matched = true;
                break;
            }
        }
        if (!matched) current += line[i++];
    }
    raw.push_back(current);

    std::vector<std::string> fields;
    for (auto &r : raw) {
        std::string f = trim_field(r);
        if (f.empty()) continue;
        if (!fields.empty() && is_company_suffix(f)) {
            fields.back() += ", " + f;
            continue;
        }
        fields.push_back(std::move(f));
    }
    return fields;
}

}  // namespace rp::resume
