// rp::fit: the built-in candidate scorer. The formula and its weights are in fit_score.h.
#include "fit_score.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <new>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "llm_schema.h"
#include "utf8_text.h"

namespace rp::fit {
namespace {

using nlohmann::json;

constexpr size_t kMaxResumeJson = 256 * 1024;
constexpr int kMaxJsonDepth = 32;
constexpr size_t kMaxRawText = 256 * 1024;
constexpr size_t kMaxPostingText = 64 * 1024;  // the description
constexpr size_t kMaxTitleBytes = 1024;
constexpr size_t kMaxFieldBytes = 16 * 1024;  // one string of the parsed résumé
constexpr size_t kMaxWorkEntries = 50;
constexpr size_t kMaxListEntries = 50;  // education, projects, certificates, highlights
constexpr size_t kMaxSkillItems = 500;
constexpr size_t kMaxRequiredSkills = 100;
constexpr size_t kMaxSkillBytes = 100;
constexpr size_t kMaxSkillWords = 6;
constexpr size_t kMaxPostingSkills = 60;
constexpr size_t kMaxTokens = 50000;
constexpr size_t kMaxNameBytes = 60;  // a skill name in the output
constexpr size_t kMaxListed = 8;      // strengths, concerns

// ---------------------------------------------------------------------------------------------
// The lexicon. Spellings are written as they are printed and tokenised like any text; a leading
// '^' marks a spelling that is also an English word: in running text it matches only when
// written with a capital letter.
struct LexEntry {
    const char *name;
    const char *spellings;  // '|'-separated
};

constexpr LexEntry kLexicon[] = {
    // Languages
    {"JavaScript", "javascript|js|ecmascript|es6|java script"},
    {"TypeScript", "typescript"},
    {"Python", "python|python3"},
    {"Java", "java"},
    {"Kotlin", "kotlin"},
    {"Scala", "scala"},
    {"Go", "^go|golang"},
    {"C", "^c"},
    {"C++", "c++|cpp"},
    {"C#", "c#|csharp|c sharp"},
    {"F#", "f#"},
    {".NET", ".net|dotnet|.net core|.net framework"},
    {"ASP.NET", "asp.net|asp.net core|asp.net mvc"},
    {"Ruby", "^ruby"},
    {"Ruby on Rails", "ruby on rails|^rails|ror"},
    {"PHP", "php"},
    {"Perl", "perl"},
    {"Swift", "^swift"},
    {"Objective-C", "objective-c|objc"},
    {"Rust", "^rust"},
    {"R", "^r"},
    {"MATLAB", "matlab"},
    {"Julia", "^julia"},
    {"Haskell", "haskell"},
    {"Elixir", "^elixir"},
    {"Erlang", "erlang"},
    {"Clojure", "clojure"},
    {"Dart", "^dart"},
    {"Lua", "lua"},
    {"Groovy", "^groovy"},
    {"Visual Basic", "visual basic|vb.net|vba"},
    {"COBOL", "cobol"},
    {"Fortran", "fortran"},
    {"Solidity", "solidity"},
    {"Bash", "bash|shell scripting|shell scripts|^shell"},
    {"PowerShell", "powershell"},
    {"SQL", "sql"},
    {"PL/SQL", "pl/sql|plsql"},
    {"T-SQL", "t-sql|tsql"},
    {"HTML", "html|html5"},
    {"CSS", "css|css3"},
    {"Sass", "sass|scss"},
    {"GraphQL", "graphql"},
    // Frameworks and libraries
    {"React", "react|react.js|reactjs"},
    {"React Native", "react native"},
    {"Angular", "angular|angularjs|angular.js"},
    {"Vue.js", "vue|vue.js|vuejs"},
    {"Svelte", "svelte"},
    {"Next.js", "next.js|nextjs"},
    {"Node.js", "node.js|nodejs|node js"},
    {"Express", "^express|express.js|expressjs"},
    {"Django", "django"},
    {"Flask", "^flask"},
    {"FastAPI", "fastapi"},
    {"Spring", "^spring|spring boot|springboot|spring framework"},
    {"Hibernate", "hibernate"},
    {"jQuery", "jquery"},
    {"Redux", "redux"},
    {"Laravel", "laravel"},
    {"Symfony", "symfony"},
    {"TensorFlow", "tensorflow"},
    {"PyTorch", "pytorch"},
    {"Keras", "keras"},
    {"scikit-learn", "scikit-learn|sklearn"},
    {"pandas", "pandas"},
    {"NumPy", "numpy"},
    {"Spark", "apache spark|^spark|pyspark"},
    {"Hadoop", "hadoop"},
    {"Kafka", "kafka|apache kafka"},
    {"Airflow", "airflow|apache airflow"},
    {"Webpack", "webpack"},
    {"Unity", "^unity|unity3d"},
    {"Unreal Engine", "unreal engine|^unreal"},
    {"OpenGL", "opengl"},
    {"CUDA", "cuda"},
    // Data stores and data tools
    {"PostgreSQL", "postgresql|postgres|psql|pgsql"},
    {"MySQL", "mysql"},
    {"MariaDB", "mariadb"},
    {"SQLite", "sqlite"},
    {"Oracle", "^oracle|oracle database|oracle db"},
    {"SQL Server", "sql server|mssql|ms sql|microsoft sql server"},
    {"MongoDB", "mongodb|^mongo"},
    {"Redis", "redis"},
    {"Elasticsearch", "elasticsearch|elastic search|opensearch"},
    {"Cassandra", "cassandra"},
    {"DynamoDB", "dynamodb"},
    {"Neo4j", "neo4j"},
    {"Snowflake", "^snowflake"},
    {"BigQuery", "bigquery"},
    {"Redshift", "redshift"},
    {"Databricks", "databricks"},
    {"Tableau", "tableau"},
    {"Power BI", "power bi|powerbi"},
    {"Looker", "^looker"},
    {"Excel", "^excel|microsoft excel|ms excel"},
    {"ETL", "etl"},
    // Cloud and operations
    {"AWS", "aws|amazon web services"},
    {"Azure", "azure|microsoft azure"},
    {"Google Cloud", "gcp|google cloud|google cloud platform"},
    {"Docker", "docker"},
    {"Kubernetes", "kubernetes|k8s"},
    {"Terraform", "terraform"},
    {"Ansible", "ansible"},
    {"Jenkins", "jenkins"},
    {"GitHub Actions", "github actions"},
    {"GitLab", "gitlab|gitlab ci"},
    {"CI/CD", "ci/cd|cicd|continuous integration|continuous delivery|continuous deployment"},
    {"Git", "git"},
    {"Linux", "linux"},
    {"Unix", "unix"},
    {"Nginx", "nginx"},
    {"Helm", "^helm"},
    {"Prometheus", "^prometheus"},
    {"Grafana", "grafana"},
    {"RabbitMQ", "rabbitmq"},
    {"gRPC", "grpc"},
    {"REST", "^rest|restful|rest api|rest apis"},
    {"Microservices", "microservices|microservice|micro-services"},
    {"Serverless", "^serverless"},
    {"OAuth", "oauth|oauth2"},
    {"Security", "cybersecurity|cyber security|information security|infosec|appsec"},
    {"Blockchain", "blockchain"},
    {"Embedded Systems", "embedded systems|embedded software|firmware"},
    // Data science
    {"Machine Learning", "machine learning|^ml"},
    {"Deep Learning", "deep learning"},
    {"NLP", "nlp|natural language processing"},
    {"Computer Vision", "computer vision"},
    {"LLM", "llm|llms|large language models|large language model"},
    {"Statistics", "statistics|statistical analysis"},
    {"Data Analysis", "data analysis|data analytics"},
    // Mobile
    {"iOS", "ios"},
    {"Android", "android"},
    {"Flutter", "flutter"},
    // Testing
    {"Jest", "^jest"},
    {"Cypress", "^cypress"},
    {"Selenium", "selenium"},
    {"JUnit", "junit"},
    {"pytest", "pytest"},
    {"TDD", "tdd|test-driven development|test driven development"},
    // Ways of working and tools
    {"Agile", "agile"},
    {"Scrum", "scrum"},
    {"Kanban", "kanban"},
    {"Jira", "jira"},
    {"Confluence", "confluence"},
    {"Project Management", "project management|pmp"},
    {"Product Management", "product management"},
    {"UX Design", "ux|user experience|ux design|ui/ux"},
    {"Figma", "figma"},
    {"Photoshop", "photoshop"},
    {"Illustrator", "^illustrator"},
    {"SEO", "seo"},
    {"Salesforce", "salesforce"},
    {"SAP", "^sap"},
    {"Microsoft Office", "microsoft office|ms office"},
};

// English stop-words, sorted (checked at compile time: the lookup is a binary search).
constexpr std::string_view kStopwords[] = {
    "a",     "about",  "above",  "after",   "again",  "against", "all",     "also",   "am",    "an",     "and",
    "any",   "are",    "as",     "at",      "be",     "because", "been",    "before", "being", "below",  "between",
    "both",  "but",    "by",     "can",     "could",  "did",     "do",      "does",   "doing", "down",   "during",
    "each",  "etc",    "few",    "for",     "from",   "further", "had",     "has",    "have",  "having", "he",
    "her",   "here",   "hers",   "herself", "him",    "himself", "his",     "how",    "i",     "if",     "in",
    "into",  "is",     "it",     "its",     "itself", "just",    "may",     "me",     "might", "more",   "most",
    "must",  "my",     "myself", "no",      "nor",    "not",     "now",     "of",     "off",   "on",     "once",
    "only",  "or",     "other",  "our",     "ours",   "out",     "over",    "own",    "per",   "same",   "shall",
    "she",   "should", "so",     "some",    "such",   "than",    "that",    "the",    "their", "theirs", "them",
    "then",  "there",  "these",  "they",    "this",   "those",   "through", "to",     "too",   "under",  "until",
    "up",    "us",     "very",   "via",     "was",    "we",      "were",    "what",   "when",  "where",  "which",
    "while", "who",    "whom",   "why",     "will",   "with",    "within",  "would",  "you",   "your",   "yours",
};

constexpr bool sorted_strictly(const std::string_view *begin, const std::string_view *end) {
    for (const std::string_view *p = begin; p + 1 < end; ++p)
        if (!(*p < *(p + 1))) return false;
    return true;
}
static_assert(sorted_strictly(std::begin(kStopwords), std::end(kStopwords)), "kStopwords must be sorted");

bool is_stopword(std::string_view w) {
    return std::binary_search(std::begin(kStopwords), std::end(kStopwords), w);
}

// ---------------------------------------------------------------------------------------------
// UTF-8 (input already sanitised: well-formed, no NUL).

// The longest prefix of s of at most max bytes that ends on a character boundary.
std::string_view cut_utf8(std::string_view s, size_t max) {
    if (s.size() <= max) return s;
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

// Well-formed UTF-8 on one line, of at most max bytes ("..." appended when cut).
std::string clip(std::string_view s, size_t max) {
    std::string clean = sanitize_utf8(s.substr(0, std::min(s.size(), max + 4)));
    for (char &c : clean)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    if (clean.size() <= max) return clean;
    std::string out(cut_utf8(clean, max > 3 ? max - 3 : max));
    out += "...";
    return out;
}

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) --e;
    return std::string(s.substr(b, e - b));
}

// Decodes the character at s[i] (s well-formed) and sets *len.
char32_t decode_at(std::string_view s, size_t i, size_t *len) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c < 0xE0 && i + 1 < s.size()) {
        *len = 2;
        return (char32_t(c & 0x1F) << 6) | (b(1) & 0x3F);
    }
    if (c < 0xF0 && i + 2 < s.size()) {
        *len = 3;
        return (char32_t(c & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    }
    if (i + 3 < s.size()) {
        *len = 4;
        return (char32_t(c & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) | (char32_t(b(2) & 0x3F) << 6) |
               (b(3) & 0x3F);
    }
    *len = 1;
    return 0xFFFD;
}

bool in(char32_t c, char32_t lo, char32_t hi) {
    return c >= lo && c <= hi;
}

// Non-ASCII characters that separate words: spaces, Latin-1 punctuation and symbols, general
// punctuation, symbols, arrows, box drawing, CJK and full-width punctuation, private-use icons,
// emoji, U+FFFD. Every other non-ASCII character counts as a letter.
bool is_space_cp(char32_t c) {
    return c == 0xA0 || in(c, 0x2000, 0x200B) || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}
bool is_separator_cp(char32_t c) {
    if (in(c, 0x80, 0xBF)) return c != 0xAA && c != 0xB5 && c != 0xBA;
    return c == 0xD7 || c == 0xF7 || is_space_cp(c) || in(c, 0x2010, 0x2BFF) || in(c, 0x2E00, 0x2E7F) ||
           in(c, 0x3001, 0x303F) || in(c, 0xE000, 0xF8FF) || in(c, 0xFE10, 0xFE6F) || in(c, 0xFF01, 0xFF0F) ||
           in(c, 0xFF1A, 0xFF20) || in(c, 0xFF3B, 0xFF40) || in(c, 0xFF5B, 0xFF65) || in(c, 0xFFF0, 0xFFFF) ||
           in(c, 0x1F000, 0x1FAFF) || c >= 0xE0000;
}
// Scripts written without spaces: one character, one token.
bool is_cjk_cp(char32_t c) {
    return in(c, 0x3040, 0x30FF) || in(c, 0x3400, 0x4DBF) || in(c, 0x4E00, 0x9FFF) || in(c, 0xF900, 0xFAFF) ||
           in(c, 0xAC00, 0xD7AF) || in(c, 0x20000, 0x2FFFF);
}

bool ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool ascii_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Tokens: runs of letters and digits, ASCII lower-cased. "++" or "#" right after a word belongs to
// it ("c++", "c#"), and so does a '.' right before one that follows no word (".net").
struct Token {
    std::string text;
    bool has_capital = false;     // written with an ASCII capital letter
    bool hard_break = false;      // a comma, colon, bracket, line break, bullet or sentence end before it
    char prev = ' ', next = ' ';  // the bytes around it in the source
};

bool hard_separator(std::string_view s, size_t i) {
    switch (s[i]) {
        case ',':
        case ';':
        case ':':
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case '|':
        case '\n':
        case '\r':
        case '!':
        case '?':
        case '"':
        case '\t':
        case '<':
        case '>':
            return true;
        case '.':
            return i + 1 >= s.size() || s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\r' || s[i + 1] == '\t';
        default:
            return false;
    }
}

std::vector<Token> tokenize(std::string_view s, size_t max_tokens = kMaxTokens) {
    std::vector<Token> out;
    out.reserve(std::min(max_tokens, s.size() / 4 + 1));
    bool brk = true;
    size_t i = 0;
    const size_t n = s.size();
    while (i < n && out.size() < max_tokens) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80 && !ascii_alnum(c)) {
            if (hard_separator(s, i)) brk = true;
            ++i;
            continue;
        }
        size_t len = 1;
        if (c >= 0x80) {
            const char32_t cp = decode_at(s, i, &len);
            if (is_separator_cp(cp)) {
                if (!is_space_cp(cp)) brk = true;
                i += len;
                continue;
            }
            if (is_cjk_cp(cp)) {
                Token t;
                t.text.assign(s.substr(i, len));
                t.hard_break = brk;
                t.prev = i > 0 ? s[i - 1] : ' ';
                t.next = i + len < n ? s[i + len] : ' ';
                out.push_back(std::move(t));
                brk = false;
                i += len;
                continue;
            }
        }
        Token t;
        t.hard_break = brk;
        brk = false;
        const size_t begin = i;
        const bool dot = begin > 0 && s[begin - 1] == '.' &&
                         (begin < 2 || !(ascii_alnum(static_cast<unsigned char>(s[begin - 2])) ||
                                         static_cast<unsigned char>(s[begin - 2]) >= 0x80));
        while (i < n) {
            const unsigned char d = static_cast<unsigned char>(s[i]);
            if (d < 0x80) {
                if (!ascii_alnum(d)) break;
                if (d >= 'A' && d <= 'Z') t.has_capital = true;
                ++i;
                continue;
            }
            const char32_t cp = decode_at(s, i, &len);
            if (is_separator_cp(cp) || is_cjk_cp(cp)) break;
            i += len;
        }
        size_t j = i;
        while (j < n && j - i < 2 && (s[j] == '+' || s[j] == '#')) ++j;
        if (j > i && (j >= n || !(ascii_alnum(static_cast<unsigned char>(s[j])) || s[j] == '+' || s[j] == '#'))) i = j;
        const size_t before = dot ? begin - 1 : begin;
        t.text.assign(s.substr(before, i - before));
        for (char &ch : t.text)
            if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
        t.prev = before > 0 ? s[before - 1] : ' ';
        t.next = i < n ? s[i] : ' ';
        out.push_back(std::move(t));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Skill terms and their spellings, matched over tokens: a trie of words, so each position of a
// text costs one lookup plus one per word of a spelling that continues there.
class Matcher {
public:
    Matcher() {
        nodes_.emplace_back();
        for (const LexEntry &e : kLexicon) {
            const size_t id = add_term(e.name);
            std::string_view all(e.spellings);
            while (!all.empty()) {
                const size_t bar = all.find('|');
                std::string_view one = all.substr(0, bar);
                all = bar == std::string_view::npos ? std::string_view() : all.substr(bar + 1);
                const bool proper = !one.empty() && one[0] == '^';
                if (proper) one.remove_prefix(1);
                add_spelling(tokenize(one), id, proper);
            }
        }
    }

    size_t size() const { return terms_.size(); }
    const std::string &name(size_t id) const { return terms_[id]; }

    // The term whose spelling is exactly these tokens.
    std::optional<size_t> exact(const std::vector<Token> &toks) const {
        int node = 0;
        for (const Token &t : toks) {
            node = child(node, t.text);
            if (node < 0) return std::nullopt;
        }
        if (toks.empty() || nodes_[node].term < 0) return std::nullopt;
        return static_cast<size_t>(nodes_[node].term);
    }

    // The terms of one of the posting's required skills: the lexicon's term when it knows the
    // spelling ("Postgres"), else the lexicon terms inside it ("Python 3", "experience with AWS"),
    // else the item itself as a new term when it is short enough to be a name.
    std::vector<size_t> terms_for_item(std::string_view item) {
        const std::vector<Token> toks = tokenize(item, 64);
        if (toks.empty()) return {};
        if (auto id = exact(toks)) return {*id};
        std::vector<size_t> ids;
        scan(toks, false, [&](size_t id) { ids.push_back(id); });
        if (!ids.empty() || toks.size() > kMaxSkillWords) return ids;
        const size_t id = add_term(clip(trim(item), kMaxNameBytes));
        add_spelling(toks, id, false);
        return {id};
    }

    // Calls hit(term) for each skill named in toks, the longest spelling at each place. A
    // spelling does not run across a hard break; in running text (prose) the '^' spellings need a
    // capital letter.
    template <class F>
    void scan(const std::vector<Token> &toks, bool prose, F &&hit) const {
        for (size_t i = 0; i < toks.size();) {
            size_t best_len = 0;
            int best_term = -1;
            int node = 0;
            for (size_t j = i; j < toks.size() && (j == i || !toks[j].hard_break); ++j) {
                node = child(node, toks[j].text);
                if (node < 0) break;
                const Node &n = nodes_[node];
                if (n.term < 0) continue;
                // An English word as a skill: capitalised, and not the start of a compound ("Go-to-market").
                if (prose && n.proper && (!toks[i].has_capital || toks[i].next == '-')) continue;
                if (j == i && toks[i].text.size() == 1 && !single_letter_ok(toks[i])) continue;
                best_len = j - i + 1;
                best_term = n.term;
            }
            if (best_term >= 0) {
                hit(static_cast<size_t>(best_term));
                i += best_len;
            } else {
                ++i;
            }
        }
    }

private:
    struct Node {
        std::unordered_map<std::string, int> children;  // looked up only, never iterated
        int term = -1;
        bool proper = false;
    };

    int child(int node, const std::string &word) const {
        const auto &c = nodes_[node].children;
        auto it = c.find(word);
        return it == c.end() ? -1 : it->second;
    }

    static bool single_letter_ok(const Token &t) {
        // "C." (an initial), "C-level", "R&D", "AT&T", "O'Brien" are not the languages.
        const auto bad = [](char c) { return c == '.' || c == '-' || c == '&' || c == '\''; };
        return !bad(t.next) && t.prev != '&' && t.prev != '\'' && t.prev != '-';
    }

    size_t add_term(std::string name) {
        terms_.push_back(std::move(name));
        return terms_.size() - 1;
    }
    void add_spelling(const std::vector<Token> &toks, size_t term, bool proper) {
        if (toks.empty()) return;
        int node = 0;
        for (const Token &t : toks) {
            int next = child(node, t.text);
            if (next < 0) {
                next = static_cast<int>(nodes_.size());
                nodes_[node].children.emplace(t.text, next);
                nodes_.emplace_back();
            }
            node = next;
        }
        if (nodes_[node].term < 0) {
            nodes_[node].term = static_cast<int>(term);
            nodes_[node].proper = proper;
        }
    }

    std::vector<std::string> terms_;
    std::vector<Node> nodes_;
};

// ---------------------------------------------------------------------------------------------
// Reading the parsed résumé, whatever its shape.

const json *member(const json &obj, const char *key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::string text_of(const json *v) {
    if (!v || !v->is_string()) return {};
    return std::string(cut_utf8(v->get_ref<const std::string &>(), kMaxFieldBytes));
}

std::string text_member(const json &obj, const char *key) {
    return text_of(member(obj, key));
}

bool has_text(const json &obj, const char *key) {
    return !trim(text_member(obj, key)).empty();
}

// Calls f on each element of obj[key] when it is an array, at most max of them.
template <class F>
void each(const json &obj, const char *key, size_t max, F &&f) {
    const json *arr = member(obj, key);
    if (!arr || !arr->is_array()) return;
    for (size_t i = 0; i < arr->size() && i < max; ++i) f((*arr)[i]);
}

// Month index (year × 12 + month − 1) of a date as a work entry writes it.
struct When {
    std::optional<int> month;
    bool present = false;
};

int month_of_name(std::string_view w) {
    static constexpr const char *kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                              "jul", "aug", "sep", "oct", "nov", "dec"};
    if (w.size() < 3) return 0;
    for (int m = 0; m < 12; ++m)
        if (w.compare(0, 3, kMonths[m]) == 0) return m + 1;
    return 0;
}

When parse_when(const json *v, bool is_end) {
    When w;
    if (!v || !v->is_string()) return w;
    std::string s = trim(cut_utf8(v->get_ref<const std::string &>(), 64));
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (s.empty()) return w;
    if (is_end)
        for (const char *p : {"present", "current", "now", "today", "ongoing", "to date", "till date", "heute",
                              "aujourd'hui", "actual", "presente", "jetzt"})
            if (s.find(p) != std::string::npos) {
                w.present = true;
                return w;
            }
    // Numbers and words in order.
    std::vector<std::string> parts;
    std::string cur;
    for (char c : s + " ") {
        const bool alnum = ascii_alnum(static_cast<unsigned char>(c));
        if (alnum && !cur.empty() && ascii_digits(cur) != (c >= '0' && c <= '9')) {
            parts.push_back(cur);
            cur.clear();
        }
        if (alnum) {
            cur += c;
        } else if (!cur.empty()) {
            parts.push_back(cur);
            cur.clear();
        }
    }
    int year = 0, month = 0;
    for (size_t k = 0; k < parts.size() && year == 0; ++k) {
        if (!(ascii_digits(parts[k]) && parts[k].size() == 4)) continue;
        year = std::stoi(parts[k]);
        // "2019-03", "2019-03-01", "2019/03": the next number; "03/2019", "Mar 2019": the one before.
        if (k + 1 < parts.size() && ascii_digits(parts[k + 1]) && parts[k + 1].size() <= 2) {
            month = std::stoi(parts[k + 1]);
        } else if (k > 0 && ascii_digits(parts[k - 1]) && parts[k - 1].size() <= 2) {
            month = std::stoi(parts[k - 1]);
        } else if (k > 0) {
            month = month_of_name(parts[k - 1]);
        }
    }
    if (year < 1900 || year > 2200) return w;
    if (month < 1 || month > 12) month = is_end ? 12 : 1;
    w.month = year * 12 + month - 1;
    return w;
}

struct Span {
    int begin, end;  // inclusive month indices
};

int merged_months(std::vector<Span> spans) {
    std::sort(spans.begin(), spans.end(),
              [](const Span &a, const Span &b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    int total = 0;
    bool open = false;
    Span cur{0, 0};
    for (const Span &s : spans) {
        if (open && s.begin <= cur.end + 1) {
            cur.end = std::max(cur.end, s.end);
            continue;
        }
        if (open) total += cur.end - cur.begin + 1;
        cur = s;
        open = true;
    }
    if (open) total += cur.end - cur.begin + 1;
    return total;
}

struct WorkEntry {
    std::optional<Span> span;
    double recency = 0.7;  // undated
    std::vector<Token> tokens;
};

// ---------------------------------------------------------------------------------------------
// Text similarity: cosine of term-frequency vectors.

using Counts = std::vector<std::pair<std::string, int>>;  // sorted by term

Counts term_counts(std::initializer_list<const std::vector<Token> *> texts) {
    std::vector<std::string_view> words;
    for (const std::vector<Token> *toks : texts)
        for (const Token &t : *toks) {
            if (ascii_digits(t.text) || is_stopword(t.text)) continue;
            if (t.text.size() == 1 && static_cast<unsigned char>(t.text[0]) < 0x80) continue;
            words.push_back(t.text);
        }
    std::sort(words.begin(), words.end());
    Counts out;
    for (size_t i = 0; i < words.size();) {
        size_t j = i;
        while (j < words.size() && words[j] == words[i]) ++j;
        out.emplace_back(std::string(words[i]), static_cast<int>(j - i));
        i = j;
    }
    return out;
}

double cosine(const Counts &a, const Counts &b) {
    double dot = 0, na = 0, nb = 0;
    for (const auto &p : a) na += double(p.second) * p.second;
    for (const auto &p : b) nb += double(p.second) * p.second;
    for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
        const int c = a[i].first.compare(b[j].first);
        if (c == 0) {
            dot += double(a[i].second) * b[j].second;
            ++i;
            ++j;
        } else if (c < 0) {
            ++i;
        } else {
            ++j;
        }
    }
    if (na <= 0 || nb <= 0) return 0;
    return std::min(1.0, dot / (std::sqrt(na) * std::sqrt(nb)));
}

// ---------------------------------------------------------------------------------------------
// Output helpers: numbers printed with fixed decimals from integers (no locale, no binary noise).

double round_to(double x, int decimals) {
    const double f = decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;
    return std::floor(x * f + 0.5) / f;
}

std::string fixed(double x, int decimals) {
    const long long f = decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;
    const long long v = static_cast<long long>(std::floor(x * double(f) + 0.5));
    std::string frac = std::to_string((v < 0 ? -v : v) % f);
    while (frac.size() < static_cast<size_t>(decimals)) frac.insert(0, "0");
    std::string out = (v < 0 ? "-" : "") + std::to_string((v < 0 ? -v : v) / f) + "." + frac;
    // "77.50" → "77.5", "100.00" → "100"
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
    return out;
}

std::string join_names(const std::vector<std::string> &names, size_t max) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < max; ++i) {
        if (i) out += ", ";
        out += names[i];
    }
    if (names.size() > max) out += " and " + std::to_string(names.size() - max) + " more";
    return out;
}

void add_line(std::vector<std::string> &list, std::string line) {
    if (list.size() < kMaxListed) list.push_back(clip(line, 200));
}

// ---------------------------------------------------------------------------------------------
// The scorer.

struct PostingSkill {
    size_t term;
    double weight;
};

struct Scorer {
    Matcher matcher;
    int as_of = 0;  // month index

    // Résumé
    bool structured = false;
    std::string unreadable;  // why the parsed résumé was not read
    bool raw_cut = false;
    std::vector<WorkEntry> work;
    std::vector<Token> raw_tokens;
    std::vector<std::vector<Token>> listed;  // skill items
    std::vector<std::vector<Token>> other;   // other parsed text
    std::vector<std::string> fallback_text;  // parsed text for similarity when there is no raw text
    int checks_passed = 0;
    std::vector<std::string> missing_parts;
    size_t custom_skills = 0;  // listed skills the lexicon does not know

    void read_resume(std::string_view resume_json) {
        if (resume_json.empty()) return;
        if (resume_json.size() > kMaxResumeJson) {
            unreadable = "larger than 256 KiB";
            return;
        }
        std::string why;
        std::optional<json> doc = rp::llm::parse_untrusted_json(resume_json, kMaxJsonDepth, &why);
        if (!doc) {
            unreadable = clip(why, 80);
            return;
        }
        if (doc->is_null()) return;
        if (!doc->is_object()) {
            unreadable = "not a JSON object";
            return;
        }
        structured = true;
        const json &r = *doc;
        const json empty = json::object();
        const json *basics_p = member(r, "basics");
        const json &basics = basics_p && basics_p->is_object() ? *basics_p : empty;

        // Profile checks.
        bool dated_work = false, education = false;
        const auto check = [&](bool ok, const char *part) {
            if (ok)
                ++checks_passed;
            else
                missing_parts.push_back(part);
        };

        // Work history.
        each(r, "work", kMaxWorkEntries, [&](const json &e) {
            if (!e.is_object()) return;
            WorkEntry w;
            const When start = parse_when(member(e, "startDate"), false);
            When end = parse_when(member(e, "endDate"), true);
            if (start.month && *start.month <= as_of) {
                int stop = end.month && !end.present ? std::min(*end.month, as_of) : as_of;
                if (stop >= *start.month) {
                    w.span = Span{*start.month, stop};
                    const double years_since = (as_of - stop) / 12.0;
                    w.recency = 1.0 - 0.04 * std::clamp(years_since - 1.0, 0.0, 10.0);
                    dated_work = true;
                }
            }
            std::string text;
            for (const char *k : {"position", "summary", "description"}) {
                text += text_member(e, k);
                text += '\n';
            }
            each(e, "highlights", kMaxListEntries, [&](const json &h) {
                text += text_of(&h);
                text += '\n';
            });
            w.tokens = tokenize(text);
            fallback_text.push_back(text);
            work.push_back(std::move(w));
        });

        // Skills as listed: a group's name is only a heading when it has keywords.
        size_t items = 0;
        std::vector<std::string> custom;
        const auto add_item = [&](const std::string &item, bool count) {
            if (items >= kMaxSkillItems) return;
            ++items;
            std::vector<Token> toks = tokenize(cut_utf8(item, kMaxSkillBytes), 64);
            if (toks.empty()) return;
            if (count && !matcher.exact(toks) && toks.size() <= kMaxSkillWords) {
                bool known = false;
                matcher.scan(toks, false, [&](size_t) { known = true; });
                if (!known) {
                    std::string key;
                    for (const Token &t : toks) key += t.text + " ";
                    custom.push_back(key);
                }
            }
            fallback_text.push_back(item);
            listed.push_back(std::move(toks));
        };
        each(r, "skills", kMaxSkillItems, [&](const json &g) {
            if (g.is_string()) return add_item(text_of(&g), true);
            if (!g.is_object()) return;
            const json *kw = member(g, "keywords");
            const bool has_keywords = kw && kw->is_array() && !kw->empty();
            add_item(text_member(g, "name"), !has_keywords);
            each(g, "keywords", kMaxSkillItems, [&](const json &k) { add_item(text_of(&k), true); });
        });
        std::sort(custom.begin(), custom.end());
        custom_skills = static_cast<size_t>(std::unique(custom.begin(), custom.end()) - custom.begin());

        // Everything else a skill may be mentioned in.
        const auto add_other = [&](const std::string &t) {
            if (t.empty()) return;
            fallback_text.push_back(t);
            other.push_back(tokenize(t));
        };
        add_other(text_member(basics, "label"));
        add_other(text_member(basics, "summary"));
        each(r, "projects", kMaxListEntries, [&](const json &p) {
            add_other(text_member(p, "name"));
            add_other(text_member(p, "description"));
            each(p, "keywords", kMaxListEntries, [&](const json &k) { add_other(text_of(&k)); });
            each(p, "highlights", kMaxListEntries, [&](const json &k) { add_other(text_of(&k)); });
        });
        each(r, "certificates", kMaxListEntries, [&](const json &c) { add_other(text_member(c, "name")); });
        each(r, "education", kMaxListEntries, [&](const json &e) {
            if (has_text(e, "institution") || has_text(e, "area") || has_text(e, "studyType")) education = true;
            add_other(text_member(e, "area"));
        });

        check(has_text(basics, "name"), "name");
        check(has_text(basics, "email") || has_text(basics, "phone"), "contact details");
        check(has_text(basics, "label") || has_text(basics, "summary"), "summary");
        check(dated_work, "dated work history");
        check(education, "education");
        check(custom_skills + listed_lexicon_terms() >= 3, "skills section");
    }

    size_t listed_lexicon_terms() const {
        std::vector<size_t> ids;
        for (const auto &toks : listed) matcher.scan(toks, false, [&](size_t id) { ids.push_back(id); });
        std::sort(ids.begin(), ids.end());
        return static_cast<size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
    }

    void read_raw(std::string_view raw) {
        if (raw.size() > kMaxRawText) {
            raw_cut = true;
            raw = raw.substr(0, kMaxRawText);
        }
        std::string clean = sanitize_utf8(raw);
        if (raw_cut) clean = std::string(cut_utf8(clean, kMaxRawText));  // no half character at the cut
        raw_tokens = tokenize(clean);
    }

    // Evidence per term (0, 0.4, 0.7 or the work figure), for every term the matcher knows.
    std::vector<double> evidence() const {
        const size_t n = matcher.size();
        std::vector<double> ev(n, 0.0), recency(n, -1.0);
        std::vector<std::vector<Span>> spans(n);
        for (const WorkEntry &w : work) {
            std::vector<size_t> ids;
            matcher.scan(w.tokens, true, [&](size_t id) { ids.push_back(id); });
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            for (size_t id : ids) {
                recency[id] = std::max(recency[id], w.recency);
                if (w.span) spans[id].push_back(*w.span);
            }
        }
        for (size_t id = 0; id < n; ++id)
            if (recency[id] >= 0) {
                const double years = merged_months(spans[id]) / 12.0;
                ev[id] = recency[id] * (0.8 + 0.2 * std::min(1.0, years / 3.0));
            }
        const auto at_least = [&](size_t id, double v) { ev[id] = std::max(ev[id], v); };
        for (const auto &toks : listed) matcher.scan(toks, false, [&](size_t id) { at_least(id, 0.7); });
        for (const auto &toks : other) matcher.scan(toks, true, [&](size_t id) { at_least(id, 0.4); });
        matcher.scan(raw_tokens, true, [&](size_t id) { at_least(id, 0.4); });
        return ev;
    }

    double years() const {
        std::vector<Span> spans;
        for (const WorkEntry &w : work)
            if (w.span) spans.push_back(*w.span);
        return merged_months(spans) / 12.0;
    }

    // The résumé's terms for the similarity: its raw text, or the parsed text when there is none.
    Counts resume_counts() const {
        if (!raw_tokens.empty()) return term_counts({&raw_tokens});
        std::string all;
        for (const std::string &t : fallback_text) {
            all += t;
            all += '\n';
        }
        const std::vector<Token> toks = tokenize(all);
        return term_counts({&toks});
    }
};

// The years of experience a posting's tokens ask for (see required_years): "5+ years", "at
// least 3 years", "3-5 years of experience" (the lower figure), "five or more years"; a figure
// counts when written with '+', after "at least"/"minimum"/"over"/"more than", or when
// "experience" (or "professional", "industry", "hands-on") follows within five words. The
// largest such figure, at most 40.
int years_asked(const std::vector<Token> &t) {
    static constexpr std::string_view kWords[] = {"one",    "two",    "three",    "four",     "five",
                                                  "six",    "seven",  "eight",    "nine",     "ten",
                                                  "eleven", "twelve", "thirteen", "fourteen", "fifteen"};
    // A number token: "5", "5+", "five"; -1 otherwise. *plus when written "5+".
    const auto number = [&](size_t i, bool *plus) {
        if (i >= t.size()) return -1;
        std::string_view s = t[i].text;
        *plus = !s.empty() && s.back() == '+';
        while (!s.empty() && s.back() == '+') s.remove_suffix(1);
        if (ascii_digits(s) && s.size() <= 2) return s.size() == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
        for (int k = 0; k < 15; ++k)
            if (s == kWords[k]) return k + 1;
        return -1;
    };
    const auto is = [&](size_t i, std::initializer_list<std::string_view> words) {
        if (i >= t.size()) return false;
        for (std::string_view w : words)
            if (t[i].text == w) return true;
        return false;
    };
    const auto years_at = [&](size_t i) { return is(i, {"years", "year", "yrs", "yr"}); };
    int best = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        bool plus = false, ignored = false;
        const int n = number(i, &plus);
        if (n < 1) continue;
        size_t y = 0;  // the "years" token
        if (years_at(i + 1)) {
            y = i + 1;
        } else if (number(i + 1, &ignored) > n && years_at(i + 2)) {  // "3-5 years"
            y = i + 2;
        } else if (is(i + 1, {"to"}) && number(i + 2, &ignored) > n && years_at(i + 3)) {
            y = i + 3;
        } else if (is(i + 1, {"or"}) && is(i + 2, {"more"}) && years_at(i + 3)) {
            y = i + 3;
            plus = true;
        } else {
            continue;
        }
        const int before = i > 0 ? number(i - 1, &ignored) : -1;
        if (before > 0 && before < n) continue;  // the upper end of a range
        if (i > 1 && before < 0 && is(i - 1, {"to"}) && number(i - 2, &ignored) > 0) continue;
        bool asked = plus || (i > 0 && is(i - 1, {"least", "minimum", "min", "over", "than"}));
        for (size_t k = y + 1; k < t.size() && k <= y + 5 && !asked && !t[k].hard_break; ++k)
            asked = is(k, {"experience", "exp", "experienced", "professional", "industry", "hands"});
        if (asked && n <= 40) best = std::max(best, n);
    }
    return best;
}

