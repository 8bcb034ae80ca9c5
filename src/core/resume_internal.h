// Internals of the built-in résumé parser (resume_*.cpp), shared between its files and the unit
// tests. Nothing here is API: rp::parse_resume_json in resume_parser.h is.
#pragma once
#include "no_postgres.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rp::resume {

// ---- Unicode-light text helpers (resume_text.cpp). No ICU in the core: the few foldings a
// résumé needs (Latin, Greek, Cyrillic case; Latin accents; ligatures) are tables.
std::u32string decode_utf8(std::string_view s);  // input must be valid UTF-8
std::string encode_utf8(std::u32string_view s);
void append_utf8(std::string &out, char32_t c);
bool is_letter(char32_t c);
bool is_upper(char32_t c);
bool is_lower(char32_t c);
bool is_cjk(char32_t c);
bool is_caseless_letter(char32_t c);  // Hebrew, Arabic, Indic, Thai, Georgian, Ethiopic: no capitals  // Han, Hiragana, Katakana, Hangul: scripts without case or spaces
char32_t to_lower(char32_t c);
// Lower case, Latin accents stripped (é → e, ß → ss), for keyword comparison only.
std::string fold(std::string_view s);
std::string trim(std::string_view s);
// Trims spaces and the punctuation that frames a field (", ; : · | - – — •" and a trailing '.').
std::string trim_field(std::string_view s);
std::vector<std::string> split_words(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool contains_digit(std::string_view s);

// One line of the résumé after normalisation.
struct Line {
    std::string text;    // spaces collapsed; letter-spaced text ("J O H N") joined ("JOHN")
    std::string folded;  // fold(text)
    std::string key;     // letters and digits of folded only: "co n ta ct" → "contact"
    bool letter_spaced = false;
};

// Character-level repair of extracted text: soft hyphens, ligatures, odd spaces, private-use
// icon glyphs, full-width punctuation, form feeds.
std::string normalize_text(std::string_view raw);
std::vector<Line> make_lines(std::string_view text);
Line make_line(std::string text, bool letter_spaced = false);

// Splits an entry line into fields on " | ", " · ", " • ", " — ", " – ", " - ", ", ", "; " and
// tabs, re-attaching company suffixes ("ABC Company, Inc." stays whole).
std::vector<std::string> split_fields(std::string_view line);

// ---- Word lists (resume_lexicon.cpp). All take display text and fold it themselves.
bool has_org_word(std::string_view s);                // Inc, GmbH, Labs, Company, University, 公司 …
bool has_school_word(std::string_view s);             // University, Universität, College, School, 大学 …
bool has_title_word(std::string_view s);              // Engineer, Developer, Manager, Ingénieur …
bool has_degree_word(std::string_view s);             // Bachelor, Master, PhD, B.S., M.Sc., Diplom …
bool is_location(std::string_view s);                 // "Atlanta, GA", "Seoul, S.Korea", "Germany", "Location: …"
bool is_country(std::string_view s);                  // a country or US state code on its own
bool is_name_stopword(std::string_view folded_word);  // resume, cv, curriculum, vitae, lebenslauf …
bool is_company_suffix(std::string_view field);
bool is_field_of_study(std::string_view s);  // "Physics", "Computer Science", "Electrical" (wrapped)
bool is_entry_label(std::string_view s);     // "Highlights", "Key achievements", "Responsibilities"       // "Inc.", "Ltd", "LLC" as a whole field

enum class Section {
    Header,  // before the first heading
    Summary,
    Work,
    Education,
    Mixed,  // "Experience and Education"
    Skills,
    Languages,
    Projects,
    Contact,  // contact, links, profiles, personal information
    Awards,   // awards, certifications, publications, talks: dated, but not jobs
    References,
    Other,  // interests, hobbies and other undated sections
};
const char *section_name(Section s);

// The section a heading line opens, or nothing when the line is not a heading.
std::optional<Section> heading_kind(const Line &line);

struct SectionSpan {
    Section kind;
    size_t begin;  // first content line (after the heading)
    size_t end;    // one past the last content line
};
std::vector<SectionSpan> find_sections(const std::vector<Line> &lines);
// "… transforms, . . .Experience", "June 1997PUBLICATIONS": a heading glued to the end of the
// previous line by the extractor becomes a line of its own.
void split_glued_headings(std::vector<Line> &lines);

// ---- Dates (resume_dates.cpp)
bool has_date(std::string_view s);
// True when nothing but dates, "present", "since" and separators is on the line.
bool is_date_only(std::string_view s);
bool is_month_only(std::string_view s);  // "Sep", "March": half of a date the layout split
// The line with date ranges removed and the separators around them trimmed.
std::string strip_dates(std::string_view s);
struct DateRange {
    std::optional<std::string> start, end;  // "YYYY" or "YYYY-MM"
    bool ongoing = false;
    bool found = false;
};
DateRange parse_dates(std::string_view s);

// ---- Contacts and name (resume_contacts.cpp)
struct Profile {
    std::string network, username, url;
};
struct Contacts {
    std::optional<std::string> name, email, phone, url;
    std::vector<Profile> profiles;
    std::optional<std::string> city, region;
};
std::optional<std::string> find_name(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections);
Contacts find_contacts(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections);
// Every email / phone-looking match of one line, as printed (phones: masked ones left out).
std::vector<std::string> find_emails(std::string_view line);
std::vector<std::string> find_phones(std::string_view line);
std::vector<std::string> find_urls(std::string_view line);

// ---- Entries (resume_entries.cpp)
struct WorkEntry {
    std::string name;
    std::optional<std::string> position, start, end, summary;
};
struct EducationEntry {
    std::string institution;
    std::optional<std::string> area, study_type, start, end;
};
std::vector<WorkEntry> find_work(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections,
                                 const std::optional<std::string> &name);
std::vector<EducationEntry> find_education(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections,
                                           const std::optional<std::string> &name);
// The organisation named by one entry line ("Title, Org, City — dates"), if it names one.
std::optional<std::string> org_of_line(std::string_view line);

// ---- Skills and languages (resume_skills.cpp)
struct SkillGroup {
    std::string name;
    std::vector<std::string> keywords;
};
struct LanguageEntry {
    std::string language;
    std::optional<std::string> fluency;
};
std::vector<SkillGroup> find_skills(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections);
std::vector<LanguageEntry> find_languages(const std::vector<Line> &lines, const std::vector<SectionSpan> &sections);

}  // namespace rp::resume
