// Unit tests of the built-in candidate scorer (rp::fit, src/core/fit_score.h): ranking, skill
// spellings and word boundaries, recency, merged years, required years, hostile input,
// determinism and the shape of the answer.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "../../src/core/fit_score.h"

namespace {

using nlohmann::json;
using rp::fit::Posting;

const Posting kBackend{"Senior Backend Engineer",
                       "We build APIs in Go on PostgreSQL and run them on Kubernetes. You have 5+ years of "
                       "experience with backend services; Docker and AWS are a plus.",
                       {"Go", "Postgres", "Kubernetes", "gRPC"}};

// A résumé written for the posting, and an unrelated one.
const char *kFitJson = R"({
  "basics": {"name": "Ana Ortiz", "email": "ana@example.com", "label": "Backend engineer",
             "summary": "Builds Go services on PostgreSQL."},
  "work": [
    {"name": "Acme", "position": "Backend Engineer", "startDate": "2019-02", "endDate": "present",
     "summary": "Go microservices with gRPC on Kubernetes; PostgreSQL tuning; Docker."},
    {"name": "Initech", "position": "Software Developer", "startDate": "2015-06", "endDate": "2019-01",
     "summary": "Python and PostgreSQL back ends on AWS."}
  ],
  "education": [{"institution": "Universidad de Sevilla", "area": "Computer Science", "studyType": "BSc"}],
  "skills": [{"name": "Languages", "keywords": ["Go", "Python", "SQL"]},
             {"name": "Infrastructure", "keywords": ["Kubernetes", "Docker", "AWS"]}]
})";
const char *kFitText =
    "Ana Ortiz\nBackend engineer\nAcme, Backend Engineer, 2019 - present: Go microservices with gRPC on "
    "Kubernetes, PostgreSQL tuning, Docker.\nInitech, Software Developer, 2015 - 2019: Python and PostgreSQL back "
    "ends on AWS.\nSkills: Go, Python, SQL, Kubernetes, Docker, AWS";
const char *kBakerJson = R"({
  "basics": {"name": "Bo Lind", "email": "bo@example.com", "label": "Pastry chef"},
  "work": [{"name": "Bageriet", "position": "Baker", "startDate": "2012", "endDate": "present",
            "summary": "Good bread for good people: sourdough, pastries, cakes."}],
  "skills": [{"name": "Baking", "keywords": ["Sourdough", "Lamination", "Food safety"]}]
})";
const char *kBakerText = "Bo Lind\nPastry chef\nBageriet, Baker, 2012 - present. Good bread for good people.";

json run(const std::string &resume, const std::string &text, const Posting *posting, int year = 2024, int month = 6) {
    const rp::fit::Result r = rp::fit::score(resume, text, posting, year, month);
    EXPECT_TRUE(r.ok) << r.error;
    if (!r.ok) return json();
    return json::parse(r.json);
}

// A résumé whose only link to the posting's one skill is given by the caller.
json one_skill(const std::string &resume, const std::string &text, int year = 2024) {
    const Posting p{"Platform engineer", "", {"Kubernetes"}};
    return run(resume, text, &p, year);
}

std::vector<std::string> strings(const json &a) {
    std::vector<std::string> out;
    for (const auto &v : a) out.push_back(v.get<std::string>());
    return out;
}

void expect_shape(const json &j) {
    const std::set<std::string> keys = {"score",          "overall_fit_score", "skill_match_score", "strengths",
                                        "concerns",       "summary",           "reasoning",         "matched_skills",
                                        "missing_skills", "years_experience",  "text_similarity",   "method"};
    std::set<std::string> got;
    for (auto it = j.begin(); it != j.end(); ++it) got.insert(it.key());
    EXPECT_EQ(keys, got);
    ASSERT_TRUE(j["score"].is_number_integer());
    EXPECT_GE(j["score"].get<int>(), 0);
    EXPECT_LE(j["score"].get<int>(), 100);
    EXPECT_GE(j["overall_fit_score"].get<double>(), 0);
    EXPECT_LE(j["overall_fit_score"].get<double>(), 100);
    EXPECT_TRUE(j["skill_match_score"].is_null() || j["skill_match_score"].is_number());
    EXPECT_LE(j["strengths"].size(), 8u);
    EXPECT_LE(j["concerns"].size(), 8u);
    EXPECT_TRUE(j["summary"].is_string() && !j["summary"].get<std::string>().empty());
    EXPECT_TRUE(j["reasoning"].is_string() && !j["reasoning"].get<std::string>().empty());
    EXPECT_TRUE(j["matched_skills"].is_array());
    EXPECT_TRUE(j["missing_skills"].is_array());
    EXPECT_GE(j["years_experience"].get<double>(), 0);
    EXPECT_GE(j["text_similarity"].get<double>(), 0);
    EXPECT_LE(j["text_similarity"].get<double>(), 1);
    EXPECT_EQ("builtin-v1", j["method"]);
}