std::string fit_label(double overall) {
    if (overall >= 75) return "Strong";
    if (overall >= 60) return "Good";
    if (overall >= 40) return "Partial";
    return "Weak";
}

Result run(std::string_view resume_json, std::string_view raw_text, const Posting *posting, int as_of_year,
           int as_of_month) {
    Result res;
    if (as_of_year < 1900 || as_of_year > 2200 || as_of_month < 1 || as_of_month > 12) {
        res.error = "as_of must be a date between the years 1900 and 2200";
        return res;
    }
    Scorer sc;
    sc.as_of = as_of_year * 12 + as_of_month - 1;

    // The posting's skills first: its required skills become terms the résumé is searched for.
    std::vector<PostingSkill> wanted;
    int req_years = 0;
    Counts posting_counts;
    std::string title;
    if (posting) {
        const auto want = [&](size_t term, double weight) {
            for (PostingSkill &p : wanted)
                if (p.term == term) {
                    p.weight = std::max(p.weight, weight);
                    return;
                }
            if (wanted.size() < kMaxPostingSkills) wanted.push_back({term, weight});
        };
        for (size_t i = 0; i < posting->required_skills.size() && i < kMaxRequiredSkills; ++i) {
            const std::string item = sanitize_utf8(cut_utf8(posting->required_skills[i], kMaxSkillBytes));
            for (size_t id : sc.matcher.terms_for_item(item)) want(id, 1.0);
        }
        title = sanitize_utf8(cut_utf8(posting->title, kMaxTitleBytes));
        const std::string description = sanitize_utf8(cut_utf8(posting->description, kMaxPostingText));
        const std::vector<Token> title_tokens = tokenize(title);
        const std::vector<Token> desc_tokens = tokenize(description);
        sc.matcher.scan(title_tokens, true, [&](size_t id) { want(id, 1.0); });
        sc.matcher.scan(desc_tokens, true, [&](size_t id) { want(id, 0.5); });
        req_years = years_asked(desc_tokens);
        std::vector<Token> skill_tokens;
        for (size_t i = 0; i < posting->required_skills.size() && i < kMaxRequiredSkills; ++i) {
            std::vector<Token> t = tokenize(sanitize_utf8(cut_utf8(posting->required_skills[i], kMaxSkillBytes)), 64);
            skill_tokens.insert(skill_tokens.end(), t.begin(), t.end());
        }
        posting_counts = term_counts({&title_tokens, &desc_tokens, &skill_tokens});
    }

    sc.read_resume(resume_json);
    sc.read_raw(raw_text);
    const std::vector<double> ev = sc.evidence();
    const double years = sc.years();
    const double completeness = sc.checks_passed / 6.0;

    std::vector<std::string> matched, missing, passing, recent;
    double num = 0, den = 0;
    for (const PostingSkill &p : wanted) {
        num += p.weight * ev[p.term];
        den += p.weight;
        const std::string &name = sc.matcher.name(p.term);
        if (ev[p.term] > 0) {
            matched.push_back(name);
            if (ev[p.term] >= 0.9) recent.push_back(name);
            if (ev[p.term] < 0.45) passing.push_back(name);  // only a mention (0.4)
        } else {
            missing.push_back(name);
        }
    }
    const bool has_skill_score = posting && den > 0;
    const double S = has_skill_score ? 100.0 * num / den : 0;
    const double similarity = posting ? cosine(sc.resume_counts(), posting_counts) : 0;
    const double T = 100.0 * std::min(1.0, similarity / 0.4);
    const double C = 100.0 * completeness;
    double X, K = 0, overall;
    size_t distinct = 0;
    std::vector<std::pair<double, std::string>> found;  // without a posting: the résumé's skills
    if (posting) {
        X = 100.0 * std::min(1.0, years / (req_years > 0 ? req_years : 3));
        overall = has_skill_score ? 0.55 * S + 0.20 * X + 0.15 * T + 0.10 * C : 0.45 * X + 0.35 * T + 0.20 * C;
    } else {
        for (size_t id = 0; id < sc.matcher.size(); ++id)
            if (ev[id] > 0) found.emplace_back(-ev[id], sc.matcher.name(id));
        std::sort(found.begin(), found.end());
        distinct = found.size() + sc.custom_skills;
        X = 100.0 * std::min(1.0, years / 10.0);
        K = 100.0 * std::min(1.0, distinct / 15.0);
        overall = 0.40 * X + 0.35 * K + 0.25 * C;
    }
    overall = std::clamp(round_to(overall, 2), 0.0, 100.0);
    const int score = static_cast<int>(std::floor(overall + 0.5));
    const std::string years_s = fixed(years, 1);
    const std::string sim_s = fixed(similarity, 3);

    std::vector<std::string> strengths, concerns;
    std::string summary, reasoning;
    const std::string checks = std::to_string(sc.checks_passed) + " of 6";
    if (posting) {
        const std::string wanted_n = std::to_string(wanted.size());
        if (!matched.empty())
            add_line(strengths, "Matches " + std::to_string(matched.size()) + " of " + wanted_n +
                                    " posting skills: " + join_names(matched, 5));
        if (!recent.empty()) add_line(strengths, "Recent hands-on use of " + join_names(recent, 4));
        if (req_years > 0 && years >= req_years)
            add_line(strengths, years_s + " years of experience, " + std::to_string(req_years) + " asked");
        else if (req_years == 0 && years >= 3)
            add_line(strengths, years_s + " years of experience");
        if (similarity >= 0.2) add_line(strengths, "Wording close to the posting (similarity " + sim_s + ")");
        if (sc.checks_passed >= 5) add_line(strengths, "Complete profile (" + checks + " checks)");

        if (!missing.empty()) add_line(concerns, "Missing skills: " + join_names(missing, 5));
        if (!passing.empty()) add_line(concerns, "Only mentioned in passing: " + join_names(passing, 4));
        if (!has_skill_score) add_line(concerns, "The posting names no recognisable skills; skill match not scored");
        if (req_years > 0 && years < req_years)
            add_line(concerns, years_s + " years of experience, " + std::to_string(req_years) + " asked");
        if (similarity < 0.08)
            add_line(concerns, "Little overlap with the posting's wording (similarity " + sim_s + ")");
    } else {
        std::vector<std::string> top;
        for (size_t i = 0; i < found.size() && i < 6; ++i) top.push_back(found[i].second);
        if (years >= 3) add_line(strengths, years_s + " years of experience");
        if (distinct >= 8)
            add_line(strengths, std::to_string(distinct) + " skills" + (top.empty() ? "" : ": " + join_names(top, 6)));
        if (sc.checks_passed >= 5) add_line(strengths, "Complete profile (" + checks + " checks)");
        if (years < 1) add_line(concerns, "Less than a year of dated work history");
        if (distinct < 5) add_line(concerns, "Few skills found (" + std::to_string(distinct) + ")");
    }
    if (!sc.missing_parts.empty() && sc.structured)
        add_line(concerns, "Profile lacks: " + join_names(sc.missing_parts, 6));
    if (!sc.unreadable.empty())
        add_line(concerns, "Parsed resume unreadable (" + sc.unreadable + "); scored from the raw text");
    if (sc.raw_cut) add_line(concerns, "Only the first 256 KiB of the resume text was read");
    if (!sc.structured && sc.raw_tokens.empty()) add_line(concerns, "Nothing to score: the resume is empty");

    const std::string overall_s = fixed(overall, 2);
    if (posting) {
        const std::string for_title = title.empty() ? "" : " for \"" + clip(trim(title), 80) + "\"";
        summary = fit_label(overall) + " fit (" + std::to_string(score) + "/100)" + for_title + ": ";
        summary += has_skill_score
                       ? std::to_string(matched.size()) + " of " + std::to_string(wanted.size()) + " skills matched, "
                       : std::string();
        summary += years_s + " years of experience" +
                   (req_years > 0 ? " (" + std::to_string(req_years) + " asked)." : std::string("."));
        if (has_skill_score)
            reasoning = "Skill match " + fixed(S, 2) + "/100 (weight 55%): " + std::to_string(matched.size()) + " of " +
                        std::to_string(wanted.size()) +
                        " posting skills found; required and title skills weigh 1, description skills 0.5; each "
                        "found skill counts 1 when used in a current work entry for 3+ years (less for older or "
                        "shorter use, at least 0.48), 0.7 when listed under skills, 0.4 when only mentioned. ";
        reasoning += "Experience " + fixed(X, 2) + "/100 (weight " + (has_skill_score ? "20" : "45") +
                     "%): " + years_s + " years from merged work dates against " +
                     (req_years > 0 ? std::to_string(req_years) + " required" : std::string("3 (none stated)")) +
                     ". Text similarity " + sim_s + " gives " + fixed(T, 2) + "/100 (weight " +
                     (has_skill_score ? "15" : "35") + "%). Profile completeness " + fixed(C, 2) + "/100 (weight " +
                     (has_skill_score ? "10" : "20") + "%, " + checks + " checks). Overall = ";
        reasoning += has_skill_score ? "0.55*" + fixed(S, 2) + " + 0.20*" + fixed(X, 2) + " + 0.15*" + fixed(T, 2) +
                                           " + 0.10*" + fixed(C, 2)
                                     : "0.45*" + fixed(X, 2) + " + 0.35*" + fixed(T, 2) + " + 0.20*" + fixed(C, 2);
        reasoning += " = " + overall_s + ".";
    } else {
        summary = "General profile score " + std::to_string(score) + "/100 (no posting): " + years_s +
                  " years of experience, " + std::to_string(distinct) + (distinct == 1 ? " skill" : " skills") +
                  ", profile " + checks + " complete.";
        reasoning = "No posting, so no skill match. Experience " + fixed(X, 2) + "/100 (weight 40%): " + years_s +
                    " years from merged work dates against 10. Skills " + fixed(K, 2) +
                    "/100 (weight 35%): " + std::to_string(distinct) +
                    " distinct skills against 15. Profile completeness " + fixed(C, 2) + "/100 (weight 25%, " + checks +
                    " checks). Overall = 0.40*" + fixed(X, 2) + " + 0.35*" + fixed(K, 2) + " + 0.25*" + fixed(C, 2) +
                    " = " + overall_s + ".";
    }

    nlohmann::ordered_json out;
    out["score"] = score;
    out["overall_fit_score"] = overall;
    out["skill_match_score"] = has_skill_score ? json(round_to(S, 2)) : json(nullptr);
    out["strengths"] = strengths;
    out["concerns"] = concerns;
    out["summary"] = summary;
    out["reasoning"] = reasoning;
    out["matched_skills"] = matched;
    out["missing_skills"] = missing;
    out["years_experience"] = round_to(years, 1);
    out["text_similarity"] = round_to(similarity, 3);
    out["method"] = "builtin-v1";
    res.json = out.dump(-1, ' ', false, json::error_handler_t::replace);
    res.ok = true;
    return res;
}

}  // namespace

