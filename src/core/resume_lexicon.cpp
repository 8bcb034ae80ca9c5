// Word lists of the résumé parser: what makes a phrase look like an organisation, a school, a
// job title, a degree or a place. General vocabulary in several languages, never names taken
// from particular résumés.
#include <algorithm>
#include <initializer_list>
#include <unordered_set>

#include "resume_internal.h"

namespace rp::resume {
namespace {

using WordSet = std::unordered_set<std::string>;

// Leaked on purpose: no static destructors in a process that forks (STYLE.md).
const WordSet *make_set(std::initializer_list<const char *> words) {
    auto *set = new WordSet;
    for (const char *w : words) set->insert(w);
    return set;
}

// Folded words of s: letters, digits, '-', '\'', '&' kept inside words; '.' dropped so that
// "Ph.D." is "phd" and "Inc." is "inc".
std::vector<std::string> folded_tokens(std::string_view s) {
    const std::string f = fold(s);
    std::vector<std::string> out;
    std::string cur;
    for (char32_t c : decode_utf8(f)) {
        if (is_letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '\'' || c == 0x2019) {
            if (is_cjk(c)) {  // CJK has no spaces: every character is its own token here
                if (!cur.empty()) out.push_back(cur);
                cur.clear();
                std::string one;
                append_utf8(one, c);
                out.push_back(one);
                continue;
            }
            append_utf8(cur, c);
        } else if (c == '.') {
            continue;
        } else if (!cur.empty()) {
            out.push_back(cur);
            cur.clear();
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

bool any_token_in(std::string_view s, const WordSet &set) {
    for (const auto &t : folded_tokens(s))
        if (set.count(t)) return true;
    return false;
}

bool contains_any(std::string_view s, std::initializer_list<const char *> parts) {
    for (const char *p : parts)
        if (s.find(p) != std::string_view::npos) return true;
    return false;
}

// A word that is a domain name ("otulea.uni-bremen.de") names an organisation.
bool has_domain_word(std::string_view s) {
    for (const auto &w : split_words(s)) {
        const size_t dot = w.rfind('.');
        if (dot == std::string::npos || dot == 0 || dot + 3 > w.size() || w.find('@') != std::string::npos) continue;
        bool lower = true;
        for (char c : w)
            if (c >= 'A' && c <= 'Z') lower = false;
        if (lower && w.find('/') == std::string::npos && std::count(w.begin(), w.end(), '.') >= 1 && w.back() != '.' &&
            w.size() > 5)
            return true;
    }
    return false;
}

}  // namespace

bool has_org_word(std::string_view s) {
    static const WordSet *words = make_set({
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "llp",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "pty",
        "asbl",
        "oy",
        "co",
        "company",
        "companies",
        "group",
        "gruppe",
        "groupe",
        "grupo",
        "labs",
        "lab",
        "laboratory",
        "laboratories",
        "laboratoire",
        "technologies",
        "technology",
        "solutions",
        "systems",
        "software",
        "services",
        "consulting",
        "consultancy",
        "consultants",
        "partners",
        "holdings",
        "ventures",
        "capital",
        "bank",
        "banque",
        "financial",
        "insurance",
        "studio",
        "studios",
        "agency",
        "agentur",
        "agence",
        "media",
        "networks",
        "games",
        "interactive",
        "electronics",
        "industries",
        "international",
        "enterprises",
        "enterprise",
        "foundation",
        "fondation",
        "fundacion",
        "stiftung",
        "association",
        "verein",
        "ev",
        "society",
        "societe",
        "gesellschaft",
        "institute",
        "institut",
        "instituto",
        "istituto",
        "university",
        "universitat",
        "universite",
        "universidad",
        "universita",
        "universiteit",
        "universidade",
        "college",
        "school",
        "academy",
        "akademie",
        "hochschule",
        "ministry",
        "ministere",
        "ministerium",
        "ministerio",
        "department",
        "government",
        "council",
        "command",
        "army",
        "navy",
        "hospital",
        "hopital",
        "krankenhaus",
        "klinikum",
        "clinic",
        "center",
        "centre",
        "zentrum",
        "centro",
        "office",
        "bureau",
        "organization",
        "organisation",
        "ngo",
        "werke",
        "bv",
        "ltda",
        "cie",
        "compagnie",
        "gbr",
        "ohg",
        "se",
        "kk",
        "pvt",
        "agentur",
        "club",
        "museum",
        "library",
        "press",
        "publishing",
        "records",
        "pharma",
        "pharmaceuticals",
        "motors",
        "airlines",
        "telecom",
        "communications",
        "robotics",
        "healthcare",
        "logistics",
        "freight",
        "payments",
        "electric",
        "automotive",
    });
    if (any_token_in(s, *words)) return true;
    if (contains_any(s, {"公司", "集团", "银行", "研究所", "研究院", "科技", "大学", "学院", "株式会社", "회사"}))
        return true;
    return has_domain_word(s);
}

bool has_school_word(std::string_view s) {
    static const WordSet *words = make_set({
        "university",   "universitat", "universite",     "universidad",   "universita", "universiteit",
        "universidade", "uniwersytet", "univ",           "college",       "colegio",    "school",
        "schule",       "hochschule",  "fachhochschule", "academy",       "akademie",   "academie",
        "academia",     "accademia",   "institute",      "institut",      "instituto",  "istituto",
        "polytechnic",  "politecnico", "polytechnique",  "ecole",         "escuela",    "escola",
        "scuola",       "gymnasium",   "lycee",          "liceo",         "faculty",    "faculte",
        "facultad",     "fakultat",    "conservatory",   "conservatoire", "seminary",   "polytech",
        "tu",           "eth",         "epfl",           "iit",           "nit",
        // Nordic, Slavic, Baltic, Turkish, Hungarian, Finnish spellings (folded: accents gone).
        "universitet", "universitetet", "univerzita", "univerzitet", "universiteti", "universitatea",
        "universitesi", "universiteit", "politechnika", "politecnica", "politehnica", "hogskolan", "hogskola",
        "hoyskole", "hojskole", "yliopisto", "korkeakoulu", "egyetem", "akademia", "akademija", "insead",
        // Cyrillic and Greek (folded to lower case; Greek keeps its tonos).
        "университет", "університет", "институт", "інститут", "академия", "академія", "политехника",
        "політехніка", "политехнический", "колледж", "коледж", "училище", "πανεπιστημιο", "πανεπιστήμιο",
        "πολυτεχνειο", "πολυτεχνείο", "σχολη", "σχολή", "ακαδημια", "ακαδημία",
    });
    if (any_token_in(s, *words)) return true;
    return contains_any(s, {"大学", "大學", "学院", "學院", "学校", "高中", "中学", "대학교", "대학", "과학기술원",
                            "Đại học", "Đại Học", "ĐẠI HỌC", "Học viện", "جامعة", "الجامعة", "معهد", "كلية",
                            "vysoké učení", "Sciences Po"});
}

bool has_title_word(std::string_view s) {
    static const WordSet *words = make_set({
        "engineer",
        "engineers",
        "developer",
        "developers",
        "programmer",
        "manager",
        "director",
        "president",
        "vp",
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cio",
        "cso",
        "founder",
        "co-founder",
        "cofounder",
        "owner",
        "head",
        "lead",
        "leader",
        "chief",
        "officer",
        "intern",
        "internship",
        "trainee",
        "apprentice",
        "student",
        "assistant",
        "associate",
        "analyst",
        "architect",
        "consultant",
        "advisor",
        "adviser",
        "specialist",
        "scientist",
        "researcher",
        "professor",
        "lecturer",
        "teacher",
        "tutor",
        "instructor",
        "maintainer",
        "contributor",
        "administrator",
        "admin",
        "designer",
        "writer",
        "editor",
        "technician",
        "coordinator",
        "representative",
        "executive",
        "member",
        "employee",
        "staff",
        "fellow",
        "postdoc",
        "volunteer",
        "sre",
        "operator",
        "agent",
        "clerk",
        "accountant",
        "attorney",
        "lawyer",
        "nurse",
        "physician",
        "secretary",
        "mentor",
        "organizer",
        "organiser",
        "reporter",
        "producer",
        "photographer",
        "artist",
        "strategist",
        "marketer",
        "recruiter",
        "principal",
        "senior",
        "junior",
        "sr",
        "jr",
        "expert",
        "ambassador",
        "partner",
        "supervisor",
        "dev",
        "devops",
        "full-stack",
        "fullstack",
        "frontend",
        "backend",
        "front-end",
        "back-end",
        "webmaster",
        "tester",
        "qa",
        "scrum",
        "product",
        "project",
        "programme",
        "evangelist",
        "coach",
        "trainer",
        "ingenieur",
        "ingenieure",
        "developpeur",
        "developpeuse",
        "entwickler",
        "entwicklerin",
        "berater",
        "beraterin",
        "leiter",
        "leiterin",
        "mitarbeiter",
        "mitarbeiterin",
        "werkstudent",
        "praktikant",
        "praktikantin",
        "stagiaire",
        "chef",
        "responsable",
        "directeur",
        "directrice",
        "gerant",
        "charge",
        "ingeniero",
        "ingeniera",
        "desarrollador",
        "desarrolladora",
        "gerente",
        "jefe",
        "analista",
        "consultor",
        "consultora",
        "becario",
        "programador",
        "sviluppatore",
        "tirocinante",
        "stage",
        "praktikum",
        "auszubildender",
        "geschaftsfuhrer",
        "inhaber",
        "dozent",
        "lehrer",
        "profesor",
        "professeur",
        "enseignant",
    });
    if (any_token_in(s, *words)) return true;
    return contains_any(s, {"经理", "工程师", "实习", "开发", "总监", "主管", "엔지니어", "개발자"});
}

bool has_degree_word(std::string_view s) {
    static const WordSet *words = make_set({
        "bachelor",     "bachelors",    "bachelor's",
        "master",       "masters",      "master's",
        "mba",          "phd",          "doctorate",
        "doctoral",     "doctor",       "msc",
        "bsc",          "ms",           "bs",
        "ba",           "ma",           "meng",
        "beng",         "bcomp",        "bcom",
        "bba",          "llb",          "llm",
        "jd",           "mphil",        "dphil",
        "diploma",      "diplom",       "diplome",
        "diplomado",    "licence",      "license",
        "licenciatura", "licenciado",   "laurea",
        "magister",     "abitur",       "baccalaureat",
        "bac",          "degree",       "btech",
        "mtech",        "bfa",          "mfa",
        "mres",         "aas",          "hnd",
        "graduated",    "graduate",     "undergraduate",
        "postgraduate", "certificate",  "gcse",
        "a-levels",     "dut",          "bts",
        "ingenieur",    "staatsexamen", "maestria",
        "grado",        "tecnico",
    });
    if (any_token_in(s, *words)) return true;
    return contains_any(s, {"学士", "硕士", "博士", "本科", "研究生", "学位"});
}

// A subject of study on its own ("Physics", "Computer Science", "Betriebswirtschaftslehre"), or
// the first word of one that wrapped ("Electrical" / "Engineering"): the area of a degree, never
// an institution. Every word must be a subject word.
bool is_field_of_study(std::string_view s) {
    static const WordSet *words = make_set({
        "physics", "chemistry", "biology", "biochemistry", "mathematics", "maths", "math", "statistics",
        "economics", "econometrics", "finance", "accounting", "marketing", "management", "business",
        "administration", "law", "medicine", "nursing", "pharmacy", "dentistry", "psychology", "sociology",
        "philosophy", "history", "linguistics", "literature", "english", "languages", "anthropology", "geography",
        "geology", "astronomy", "neuroscience", "architecture", "education", "music", "art", "arts", "fine",
        "design", "graphic", "industrial", "engineering", "mechanical", "electrical", "electronic", "electronics",
        "civil", "chemical", "aerospace", "biomedical", "software", "computer", "computing", "science",
        "sciences", "studies", "information", "systems", "technology", "data", "political", "international",
        "relations", "public", "health", "policy", "environmental", "communication", "communications",
        "journalism", "media", "applied", "and", "&", "of", "in",
        // German, French, Spanish, Italian
        "informatik", "physik", "chemie", "mathematik", "wirtschaftsinformatik", "betriebswirtschaftslehre",
        "volkswirtschaftslehre", "maschinenbau", "elektrotechnik", "rechtswissenschaft", "informatique",
        "economie", "mathematiques", "physique", "chimie", "droit", "gestion", "fisica", "quimica",
        "matematicas", "economia", "derecho", "medicina", "ingenieria", "informatica", "matematica", "chimica",
        "giurisprudenza", "ingegneria",
    });
    const std::vector<std::string> tokens = folded_tokens(s);
    if (tokens.empty() || tokens.size() > 5) return false;
    for (const auto &t : tokens)
        if (!words->count(t)) return false;
    return !(tokens.size() == 1 && (tokens[0] == "and" || tokens[0] == "&" || tokens[0] == "of" || tokens[0] == "in"));
}

// A label inside an entry ("Highlights", "Key achievements", "Responsibilities:").
bool is_entry_label(std::string_view s) {
    static const WordSet *labels = make_set({
        "highlights", "key highlights", "achievements", "key achievements", "accomplishments",
        "key accomplishments", "responsibilities", "key responsibilities", "main responsibilities", "tasks",
        "duties", "projects", "key projects", "selected projects", "technologies", "tech stack", "tools",
        "courses", "coursework", "relevant coursework", "thesis", "aufgaben", "erfolge", "taches",
        "realisations", "missions", "responsabilites", "logros", "responsabilidades", "tareas",
    });
    std::string f;
    for (const auto &t : folded_tokens(s)) {
        if (!f.empty()) f += ' ';
        f += t;
    }
    return labels->count(f) > 0;
}

bool is_country(std::string_view s) {
    static const WordSet *codes = make_set({
        "AL", "AK", "AZ", "AR", "CA", "CO",  "CT",  "DE",   "FL",     "GA",   "HI", "ID", "IL", "IN",  "IA",  "KS",
        "KY", "LA", "ME", "MD", "MA", "MI",  "MN",  "MS",   "MO",     "MT",   "NE", "NV", "NH", "NJ",  "NM",  "NY",
        "NC", "ND", "OH", "OK", "OR", "PA",  "RI",  "SC",   "SD",     "TN",   "TX", "UT", "VT", "VA",  "WA",  "WV",
        "WI", "WY", "DC", "UK", "US", "USA", "UAE", "U.S.", "U.S.A.", "U.K.", "ON", "BC", "QC", "NSW", "VIC",
    });
    static const WordSet *names = make_set({
        "germany",
        "deutschland",
        "france",
        "united states",
        "united states of america",
        "united kingdom",
        "england",
        "scotland",
        "wales",
        "ireland",
        "india",
        "china",
        "korea",
        "south korea",
        "s.korea",
        "s. korea",
        "republic of korea",
        "japan",
        "canada",
        "australia",
        "spain",
        "espana",
        "italy",
        "italia",
        "netherlands",
        "the netherlands",
        "nederland",
        "belgium",
        "belgique",
        "belgie",
        "switzerland",
        "schweiz",
        "suisse",
        "austria",
        "osterreich",
        "brazil",
        "brasil",
        "mexico",
        "argentina",
        "chile",
        "colombia",
        "peru",
        "portugal",
        "poland",
        "polska",
        "sweden",
        "norway",
        "denmark",
        "finland",
        "israel",
        "turkey",
        "turkiye",
        "russia",
        "ukraine",
        "singapore",
        "nigeria",
        "kenya",
        "egypt",
        "morocco",
        "maroc",
        "south africa",
        "pakistan",
        "bangladesh",
        "vietnam",
        "indonesia",
        "philippines",
        "malaysia",
        "thailand",
        "taiwan",
        "hong kong",
        "new zealand",
        "greece",
        "czech republic",
        "czechia",
        "hungary",
        "romania",
        "luxembourg",
        "remote",
        "europe",
        "ghana",
        "ethiopia",
        "tunisia",
        "algeria",
        "saudi arabia",
        "qatar",
        "iran",
        "sri lanka",
        "nepal",
        "estonia",
        "latvia",
        "lithuania",
        "serbia",
        "croatia",
        "slovenia",
        "slovakia",
        "bulgaria",
    });
    const std::string t = trim_field(s);
    if (codes->count(t)) return true;
    return names->count(fold(t)) > 0;
}

bool is_location(std::string_view s) {
    const std::string f = fold(trim(s));
    for (const char *label : {"location:", "lieu:", "ort:", "ubicacion:", "address:", "adresse:", "standort:"})
        if (starts_with(f, label)) return true;
    if (is_country(s)) return true;
    const size_t comma = s.rfind(',');
    if (comma == std::string_view::npos) return false;
    const std::string last = trim_field(s.substr(comma + 1));
    if (!is_country(last)) return false;
    // "City, Country": the part before is a short place name, not an organisation.
    const std::string before = trim_field(s.substr(0, comma));
    return split_words(before).size() <= 3 && !has_org_word(before);
}

bool is_name_stopword(std::string_view folded_word) {
    static const WordSet *words =
        make_set({"resume", "cv", "curriculum", "vitae", "vita", "lebenslauf", "portfolio", "resumen", "curriculo"});
    return words->count(std::string(folded_word)) > 0;
}

bool is_company_suffix(std::string_view field) {
    static const WordSet *words = make_set({
        "inc",  "ltd", "llc",  "llp", "corp", "co",     "gmbh",    "ag",      "sa",           "sas",
        "sarl", "srl", "spa",  "bv",  "nv",   "plc",    "pty",     "limited", "kg",           "oy",
        "ab",   "lp",  "ltda", "cie", "pvt",  "co ltd", "pty ltd", "pvt ltd", "gmbh & co kg",
    });
    std::string f;
    for (char c : fold(field))
        if (c != '.' && c != ',') f += c;
    return words->count(trim(f)) > 0;
}

}  // namespace rp::resume