TEST(FitScore, ResumeWrittenForThePostingScoresClearlyAboveAnUnrelatedOne) {
    const json fit = run(kFitJson, kFitText, &kBackend);
    const json baker = run(kBakerJson, kBakerText, &kBackend);
    expect_shape(fit);
    expect_shape(baker);
    EXPECT_GE(fit["score"].get<int>(), 75) << fit.dump(2);
    EXPECT_LE(baker["score"].get<int>(), 35) << baker.dump(2);
    EXPECT_GT(fit["skill_match_score"].get<double>(), 80);
    EXPECT_EQ(0, baker["skill_match_score"].get<double>());
    EXPECT_GT(fit["text_similarity"].get<double>(), baker["text_similarity"].get<double>());
    // Required skills first, in the posting's order, then what the description names.
    EXPECT_EQ((std::vector<std::string>{"Go", "PostgreSQL", "Kubernetes", "gRPC", "Docker", "AWS"}),
              strings(fit["matched_skills"]));
    EXPECT_TRUE(fit["missing_skills"].empty());
    EXPECT_EQ(strings(fit["matched_skills"]), strings(baker["missing_skills"]));
    // The summary and the reasoning carry the figures.
    EXPECT_NE(std::string::npos, fit["summary"].get<std::string>().find("Senior Backend Engineer"));
    EXPECT_NE(std::string::npos, fit["reasoning"].get<std::string>().find("0.55*"));
    EXPECT_NE(std::string::npos, baker["concerns"][0].get<std::string>().find("Missing skills: Go"));
}

TEST(FitScore, RecentWorkUseCountsMoreThanAListedSkillWhichCountsMoreThanAMention) {
    const json recent = one_skill(R"({"work": [{"position": "SRE", "startDate": "2020-01", "endDate": "present",
                                                "summary": "Ran Kubernetes clusters."}]})",
                                  "");
    const json old = one_skill(R"({"work": [{"position": "SRE", "startDate": "2008-01", "endDate": "2011-12",
                                             "summary": "Ran Kubernetes clusters."}]})",
                               "");
    const json listed = one_skill(R"({"skills": [{"name": "Ops", "keywords": ["Kubernetes"]}]})", "");
    const json mentioned = one_skill("{}", "Interested in Kubernetes.");
    const json absent = one_skill("{}", "Interested in gardening.");
    const double r = recent["skill_match_score"], o = old["skill_match_score"], l = listed["skill_match_score"],
                 m = mentioned["skill_match_score"], a = absent["skill_match_score"];
    EXPECT_EQ(100, r);
    EXPECT_EQ(70, l);
    EXPECT_EQ(40, m);
    EXPECT_EQ(0, a);
    EXPECT_GT(r, o);
    EXPECT_GT(o, m);
    // Both: the best evidence counts.
    const json both = one_skill(R"({"work": [{"position": "SRE", "startDate": "2008-01", "endDate": "2009-01",
                                              "summary": "Kubernetes."}],
                                    "skills": [{"keywords": ["Kubernetes"]}]})",
                                "");
    EXPECT_EQ(70, both["skill_match_score"].get<double>());
    // Recency is measured from as_of: the same résumé ten years later counts less.
    const json later = one_skill(R"({"work": [{"position": "SRE", "startDate": "2020-01", "endDate": "2024-06",
                                               "summary": "Ran Kubernetes clusters."}]})",
                                 "", 2034);
    EXPECT_LT(later["skill_match_score"].get<double>(), 100);
    // A skill mentioned only in passing is a concern.
    EXPECT_NE(std::string::npos, mentioned["concerns"].dump().find("Only mentioned in passing: Kubernetes"));
}

