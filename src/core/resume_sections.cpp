// Section headings of a résumé in several languages, and the spans of lines they open.
#include <unordered_map>

#include "resume_internal.h"

namespace rp::resume {
namespace {

// A résumé has a dozen sections; past this many headings the rest is content.
constexpr size_t kMaxSections = 64;

using HeadingMap = std::unordered_map<std::string, Section>;

void add(HeadingMap &m, Section s, std::initializer_list<const char *> phrases) {
    for (const char *p : phrases) m.emplace(p, s);
}

// Folded heading phrases (accents stripped, lower case, single spaces).
const HeadingMap &headings() {
    static const HeadingMap *map = [] {
        auto *m = new HeadingMap;
        add(*m, Section::Work,
            {"experience",
             "experiences",
             "work experience",
             "work experiences",
             "work history",
             "work",
             "professional experience",
             "professional experiences",
             "relevant experience",
             "relevant work experience",
             "employment",
             "employment history",
             "career",
             "career history",
             "professional background",
             "positions",
             "positions held",
             "industry experience",
             "research experience",
             "teaching experience",
             "internships",
             "internship",
             "internship experience",
             "job history",
             "professional history",
             "work and research experience",
             "experience professionnelle",
             "experiences professionnelles",
             "parcours professionnel",
             "emplois",
             "berufserfahrung",
             "berufliche erfahrung",
             "berufliche erfahrungen",
             "berufspraxis",
             "beruflicher werdegang",
             "werdegang",
             "praxiserfahrung",
             "arbeitserfahrung",
             "experiencia",
             "experiencia laboral",
             "experiencia profesional",
             "trayectoria profesional",
             "esperienza",
             "esperienze",
             "esperienza lavorativa",
             "esperienze lavorative",
             "esperienza professionale",
             "esperienze professionali",
             "experiencia profissional",
             "werkervaring",
             "ervaring",
             "doswiadczenie",
             "doswiadczenie zawodowe"});
        add(*m, Section::Education,
            {"education",
             "educational background",
             "academic background",
             "academic qualifications",
             "academics",
             "studies",
             "academic history",
             "degrees",
             "schooling",
             "education and training",
             "formation",
             "formations",
             "formation academique",
             "parcours academique",
             "etudes",
             "diplomes",
             "ausbildung",
             "bildung",
             "bildungsweg",
             "studium",
             "schulbildung",
             "akademischer werdegang",
             "akademische ausbildung",
             "educacion",
             "formacion",
             "formacion academica",
             "estudios",
             "istruzione",
             "formazione",
             "educacao",
             "formacao",
             "formacao academica",
             "opleiding",
             "opleidingen",
             "wyksztalcenie"});
        add(*m, Section::Skills,
            {"skills",
             "technical skills",
             "core skills",
             "key skills",
             "core competencies",
             "competencies",
             "expertise",
             "areas of expertise",
             "technologies",
             "tech stack",
             "tools",
             "computer skills",
             "it skills",
             "programming skills",
             "software skills",
             "software programs",
             "programming languages",
             "skill set",
             "skillset",
             "abilities",
             "qualifications",
             "skills and technologies",
             "skills and tools",
             "tools and technologies",
             "skills and expertise",
             "competences",
             "competences techniques",
             "competences informatiques",
             "savoir faire",
             "kenntnisse",
             "fahigkeiten",
             "fertigkeiten",
             "it-kenntnisse",
             "edv-kenntnisse",
             "technische kenntnisse",
             "habilidades",
             "competencias",
             "conocimientos",
             "aptitudes",
             "competenze",
             "abilidades",
             "vaardigheden",
             "umiejetnosci"});
        add(*m, Section::Languages,
            {"languages", "language skills", "language", "langues", "langues parlees", "sprachen", "sprachkenntnisse",
             "idiomas", "lenguas", "lingue", "linguas", "talen", "jezyki"});
        add(*m, Section::Projects,
            {"projects", "personal projects", "side projects", "selected projects", "academic projects", "key projects",
             "open source", "open source contributions", "contributions", "projets", "projekte", "proyectos",
             "progetti", "projetos", "projecten"});
        add(*m, Section::Contact,
            {"contact",
             "contacts",
             "contact information",
             "contact info",
             "contact details",
             "coordonnees",
             "kontakt",
             "kontaktdaten",
             "contacto",
             "contatti",
             "contato",
             "personal information",
             "personal details",
             "personal info",
             "personal data",
             "personliche daten",
             "informations personnelles",
             "datos personales",
             "dati personali",
             "links",
             "profiles",
             "social",
             "social media",
             "online profiles",
             "find me online",
             "get in touch"});
        add(*m, Section::Summary,
            {"summary",
             "professional summary",
             "profile",
             "professional profile",
             "personal profile",
             "about",
             "about me",
             "objective",
             "career objective",
             "objectives",
             "personal statement",
             "overview",
             "introduction",
             "executive summary",
             "profil",
             "profil professionnel",
             "a propos",
             "a propos de moi",
             "zusammenfassung",
             "uber mich",
             "kurzprofil",
             "perfil",
             "perfil profesional",
             "resumen",
             "sobre mi",
             "acerca de mi",
             "profilo",
             "sommario",
             "chi sono",
             "life philosophy"});
        add(*m, Section::Awards,
            {"awards",
             "honors",
             "honours",
             "achievements",
             "accomplishments",
             "certifications",
             "certificates",
             "certification",
             "licenses",
             "publications",
             "selected publications",
             "papers",
             "talks",
             "presentations",
             "conferences",
             "patents",
             "grants",
             "scholarships",
             "courses",
             "coursework",
             "relevant coursework",
             "training",
             "trainings",
             "workshops",
             "extracurricular",
             "extracurricular activities",
             "activities",
             "leadership",
             "volunteer",
             "volunteering",
             "volunteer experience",
             "memberships",
             "affiliations",
             "professional affiliations",
             "prix",
             "distinctions",
             "publikationen",
             "auszeichnungen",
             "zertifikate",
             "zertifizierungen",
             "premios",
             "certificaciones",
             "publicaciones",
             "premi",
             "certificazioni",
             "pubblicazioni",
             "honors and awards",
             "awards and honors",
             "most proud of",
             "events"});
        add(*m, Section::References,
            {"references", "referees", "referenzen", "referencias", "referenze", "references available upon request"});
        add(*m, Section::Other,
            {"interests",
             "hobbies",
             "personal interests",
             "centres d'interet",
             "centres d interet",
             "loisirs",
             "interets",
             "interessen",
             "hobbys",
             "freizeit",
             "intereses",
             "aficiones",
             "interessi",
             "misc",
             "miscellaneous",
             "additional information",
             "other",
             "others",
             "strengths",
             "a day of my life",
             "goals",
             "declaration"});
        return m;
    }();
    return *map;
}

// Heading keys without spaces, for letter-spaced headings ("CO N TA CT").
const HeadingMap &compact_headings() {
    static const HeadingMap *map = [] {
        auto *m = new HeadingMap;
        for (const auto &[phrase, kind] : headings()) {
            std::string k;
            for (char c : phrase)
                if (c != ' ' && c != '\'' && c != '-') k += c;
            m->emplace(k, kind);
        }
        return m;
    }();
    return *map;
}

struct CjkHeading {
    const char *text;
    Section kind;
};
const CjkHeading kCjkHeadings[] = {
    {"教育", Section::Education},   {"学歴", Section::Education},   {"학력", Section::Education},
    {"工作", Section::Work},        {"实习", Section::Work},        {"経歴", Section::Work},
    {"職歴", Section::Work},        {"경력", Section::Work},        {"项目", Section::Projects},
    {"技能", Section::Skills},      {"スキル", Section::Skills},    {"获奖", Section::Awards},
    {"荣誉", Section::Awards},      {"证书", Section::Awards},      {"语言", Section::Languages},
    {"联系", Section::Contact},     {"个人信息", Section::Contact}, {"简介", Section::Summary},
    {"自我评价", Section::Summary}, {"其他", Section::Other},
};

// "EDUCATION ET PROJET ET EXPERIENCE", "Honors & Awards": every part a heading.
std::optional<Section> combined_heading(const std::string &phrase) {
    std::vector<std::string> parts;
    std::string cur;
    for (const auto &w : split_words(phrase)) {
        if (w == "and" || w == "&" || w == "et" || w == "und" || w == "y" || w == "e" || w == "or") {
            parts.push_back(cur);
            cur.clear();
            continue;
        }
        if (!cur.empty()) cur += ' ';
        cur += w;
    }
    parts.push_back(cur);
    if (parts.size() < 2) return std::nullopt;
    bool work = false, education = false;
    std::optional<Section> first;
    for (auto p : parts) {
        auto it = headings().find(p);
        if (it == headings().end() && !p.empty() && p.back() == 's') it = headings().find(p.substr(0, p.size() - 1));
        if (it == headings().end() && !p.empty()) it = headings().find(p + "s");
        if (it == headings().end()) {
            // French "projet", "expérience" singular/plural already covered; anything else: no.
            return std::nullopt;
        }
        if (it->second == Section::Work) work = true;
        if (it->second == Section::Education) education = true;
        if (!first) first = it->second;
    }
    if (work && education) return Section::Mixed;
    return first;
}

}  // namespace

const char *section_name(Section s) {
    switch (s) {
        case Section::Header:
            return "header";
        case Section::Summary:
            return "summary";
        case Section::Work:
            return "work";
        case Section::Education:
            return "education";
        case Section::Mixed:
            return "mixed";
        case Section::Skills:
            return "skills";
        case Section::Languages:
            return "languages";
        case Section::Projects:
            return "projects";
        case Section::Contact:
            return "contact";
        case Section::Awards:
            return "awards";
        case Section::References:
            return "references";
        case Section::Other:
            return "other";
    }
    return "other";
}

std::optional<Section> heading_kind(const Line &line) {
    if (line.key.empty() || line.key.size() > 48) return std::nullopt;
    if (line.text.find('@') != std::string::npos || line.text.find("://") != std::string::npos) return std::nullopt;

    // Letters only, words kept: "1/2Projects" → "projects", "Experience:" → "experience".
    std::string phrase;
    bool first_letter_seen = false, first_upper = true;
    for (char32_t c : decode_utf8(line.text)) {
        if (is_letter(c) || c == '&' || c == '\'' || c == 0x2019) {
            if (!first_letter_seen && !is_cjk(c)) first_upper = !is_lower(c);
            first_letter_seen = true;
            append_utf8(phrase, c == 0x2019 ? U'\'' : c);
        } else if (c >= '0' && c <= '9' && first_letter_seen) {
            return std::nullopt;  // "Series 7 Licenses", "Top 10 …": text, not a heading
        } else {
            phrase += ' ';
        }
    }
    if (!first_letter_seen || !first_upper) return std::nullopt;
    std::string folded;
    for (const auto &w : split_words(fold(phrase))) {
        if (!folded.empty()) folded += ' ';
        folded += w;
    }
    if (split_words(folded).size() > 6) return std::nullopt;

    if (auto it = headings().find(folded); it != headings().end()) return it->second;
    // Singular and plural: "Extracurricular Activity", "Publication", "Reference".
    if (folded.size() > 4) {
        std::vector<std::string> variants = {folded + "s"};
        if (folded.back() == 's') variants.push_back(folded.substr(0, folded.size() - 1));
        if (folded.back() == 'y') variants.push_back(folded.substr(0, folded.size() - 1) + "ies");
        for (const auto &v : variants)
            if (auto it = headings().find(v); it != headings().end()) return it->second;
    }
    if (line.letter_spaced || line.text.find(' ') != std::string::npos) {
        std::string compact;
        for (char c : folded)
            if (c != ' ' && c != '\'' && c != '-') compact += c;
        if (auto it = compact_headings().find(compact); it != compact_headings().end()) return it->second;
    }
    if (auto combined = combined_heading(folded)) return combined;

    // CJK headings are short and carry no case: "教育背景", "实习/项目经历", "IT 技能".
    std::u32string cps = decode_utf8(line.text);
    size_t cjk = 0;
    for (char32_t c : cps) cjk += is_cjk(c);
    if (cjk >= 2 && cps.size() <= 12)
        for (const auto &h : kCjkHeadings)
            if (line.text.find(h.text) != std::string::npos) return h.kind;
    return std::nullopt;
}

std::vector<SectionSpan> find_sections(const std::vector<Line> &lines) {
    std::vector<SectionSpan> spans;
    spans.push_back({Section::Header, 0, lines.size()});
    for (size_t i = 0; i < lines.size() && spans.size() < kMaxSections; ++i) {
        auto kind = heading_kind(lines[i]);
        if (!kind) continue;
        spans.back().end = i;
        spans.push_back({*kind, i + 1, lines.size()});
    }
    return spans;
}

void split_glued_headings(std::vector<Line> &lines) {
    std::vector<Line> out;
    out.reserve(lines.size());
    for (auto &line : lines) {
        const std::string &t = line.text;
        // The last word's trailing run of ASCII letters, glued to a digit or punctuation.
        size_t e = t.size(), b = e;
        while (b > 0 && ((t[b - 1] >= 'a' && t[b - 1] <= 'z') || (t[b - 1] >= 'A' && t[b - 1] <= 'Z'))) --b;
        const bool glued = b > 0 && b < e && e - b >= 5 && t[b - 1] != ' ' && t[b - 1] != '-' && t[b - 1] != '\'' &&
                           t[b] >= 'A' && t[b] <= 'Z';
        if (glued) {
            Line tail = make_line(t.substr(b));
            const auto kind = heading_kind(tail);
            if (kind && split_words(trim(t.substr(0, b))).size() >= 1) {
                out.push_back(make_line(trim(t.substr(0, b))));
                out.push_back(std::move(tail));
                continue;
            }
        }
        out.push_back(std::move(line));
    }
    lines = std::move(out);
}

}  // namespace rp::resume