Result score(std::string_view resume_json, std::string_view raw_text, const Posting *posting, int as_of_year,
             int as_of_month) {
    try {
        return run(resume_json, raw_text, posting, as_of_year, as_of_month);
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        Result r;
        r.error = std::string("scoring failed: ") + e.what();
        return r;
    } catch (...) {
        Result r;
        r.error = "scoring failed";
        return r;
    }
}

bool posting_from_json(std::string_view text, std::optional<Posting> *out, std::string *error) {
    try {
        out->reset();
        std::string why;
        std::optional<json> doc = rp::llm::parse_untrusted_json(text, kMaxJsonDepth, &why);
        if (!doc) {
            *error = "posting is not JSON: " + clip(why, 80);
            return false;
        }
        if (doc->is_null()) return true;
        if (!doc->is_object()) {
            *error = "posting must be a JSON object with title, description and required_skills";
            return false;
        }
        Posting p;
        p.title = text_member(*doc, "title");
        if (const json *d = member(*doc, "description"); d && d->is_string())
            p.description = std::string(cut_utf8(d->get_ref<const std::string &>(), kMaxPostingText));
        if (const json *rs = member(*doc, "required_skills")) {
            if (rs->is_array()) {
                for (size_t i = 0; i < rs->size() && i < kMaxRequiredSkills; ++i)
                    if ((*rs)[i].is_string()) p.required_skills.push_back(text_of(&(*rs)[i]));
            } else if (rs->is_string()) {
                std::string_view all = rs->get_ref<const std::string &>();
                while (!all.empty() && p.required_skills.size() < kMaxRequiredSkills) {
                    const size_t comma = all.find(',');
                    std::string one = trim(all.substr(0, comma));
                    if (!one.empty()) p.required_skills.push_back(std::string(cut_utf8(one, kMaxFieldBytes)));
                    all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
                }
            }
        }
        *out = std::move(p);
        return true;
    } catch (const std::bad_alloc &) {
        throw;
    } catch (const std::exception &e) {
        *error = std::string("posting could not be read: ") + e.what();
        return false;
    } catch (...) {
        *error = "posting could not be read";
        return false;
    }
}

std::string canonical_skill(std::string_view skill) {
    try {
        const std::string clean = sanitize_utf8(cut_utf8(skill, kMaxSkillBytes * 4));
        const Matcher m;
        if (auto id = m.exact(tokenize(clean, kMaxSkillWords + 1))) return m.name(*id);
        return trim(clean);
    } catch (const std::bad_alloc &) {
        throw;
    } catch (...) {
        return trim(std::string(cut_utf8(skill, kMaxSkillBytes)));
    }
}

int required_years(std::string_view description) {
    try {
        return years_asked(tokenize(sanitize_utf8(cut_utf8(description, kMaxPostingText))));
    } catch (const std::bad_alloc &) {
        throw;
    } catch (...) {
        return 0;
    }
}

}  // namespace rp::fit