TEST(FitScore, YearsOfExperienceMergeOverlapsAndReadSeveralDateFormats) {
    const char *resume = R"({"work": [
        {"startDate": "2015-01", "endDate": "2018-12"},
        {"startDate": "2017-06-15", "endDate": "2020-12-01"},
        {"startDate": "2019", "endDate": "2019"},
        {"startDate": "Jan 2022", "endDate": "Present"},
        {"startDate": "03/2023"},
        {"startDate": "2030-01", "endDate": "2031-01"},
        {"startDate": "whenever", "endDate": "2020"},
        {"startDate": 2010, "endDate": null}
    ]})";
    // 2015-01..2020-12 (72 months) + 2022-01..2024-12 (36 months) = 9 years.
    const json j = run(resume, "", nullptr, 2024, 12);
    EXPECT_EQ(9.0, j["years_experience"].get<double>());
    // A year alone: January to December, cut at as_of.
    EXPECT_EQ(
        1.0,
        run(R"({"work": [{"startDate": "2019", "endDate": "2019"}]})", "", nullptr)["years_experience"].get<double>());
    EXPECT_EQ(0.5,
              run(R"({"work": [{"startDate": "2024", "endDate": "2024"}]})", "", nullptr, 2024, 6)["years_experience"]
                  .get<double>());
}

TEST(FitScore, SkillsMatchOnWholeWordsWithNormalisedSpellings) {
    const Posting java{"Java developer", "", {"Java"}};
    const json js_only = run(R"({"skills": [{"keywords": ["JavaScript", "TypeScript"]}]})",
                             "JavaScript and TypeScript, some Java-Script.", &java);
    EXPECT_TRUE(js_only["matched_skills"].empty()) << js_only.dump();
    EXPECT_EQ((std::vector<std::string>{"Java"}), strings(js_only["missing_skills"]));

    const Posting go{"", "", {"Go"}};
    EXPECT_TRUE(run("{}", "A good, go-getting team player. Google, MongoDB.", &go)["matched_skills"].empty());
    EXPECT_EQ((std::vector<std::string>{"Go"}), strings(run("{}", "Services in Golang.", &go)["matched_skills"]));
    EXPECT_EQ((std::vector<std::string>{"Go"}), strings(run("{}", "Wrote Go every day.", &go)["matched_skills"]));

    const Posting many{"", "", {"node.js", "Postgres", "JS", "C++", "C#", ".NET", "C", "R"}};
    const json j = run(R"({"skills": [{"keywords": ["NodeJS", "PostgreSQL", "javascript"]}]})",
                       "Work in C++ and C# on .NET; C/C++ tooling; R&D lead; John C. Smith.", &many);
    EXPECT_EQ((std::vector<std::string>{"Node.js", "PostgreSQL", "JavaScript", "C++", "C#", ".NET", "C"}),
              strings(j["matched_skills"]));
    EXPECT_EQ((std::vector<std::string>{"R"}), strings(j["missing_skills"]));

    // Longest spelling wins: React Native is not also React.
    const Posting react{"", "", {"React"}};
    EXPECT_TRUE(run("{}", "Apps in React Native.", &react)["matched_skills"].empty());
    // A required skill the lexicon does not know is matched as written, case-insensitively.
    const Posting custom{"", "", {"Salesforce CPQ", "Widget Polishing"}};
    const json c = run("{}", "Ten years of widget polishing.", &custom);
    EXPECT_EQ((std::vector<std::string>{"Widget Polishing"}), strings(c["matched_skills"]));
    EXPECT_EQ((std::vector<std::string>{"Salesforce"}), strings(c["missing_skills"]));
}

TEST(FitScore, CanonicalSkillNames) {
    EXPECT_EQ("Node.js", rp::fit::canonical_skill("nodejs"));
    EXPECT_EQ("Node.js", rp::fit::canonical_skill("Node.JS"));
    EXPECT_EQ("PostgreSQL", rp::fit::canonical_skill(" postgres "));
    EXPECT_EQ("JavaScript", rp::fit::canonical_skill("JS"));
    EXPECT_EQ("C#", rp::fit::canonical_skill("c#"));
    EXPECT_EQ("C++", rp::fit::canonical_skill("C++"));
    EXPECT_EQ(".NET", rp::fit::canonical_skill(".net"));
    EXPECT_EQ("Go", rp::fit::canonical_skill("golang"));
    EXPECT_EQ("Basket weaving", rp::fit::canonical_skill("  Basket weaving "));
}

