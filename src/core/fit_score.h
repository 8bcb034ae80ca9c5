// The built-in candidate scorer (llm_provider = builtin): a parsed résumé (JSON Resume) and its
// raw text, scored against a job posting or on its own, offline and deterministic. Same input,
// same bytes out: nothing depends on the clock (the caller passes as_of), on hash order or on
// the locale.
//
// Every input is untrusted. The résumé JSON is read with rp::llm::parse_untrusted_json (depth
// 32, at most 1 MiB); when it is not readable the score comes from the raw text alone and a
// concern says so. Wrong-typed fields are ignored. At most 256 KiB of raw text, 64 KiB of each
// posting text, 50 work entries, 500 skill items and 100 required skills are read, and every
// text at most 100 000 tokens, so a hostile input costs milliseconds.
//
// Skills. A skill is a term of a small built-in lexicon (about 150 technologies and methods, each
// with its spellings: "Node.js"/"nodejs", "PostgreSQL"/"Postgres", "JS"/"JavaScript", "C++",
// "C#", ".NET", "Go"/"golang") or one of the posting's required skills as written. Matching is
// on whole words, ASCII case-insensitive ("Java" never matches "JavaScript", "Go" never "good");
// a few lexicon words that are also English words (Go, R, C, Rust, Swift, Spring, Excel, REST …)
// match running text only when written with a capital letter, and one-letter names not before
// '.', '-', '&' or an apostrophe ("C.", "C-level", "R&D"). The longest spelling wins ("React
// Native" is not also "React").
//
// The posting's skills: its required_skills (weight 1), lexicon terms in its title (weight 1)
// and in its description (weight 0.5). The résumé's evidence for one skill is the best of:
//   work   recency × (0.8 + 0.2 × min(1, years of the entries naming it / 3)), where recency is
//          1 for an entry that is current or ended within a year, minus 0.04 per further year,
//          down to 0.6 (0.7 for an undated entry). Read from position, summary, description and
//          highlights of each work entry;
//   0.7    listed under skills (skills[].name, skills[].keywords[]);
//   0.4    mentioned anywhere else (raw text, basics.label/summary, projects, certificates).
//
// Figures (each 0–100):
//   S  skill match = 100 × Σ weight × evidence / Σ weight over the posting's skills
//   X  experience  = 100 × min(1, years / required years); required years are read from the
//                    description ("5+ years", "at least 3 years", "3-5 years of experience": the
//                    largest such figure), 3 when it names none. Without a posting:
//                    100 × min(1, years / 10)
//   T  text        = 100 × min(1, similarity / 0.4), similarity being the cosine of the term-
//                    frequency vectors of the résumé text and the posting (title, description,
//                    required skills): tokens are runs of letters and digits, ASCII lower-cased,
//                    other Unicode letters kept as they are (CJK characters one token each),
//                    English stop-words, numbers and one-letter tokens dropped
//   C  profile     = 100 × share of six checks passed: name; e-mail or phone; label or summary;
//                    a dated work entry; an education entry; three or more skills listed
//   K  breadth     = 100 × min(1, distinct skills found / 15)   (without a posting only)
// Years of experience: the union of the work entries' date intervals (overlaps merged; dates
// "2019", "2019-03", "2019-03-01", "03/2019", "Mar 2019"; a missing, "present" or later end is
// as_of; a year alone is January as a start, December as an end).
//
//   overall = 0.55 S + 0.20 X + 0.15 T + 0.10 C        posting with skills
//   overall = 0.45 X + 0.35 T + 0.20 C                 posting without recognisable skills (S null)
//   overall = 0.40 X + 0.35 K + 0.25 C                 no posting (S null, similarity 0)
// overall_fit_score is overall rounded to 2 decimals, score that rounded to an integer.
//
// Public functions never throw anything but std::bad_alloc.
#pragma once
#include "no_postgres.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rp::fit {

struct Posting {
    std::string title, description;
    std::vector<std::string> required_skills;
};

struct Result {
    bool ok = false;
    std::string json;   // when ok: one compact JSON object (the keys below)
    std::string error;  // when not ok: one line
};

// Scores a résumé. resume_json is the parsed résumé as JSON text (anything; "null" or "" when
// there is none), raw_text its extracted text (UTF-8; invalid sequences are replaced), posting
// nullptr for a general score. as_of (year 1900–2200, month 1–12) stands for "now" in dates.
// The JSON object has exactly: score (integer 0–100), overall_fit_score (0–100, 2 decimals),
// skill_match_score (0–100 or null), strengths (≤ 8 strings), concerns (≤ 8 strings), summary,
// reasoning, matched_skills, missing_skills (skill names, in the posting's order),
// years_experience (1 decimal), text_similarity (0–1, 3 decimals), method ("builtin-v1").
// Only an as_of out of range is an error.
Result score(std::string_view resume_json, std::string_view raw_text, const Posting *posting, int as_of_year,
             int as_of_month);

// Reads a posting from JSON text: an object with title, description (strings) and
// required_skills (an array of strings, or one comma-separated string); other keys are ignored,
// so to_jsonb(a job_postings row) fits. Sets *out to nullopt for JSON null. False with *error
// set when the text is not JSON or not an object.
bool posting_from_json(std::string_view text, std::optional<Posting> *out, std::string *error);

// The lexicon's name of a skill ("postgres" → "PostgreSQL", "nodejs" → "Node.js"), or the
// input trimmed when the lexicon does not know it.
std::string canonical_skill(std::string_view skill);

// The years of experience a posting's text asks for ("5+ years", "at least 3 years"), 0 when it
// names none.
int required_years(std::string_view description);

}  // namespace rp::fit
