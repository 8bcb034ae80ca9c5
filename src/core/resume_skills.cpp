// Skills (grouped as printed: "Languages: Go, Rust") and spoken languages with their level.
#include <re2/re2.h>

#include <algorithm>

#include "resume_internal.h"

namespace rp::resume {
namespace {

constexpr size_t kMaxKeywords = 200;
constexpr size_t kMaxLanguages = 20;
constexpr size_t kMaxKeywordWords = 6;

std::string heading_text(const std::vector<Line> &lines, const SectionSpan &s) {
    if (s.begin == 0 || s.begin > lines.size()) return "Skills";
    std::string t = trim_field(lines[s.begin - 1].text);
    return t.empty() ? "Skills" : t;
}

std::vector<std::string> split_items(const std::string &text) {
    std::string t = text;
    for (const char *sep : {"\xE2\x80\xA2", "\xC2\xB7", " | ", "; ", " / "}) {
        size_t at;
        while ((at = t.find(sep)) != std::string::npos) t.replace(at, std::string(sep).size(), ", ");
    }
    std::vector<std::string> out;
    size_t b = 0;
    while (b <= t.size()) {
        size_t e = t.find(", ", b);
        if (e == std::string::npos) e = t.size();
        std::string item = trim_field(t.substr(b, e - b));
        if (!item.empty()) out.push_back(item);
        b = e + 2;
    }
    return out;
}

bool is_fluency(const std::string &s) {
    static const RE2 *re = new RE2(
        "(?i)^(?:native|native speaker|mother tongue|first language|fluent|proficient|professional|"
        "full professional|professional working|working|limited working|advanced|upper intermediate|intermediate|"
        "basic|basics|beginner|elementary|conversational|bilingual|near[- ]native|very good|good|excellent|"
        "[abc][12]|muttersprache|flie(?:ss|ß)end|verhandlungssicher|gut|sehr gut|grundkenntnisse|courant|natif|"
        "native|langue maternelle|maternelle|bilingue|notions|nativo|nativa|fluido|intermedio|b[aá]sico|avanzado|"
        "madrelingua|[0-9](?:[.,][0-9])?(?:\\s*/\\s*[0-9]+)?)\\b.*$");
    return RE2::FullMatch(s, *re);
}

// Names of languages as written in English and in the language itself (folded).
bool language_like(const std::string &s) {
    static const char *const kLanguages[] = {
        "english",     "german",    "deutsch",     "french",    "francais",   "spanish",    "espanol",    "castellano",
        "italian",     "italiano",  "portuguese",  "portugues", "dutch",      "nederlands", "flemish",    "polish",
        "polski",      "russian",   "ukrainian",   "czech",     "slovak",     "hungarian",  "magyar",     "romanian",
        "romana",      "bulgarian", "serbian",     "croatian",  "slovenian",  "greek",      "turkish",    "turkce",
        "arabic",      "hebrew",    "persian",     "farsi",     "urdu",       "hindi",      "bengali",    "bangla",
        "punjabi",     "tamil",     "telugu",      "marathi",   "gujarati",   "kannada",    "malayalam",  "chinese",
        "mandarin",    "cantonese", "japanese",    "korean",    "vietnamese", "thai",       "indonesian", "malay",
        "tagalog",     "filipino",  "swahili",     "amharic",   "yoruba",     "igbo",       "hausa",      "zulu",
        "afrikaans",   "swedish",   "svenska",     "norwegian", "norsk",      "danish",     "dansk",      "finnish",
        "suomi",       "icelandic", "estonian",    "latvian",   "lithuanian", "catalan",    "catala",     "basque",
        "galician",    "irish",     "welsh",       "latin",     "esperanto",  "klingon",    "anglais",    "allemand",
        "espagnol",    "italien",   "arabe",       "chinois",   "japonais",   "russe",      "portugais",  "englisch",
        "franzosisch", "spanisch",  "italienisch", "ingles",    "frances",    "aleman",     "inglese",    "francese",
        "tedesco",     "spagnolo",  "英语",        "中文",      "汉语",       "普通话",     "日语",       "德语",
        "法语",        "韩语",      "粤语"};
    const std::vector<std::string> words = split_words(fold(s));
    if (words.empty() || words.size() > 3) return false;
    for (const auto &w : words)
        for (const char *l : kLanguages)
            if (w == l) return true;
    return false;
}

}  // namespace

std::vector<SkillGroup> find_skills(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections) {
    std::vector<SkillGroup> groups;
    std::vector<std::string> seen;
    size_t total = 0;
    auto add = [&](SkillGroup &g, const std::string &k) {
        if (total >= kMaxKeywords || k.size() > 60 || split_words(k).size() > kMaxKeywordWords) return;
        const std::string key = fold(k);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
        seen.push_back(key);
        g.keywords.push_back(k);
        ++total;
    };
    for (const auto &s : sections) {
        if (s.kind != Section::Skills) continue;
        SkillGroup plain{heading_text(lines, s), {}};
        for (size_t i = s.begin; i < s.end && i < lines.size(); ++i) {
            const std::string text = trim_field(lines[i].text);
            if (text.empty()) continue;
            const std::vector<std::string> words = split_words(text);
            const size_t colon = text.find(": ");
            if (colon != std::string::npos && colon > 0 && colon < 40 &&
                split_words(text.substr(0, colon)).size() <= 4) {
                SkillGroup g{trim_field(text.substr(0, colon)), {}};
                for (const auto &item : split_items(text.substr(colon + 2))) add(g, item);
                if (!g.keywords.empty()) groups.push_back(std::move(g));
                continue;
            }
            if (words.size() > 12 && text.find(", ") == std::string::npos) continue;  // prose
            if (text.back() == '.' && text.find(", ") == std::string::npos && words.size() > 3) continue;
            for (const auto &item : split_items(text)) add(plain, item);
        }
        if (!plain.keywords.empty()) groups.push_back(std::move(plain));
    }
    return groups;
}

std::vector<LanguageEntry> find_languages(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections) {
    static const RE2 *paren = new RE2("^(.+?)\\s*\\((.+)\\)$");
    static const RE2 *pair = new RE2("^(.+?)\\s*(?::|\\s-\\s|\\s–\\s|\\s—\\s)\\s*(.+)$");
    std::vector<LanguageEntry> out;
    for (const auto &s : sections) {
        if (s.kind != Section::Languages) continue;
        std::optional<std::string> pending;
        for (size_t i = s.begin; i < s.end && i < lines.size() && out.size() < kMaxLanguages; ++i) {
            const std::string text = trim_field(lines[i].text);
            if (text.empty()) continue;
            std::string a, b;
            if (pending && is_fluency(text)) {
                out.push_back({*pending, text});
                pending.reset();
                continue;
            }
            if (pending) out.push_back({*pending, std::nullopt});
            pending.reset();
            if (text.find(", ") != std::string::npos && text.find('(') != std::string::npos) {
                for (const auto &item : split_items(text)) {
                    if (out.size() >= kMaxLanguages) break;
                    if (RE2::FullMatch(item, *paren, &a, &b) && language_like(trim_field(a)))
                        out.push_back({trim_field(a), trim_field(b)});
                    else if (language_like(item))
                        out.push_back({item, std::nullopt});
                }
            } else if ((RE2::FullMatch(text, *paren, &a, &b) || RE2::FullMatch(text, *pair, &a, &b)) &&
                       language_like(trim_field(a))) {
                out.push_back({trim_field(a), trim_field(b)});
            } else if (language_like(text)) {
                pending = text;
            } else if (text.find(", ") != std::string::npos) {
                for (const auto &item : split_items(text))
                    if (language_like(item) && out.size() < kMaxLanguages) out.push_back({item, std::nullopt});
            }
        }
        if (pending && out.size() < kMaxLanguages) out.push_back({*pending, std::nullopt});
    }
    return out;
}

}  // namespace rp::resume