TEST(FitScore, RequiredYearsAreReadFromTheDescription) {
    EXPECT_EQ(5, rp::fit::required_years("5+ years of experience with Go"));
    EXPECT_EQ(3, rp::fit::required_years("At least 3 years in a similar role."));
    EXPECT_EQ(4, rp::fit::required_years("Minimum 4 yrs of professional work"));
    EXPECT_EQ(3, rp::fit::required_years("3-5 years of experience"));
    EXPECT_EQ(2, rp::fit::required_years("two or more years building APIs"));
    EXPECT_EQ(7, rp::fit::required_years("5+ years of Python and 7+ years of software development experience"));
    EXPECT_EQ(0, rp::fit::required_years("Founded 20 years ago, we ship 3 products a year."));
    EXPECT_EQ(0, rp::fit::required_years(""));
    // The figure drives the experience part and a concern.
    const json j = run(kBakerJson, kBakerText, &kBackend, 2014, 6);
    EXPECT_NE(std::string::npos, j["concerns"].dump().find("2.5 years of experience, 5 asked")) << j.dump(2);
}

TEST(FitScore, NoPostingGivesAGeneralScoreWithoutSkillMatch) {
    const json j = run(kFitJson, kFitText, nullptr);
    expect_shape(j);
    EXPECT_TRUE(j["skill_match_score"].is_null());
    EXPECT_TRUE(j["matched_skills"].empty());
    EXPECT_TRUE(j["missing_skills"].empty());
    EXPECT_EQ(0, j["text_similarity"].get<double>());
    EXPECT_GT(j["score"].get<int>(), run(kBakerJson, kBakerText, nullptr)["score"].get<int>());
    // A posting that names no skill the scorer can recognise: no skill match either.
    const Posting vague{"Team member", "Join a friendly team.", {}};
    const json v = run(kFitJson, kFitText, &vague);
    expect_shape(v);
    EXPECT_TRUE(v["skill_match_score"].is_null());
}

TEST(FitScore, SameInputGivesByteIdenticalOutput) {
    const rp::fit::Result a = rp::fit::score(kFitJson, kFitText, &kBackend, 2024, 6);
    for (int i = 0; i < 5; ++i) {
        const rp::fit::Result b = rp::fit::score(kFitJson, kFitText, &kBackend, 2024, 6);
        ASSERT_TRUE(b.ok);
        EXPECT_EQ(a.json, b.json);
    }
    // Object key order in the input does not matter either.
    const char *reordered = R"({"skills": [{"keywords": ["Go", "Python", "SQL"], "name": "Languages"},
                                           {"keywords": ["Kubernetes", "Docker", "AWS"], "name": "Infrastructure"}],
      "education": [{"studyType": "BSc", "area": "Computer Science", "institution": "Universidad de Sevilla"}],
      "work": [
        {"summary": "Go microservices with gRPC on Kubernetes; PostgreSQL tuning; Docker.", "endDate": "present",
         "startDate": "2019-02", "position": "Backend Engineer", "name": "Acme"},
        {"summary": "Python and PostgreSQL back ends on AWS.", "endDate": "2019-01", "startDate": "2015-06",
         "position": "Software Developer", "name": "Initech"}],
      "basics": {"summary": "Builds Go services on PostgreSQL.", "label": "Backend engineer",
                 "email": "ana@example.com", "name": "Ana Ortiz"}})";
    EXPECT_EQ(a.json, rp::fit::score(reordered, kFitText, &kBackend, 2024, 6).json);
}

