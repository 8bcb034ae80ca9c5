// The built-in offline résumé parser: plain text (as rp::pdf_text or rp::docx_text extracts it)
// in, JSON Resume-shaped JSON out. No network, no model: general heuristics over lines
// (section headings in several languages, contact patterns, entry layouts).
#pragma once
#include "no_postgres.h"

#include <string>
#include <string_view>

namespace rp {

// JSON Resume shape as a compact JSON string:
//   {"basics":{"name","email","phone","url","profiles":[{"network","username","url"}],"location":{...}},
//    "work":[{"name","position","startDate","endDate","summary"}],
//    "education":[{"institution","area","studyType","startDate","endDate"}],
//    "skills":[{"name","keywords":[]}], "languages":[{"language","fluency"}]}
// Absent values are null or empty arrays, never invented. Dates are "YYYY" or "YYYY-MM"; an
// ongoing entry has endDate null. Never throws on any input: text that is not valid UTF-8 is
// repaired first, and only the first kMaxResumeTextBytes bytes are read.
std::string parse_resume_json(std::string_view text);

// Résumés are a few pages; anything past this is not looked at (keeps hostile input cheap).
constexpr size_t kMaxResumeTextBytes = 256 * 1024;

}  // namespace rp
