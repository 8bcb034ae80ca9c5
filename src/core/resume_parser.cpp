// rp::parse_resume_json: lines → sections → contacts, entries, skills → JSON Resume.
#include "resume_parser.h"

#include <nlohmann/json.hpp>

#include "resume_internal.h"
#include "utf8_text.h"

namespace rp {
namespace {

nlohmann::json opt(const std::optional<std::string> &s) {
    if (!s || s->empty()) return nullptr;
    return *s;
}

}  // namespace

std::string parse_resume_json(std::string_view text) {
    using namespace resume;
    if (text.size() > kMaxResumeTextBytes) {
        // Cut on a character boundary; sanitize_utf8 in normalize_text repairs the rest.
        size_t cut = kMaxResumeTextBytes;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
        text = text.substr(0, cut);
    }
    std::vector<Line> lines = make_lines(normalize_text(text));
    split_glued_headings(lines);
    const std::vector<SectionSpan> sections = find_sections(lines);

    const Contacts contacts = find_contacts(lines, sections);
    nlohmann::json basics = {
        {"name", opt(contacts.name)},
        {"email", opt(contacts.email)},
        {"phone", opt(contacts.phone)},
        {"url", opt(contacts.url)},
    };
    nlohmann::json profiles = nlohmann::json::array();
    for (const auto &p : contacts.profiles)
        profiles.push_back({{"network", p.network.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.network)},
                            {"username", p.username.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.username)},
                            {"url", p.url}});
    basics["profiles"] = std::move(profiles);
    if (contacts.city) {
        nlohmann::json location = {{"city", *contacts.city}};
        if (contacts.region) location["region"] = *contacts.region;
        basics["location"] = std::move(location);
    }

    nlohmann::json work = nlohmann::json::array();
    for (const auto &w : find_work(lines, sections, contacts.name))
        work.push_back({{"name", w.name},
                        {"position", opt(w.position)},
                        {"startDate", opt(w.start)},
                        {"endDate", opt(w.end)},
                        {"summary", opt(w.summary)}});

    nlohmann::json education = nlohmann::json::array();
    for (const auto &e : find_education(lines, sections, contacts.name))
        education.push_back({{"institution", e.institution},
                             {"area", opt(e.area)},
                             {"studyType", opt(e.study_type)},
                             {"startDate", opt(e.start)},
                             {"endDate", opt(e.end)}});

    nlohmann::json skills = nlohmann::json::array();
    for (const auto &g : find_skills(lines, sections)) skills.push_back({{"name", g.name}, {"keywords", g.keywords}});

    nlohmann::json languages = nlohmann::json::array();
    for (const auto &l : find_languages(lines, sections))
        languages.push_back({{"language", l.language}, {"fluency", opt(l.fluency)}});

    nlohmann::json out = {{"basics", std::move(basics)},
                          {"work", std::move(work)},
                          {"education", std::move(education)},
                          {"skills", std::move(skills)},
                          {"languages", std::move(languages)}};
    // Every string came through sanitize_utf8 and whole-character edits, but a cut inside a
    // field must never make dump() throw: replace rather than fail.
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace rp