TEST(FitScore, HostileJsonGivesAValidResultOrACleanError) {
    std::vector<std::string> inputs = {
        std::string(100000, '['),
        std::string(50000, '[') + std::string(50000, ']'),
        "{\"work\":" + std::string(5000, '[') + "1" + std::string(5000, ']') + "}",
        R"({"basics": [], "work": "every day", "skills": 5, "education": {"a": 1}})",
        R"({"work": [1, "two", null, [], {"startDate": 2019, "endDate": {"y": 1}, "summary": ["Go"]}]})",
        R"({"skills": [null, 3, "Go", {"name": 7, "keywords": "Go"}, {"keywords": [1, null, {"x": "Go"}]}]})",
        R"({"work": [{"startDate": "99999-99", "endDate": "-5"}, {"startDate": "1800", "endDate": "2400"}]})",
        R"({"a": 1, "a": 2})",
        "not json at all \xff\xfe",
        std::string("{\"basics\": {\"name\": \"A\0B\"}}", 27),
        "[1, 2, 3]",
        "\"just a string\"",
        "",
        "null",
    };
    std::string big_work = "{\"work\": [";
    for (int i = 0; i < 20000; ++i) big_work += R"({"startDate": "2001", "summary": "Go Go Go"},)";
    big_work += "{}]}";
    inputs.push_back(big_work);
    std::string big_skills = "{\"skills\": [{\"keywords\": [";
    for (int i = 0; i < 30000; ++i) big_skills += "\"Go\",";
    big_skills += "\"Go\"]}]}";
    inputs.push_back(big_skills);

    Posting hostile{std::string(5000, 'x'), "", {}};
    for (int i = 0; i < 300; ++i) hostile.required_skills.push_back("skill " + std::to_string(i));
    hostile.required_skills.push_back(std::string(100000, 'y'));
    hostile.required_skills.emplace_back("\xff\xfe\x00 bad", 7);
    hostile.description = std::string(200000, 'a') + " 5+ years";
    const std::string raw_bad = std::string(300000, '\xff') + std::string("\0\0", 2) + "Go";

    for (const std::string &in : inputs)
        for (const Posting *p :
             {static_cast<const Posting *>(nullptr), &kBackend, static_cast<const Posting *>(&hostile)})
            for (const std::string &raw : {std::string(), std::string(kFitText), raw_bad}) {
                const auto t0 = std::chrono::steady_clock::now();
                const rp::fit::Result r = rp::fit::score(in, raw, p, 2024, 6);
                const double ms =
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                EXPECT_LT(ms, 1000) << in.substr(0, 40);
                if (!r.ok) {
                    EXPECT_FALSE(r.error.empty());
                    continue;
                }
                const json j = json::parse(r.json);
                expect_shape(j);
                EXPECT_LE(j["matched_skills"].size() + j["missing_skills"].size(), 60u);
            }
    // Unreadable parsed JSON: scored from the raw text, and said so.
    const json j = run(std::string(100000, '['), kFitText, &kBackend);
    EXPECT_NE(std::string::npos, j["concerns"].dump().find("Parsed resume unreadable")) << j.dump(2);
    EXPECT_GT(j["skill_match_score"].get<double>(), 0);
}

TEST(FitScore, AsOfOutOfRangeIsAnError) {
    EXPECT_FALSE(rp::fit::score("{}", "", nullptr, 1800, 1).ok);
    EXPECT_FALSE(rp::fit::score("{}", "", nullptr, 2024, 13).ok);
    const rp::fit::Result r = rp::fit::score("{}", "", nullptr, 2024, 0);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(std::string::npos, r.error.find("as_of"));
}

TEST(FitScore, PostingFromJsonTakesAJobPostingsRow) {
    std::optional<Posting> p;
    std::string err;
    ASSERT_TRUE(rp::fit::posting_from_json(
        R"({"id": "7d2c", "user_id": null, "title": "Data engineer", "description": "Airflow and Spark.",
            "required_skills": ["Python", 3, "SQL"], "created_at": "2024-01-01T00:00:00"})",
        &p, &err))
        << err;
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ("Data engineer", p->title);
    EXPECT_EQ((std::vector<std::string>{"Python", "SQL"}), p->required_skills);
    ASSERT_TRUE(rp::fit::posting_from_json(R"({"required_skills": "Go, Rust ,, SQL"})", &p, &err));
    EXPECT_EQ((std::vector<std::string>{"Go", "Rust", "SQL"}), p->required_skills);
    EXPECT_TRUE(p->title.empty());
    ASSERT_TRUE(rp::fit::posting_from_json("null", &p, &err));
    EXPECT_FALSE(p.has_value());
    EXPECT_FALSE(rp::fit::posting_from_json("[1]", &p, &err));
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(rp::fit::posting_from_json("{", &p, &err));
}

}  // namespace
