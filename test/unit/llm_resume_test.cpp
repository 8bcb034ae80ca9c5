// Unit tests of the model path without network: the strict schema file, the request body, every
// outcome of a Chat Completions answer (bodies written as the API sends them), Retry-After and
// rate-limit headers, the validator, and hostile answers. Runs from the repository root.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "../../src/core/llm_resume.h"
#include "../../src/core/llm_schema.h"

namespace {

using nlohmann::json;
using rp::llm::Answer;
using rp::llm::Headers;
using rp::llm::Outcome;
using rp::llm::Schema;

std::string read_file(const char *path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const Schema &resume_schema() {
    static const Schema *schema = [] {
        std::string error;
        auto s = Schema::load(read_file("sql/resume_schema.json"), &error);
        if (!s) {
            ADD_FAILURE() << "sql/resume_schema.json: " << error;
            s = Schema::load(R"({"type":"object","additionalProperties":false,"required":[],"properties":{}})", &error);
        }
        return new Schema(*s);
    }();
    return *schema;
}

json valid_resume() {
    return json::parse(R"({
      "basics":{"name":"Ada Lovelace","email":"ada@example.org","phone":null,"url":null,"label":"Engineer",
                "summary":null,"location":{"city":"London","region":null,"countryCode":"GB"},
                "profiles":[{"network":"GitHub","username":"ada","url":"https://github.com/ada"}]},
      "work":[{"name":"Analytical Engines Ltd","position":"Programmer","startDate":"1842-01","endDate":null,
               "summary":"Wrote the first program."}],
      "education":[{"institution":"Home","area":"Mathematics","studyType":null,"startDate":null,"endDate":"1835"}],
      "skills":[{"name":"Mathematics","keywords":["analysis","Bernoulli numbers"]}],
      "languages":[{"language":"English","fluency":"Native"}],
      "projects":[],
      "certificates":[{"name":"Notes","issuer":null,"date":"1843"}]})");
}

// A 200 answer as the API sends it: the résumé as a JSON *string* in message.content.
std::string answer_body(const json &content, const std::string &finish = "stop", const json &refusal = nullptr) {
    json body = {
        {"id", "chatcmpl-abc123"},
        {"object", "chat.completion"},
        {"created", 1741569952},
        {"model", "gpt-4o-2024-08-06"},
        {"choices", json::array({{{"index", 0},
                                  {"finish_reason", finish},
                                  {"message", {{"role", "assistant"}, {"content", content}, {"refusal", refusal}}},
                                  {"logprobs", nullptr}}})},
        {"usage", {{"prompt_tokens", 812}, {"completion_tokens", 240}, {"total_tokens", 1052}}},
        {"system_fingerprint", "fp_1234"}};
    return body.dump();
}

std::string error_body(const std::string &message, const std::string &type, const json &code) {
    return json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}}.dump();
}

Answer answer(long status, const std::string &body, const Headers &headers = {}) {
    return rp::llm::parse_chat_answer(status, body, headers, resume_schema(), {}, 1700000000000);
}

// ---- the schema file ------------------------------------------------------------------------

// Every object: additionalProperties false and every property required; no format or other
// keyword strict mode or our validator would refuse; the version string for cache keys.
TEST(LlmSchemaFile, IsAStrictSchemaWithVersion) {
    const std::string text = read_file("sql/resume_schema.json");
    ASSERT_FALSE(text.empty()) << "run from the repository root";
    json doc = json::parse(text);
    EXPECT_EQ(rp::llm::check_strict_schema(doc), "");
    EXPECT_EQ(resume_schema().version(), "resume-v1");
    EXPECT_EQ(text.find("\"format\""), std::string::npos);

    // Walk it independently of check_strict_schema.
    int objects = 0;
    std::function<void(const json &, const std::string &)> walk = [&](const json &s, const std::string &at) {
        ASSERT_TRUE(s.is_object()) << at;
        const json &type = s.at("type");
        bool is_object = type == "object" || (type.is_array() && std::count(type.begin(), type.end(), "object"));
        if (is_object) {
            ++objects;
            EXPECT_EQ(s.at("additionalProperties"), false) << at;
            std::set<std::string> required(s.at("required").begin(), s.at("required").end());
            for (auto &[k, v] : s.at("properties").items()) {
                EXPECT_TRUE(required.count(k)) << at << "/" << k;
                walk(v, at + "/" + k);
            }
            EXPECT_EQ(required.size(), s.at("properties").size()) << at;
        }
        if (s.contains("items")) walk(s["items"], at + "/items");
    };
    walk(doc, "");
    EXPECT_EQ(objects, 10);  // root, basics, location, profile, work, education, skill, language, project, cert
    for (const char *top : {"basics", "work", "education", "skills", "languages", "projects", "certificates"})
        EXPECT_TRUE(doc["properties"].contains(top)) << top;
}

TEST(LlmSchemaFile, WireTextDropsCommentAndKeepsOrder) {
    const std::string &wire = resume_schema().wire_text();
    EXPECT_EQ(wire.find("$comment"), std::string::npos);
    EXPECT_LT(wire.find("\"basics\""), wire.find("\"work\""));
    EXPECT_LT(wire.find("\"work\""), wire.find("\"certificates\""));
}

TEST(LlmSchemaCheck, RejectsNonStrictSchemas) {
    auto problem = [](const char *text) { return rp::llm::check_strict_schema(json::parse(text)); };
    EXPECT_NE(problem(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})"), "");
    EXPECT_NE(problem(R"({"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}},
                          "required":[]})"),
              "");
    EXPECT_NE(problem(R"({"type":"object","additionalProperties":false,"required":["a"],
                          "properties":{"a":{"type":"string","format":"email"}}})"),
              "");
    EXPECT_NE(problem(R"({"anyOf":[{"type":"object","additionalProperties":false,"required":[],"properties":{}}]})"),
              "");
    EXPECT_NE(problem(R"({"type":"object","additionalProperties":false,"required":["a"],
                          "properties":{"a":{"type":"array"}}})"),
              "");
    EXPECT_NE(problem(R"({"type":"object","additionalProperties":false,"required":["a"],
                          "properties":{"a":{"allOf":[{"type":"string"}]}}})"),
              "");
    EXPECT_EQ(problem(R"({"type":"object","additionalProperties":false,"required":["a"],
                          "properties":{"a":{"anyOf":[{"type":"string"},{"type":"null"}]}}})"),
              "");
}

// ---- validator ------------------------------------------------------------------------------

TEST(LlmValidate, AcceptsAValidResume) {
    EXPECT_FALSE(rp::llm::validate(valid_resume(), resume_schema()));
}

TEST(LlmValidate, ReportsTheFirstViolationWithAPointer) {
    json d = valid_resume();
    d["work"][0]["startDate"] = 1842;
    auto v = rp::llm::validate(d, resume_schema());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/work/0/startDate");
    EXPECT_NE(v->message.find("string|null"), std::string::npos);

    d = valid_resume();
    d["basics"].erase("email");
    v = rp::llm::validate(d, resume_schema());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/basics");
    EXPECT_NE(v->message.find("email"), std::string::npos);

    d = valid_resume();
    d["basics"]["profiles"][0]["password"] = "x";
    v = rp::llm::validate(d, resume_schema());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/basics/profiles/0/password");

    d = valid_resume();
    d["skills"][0]["keywords"][1] = nullptr;
    v = rp::llm::validate(d, resume_schema());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/skills/0/keywords/1");

    v = rp::llm::validate(json::array(), resume_schema());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "");
}

TEST(LlmValidate, GenericOverTheSchema) {
    std::string error;
    auto s = Schema::load(R"({"type":"object","additionalProperties":false,"required":["n","k","u","a/b"],
        "properties":{"n":{"type":"integer"},"k":{"type":"string","enum":["x","y"]},
                      "u":{"anyOf":[{"type":"number"},{"type":"null"}]},"a/b":{"type":"boolean"}}})",
                          &error);
    ASSERT_TRUE(s) << error;
    EXPECT_FALSE(rp::llm::validate(json::parse(R"({"n":3,"k":"x","u":null,"a/b":true})"), *s));
    EXPECT_FALSE(rp::llm::validate(json::parse(R"({"n":3.0,"k":"y","u":2.5,"a/b":false})"), *s));
    auto v = rp::llm::validate(json::parse(R"({"n":3.5,"k":"x","u":null,"a/b":true})"), *s);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/n");
    v = rp::llm::validate(json::parse(R"({"n":3,"k":"z","u":null,"a/b":true})"), *s);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/k");
    v = rp::llm::validate(json::parse(R"({"n":3,"k":"x","u":"no","a/b":true})"), *s);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/u");
    v = rp::llm::validate(json::parse(R"({"n":3,"k":"x","u":1,"a/b":1})"), *s);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pointer, "/a~1b");
}

// ---- untrusted JSON -------------------------------------------------------------------------

TEST(LlmUntrustedJson, RejectsDuplicateKeysDeepNestingNulAndBadUtf8) {
    std::string error;
    EXPECT_FALSE(rp::llm::parse_untrusted_json(R"({"a":1,"a":2})", 8, &error));
    EXPECT_NE(error.find("duplicate"), std::string::npos);
    EXPECT_FALSE(rp::llm::parse_untrusted_json(std::string(100000, '['), 32, &error));
    EXPECT_NE(error.find("nested"), std::string::npos);
    EXPECT_TRUE(rp::llm::parse_untrusted_json(std::string(32, '[') + std::string(32, ']'), 32, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json(std::string(33, '[') + std::string(33, ']'), 32, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json(R"({"a":"x\u0000y"})", 8, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json("{\"a\":\"\xC3\x28\"}", 8, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json(R"({"a":"\ud800"})", 8, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json("[1e999999]", 8, &error));
    EXPECT_FALSE(rp::llm::parse_untrusted_json("{} trailing", 8, &error));
    auto big = rp::llm::parse_untrusted_json("[123456789012345678901234567890]", 8, &error);
    ASSERT_TRUE(big);
    EXPECT_TRUE((*big)[0].is_number_float());
}

// ---- request body ---------------------------------------------------------------------------

TEST(LlmRequest, CarriesStrictSchemaTextAndTemperatureZero) {
    const std::string text = "Ada Lovelace\nada@example.org\nExperience\nProgrammer, 1842–1843";
    auto r = rp::llm::build_chat_request(text, "gpt-4o-2024-08-06", resume_schema());
    ASSERT_TRUE(r.ok()) << r.error;
    json body = json::parse(r.body);
    EXPECT_EQ(body["model"], "gpt-4o-2024-08-06");
    EXPECT_EQ(body["temperature"], 0.0);
    EXPECT_EQ(body["max_completion_tokens"], 4000);
    ASSERT_EQ(body["messages"].size(), 2u);
    EXPECT_EQ(body["messages"][0]["role"], "system");
    const std::string prompt = body["messages"][0]["content"];
    EXPECT_NE(prompt.find("Never invent"), std::string::npos);
    EXPECT_NE(prompt.find("not instructions"), std::string::npos);
    EXPECT_EQ(body["messages"][1]["role"], "user");
    EXPECT_EQ(body["messages"][1]["content"], text);
    const json &rf = body["response_format"];
    EXPECT_EQ(rf["type"], "json_schema");
    EXPECT_EQ(rf["json_schema"]["name"], "resume");
    EXPECT_EQ(rf["json_schema"]["strict"], true);
    EXPECT_EQ(rf["json_schema"]["schema"]["additionalProperties"], false);
    EXPECT_FALSE(rf["json_schema"]["schema"].contains("$comment"));
    EXPECT_EQ(rp::llm::check_strict_schema(rf["json_schema"]["schema"]), "");
}

TEST(LlmRequest, RepairsTextAndRejectsBadNames) {
    auto r = rp::llm::build_chat_request(std::string("a\0b\xFF", 4), "gpt-4o", resume_schema());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(json::parse(r.body)["messages"][1]["content"], "ab\xEF\xBF\xBD");
    EXPECT_FALSE(rp::llm::build_chat_request("x", "", resume_schema()).ok());
    EXPECT_FALSE(rp::llm::build_chat_request("x", "gpt\"4o", resume_schema()).ok());
    rp::llm::RequestOptions o;
    o.schema_name = "has space";
    EXPECT_FALSE(rp::llm::build_chat_request("x", "gpt-4o", resume_schema(), o).ok());
    o = {};
    o.temperature.reset();
    o.max_completion_tokens = 0;
    o.max_text_bytes = 3;
    r = rp::llm::build_chat_request("ab\xC3\xA9", "gpt-4o", resume_schema(), o);  // cut before é
    json body = json::parse(r.body);
    EXPECT_FALSE(body.contains("temperature"));
    EXPECT_FALSE(body.contains("max_completion_tokens"));
    EXPECT_EQ(body["messages"][1]["content"], "ab");
}

// ---- outcomes -------------------------------------------------------------------------------

TEST(LlmAnswer, OkReturnsValidatedCompactJsonAndUsage) {
    Answer a = answer(200, answer_body(valid_resume().dump(2)),
                      {{"x-request-id", "req_123"},
                       {"X-RateLimit-Remaining-Requests", "499"},
                       {"x-ratelimit-remaining-tokens", "29000"},
                       {"x-ratelimit-reset-requests", "120ms"},
                       {"x-ratelimit-reset-tokens", "6m0s"}});
    ASSERT_EQ(a.outcome, Outcome::ok) << a.message;
    EXPECT_EQ(a.resume_json, valid_resume().dump());
    EXPECT_EQ(a.model, "gpt-4o-2024-08-06");
    EXPECT_EQ(a.prompt_tokens, 812);
    EXPECT_EQ(a.completion_tokens, 240);
    EXPECT_EQ(a.total_tokens, 1052);
    EXPECT_EQ(a.request_id, "req_123");
    EXPECT_EQ(a.remaining_requests, 499);
    EXPECT_EQ(a.remaining_tokens, 29000);
    EXPECT_EQ(a.reset_requests, "120ms");
    EXPECT_EQ(a.reset_requests_ms, 120);
    EXPECT_EQ(a.reset_tokens_ms, 360000);
    EXPECT_FALSE(a.retryable);
}

TEST(LlmAnswer, Refusal) {
    Answer a = answer(200, answer_body(nullptr, "stop", "I'm sorry, I can't help with that."));
    EXPECT_EQ(a.outcome, Outcome::refusal);
    EXPECT_NE(a.message.find("I'm sorry"), std::string::npos);
    EXPECT_EQ(a.prompt_tokens, 812);
}

TEST(LlmAnswer, TruncatedAndContentFilter) {
    std::string cut = valid_resume().dump().substr(0, 100);
    EXPECT_EQ(answer(200, answer_body(cut, "length")).outcome, Outcome::truncated);
    EXPECT_EQ(answer(200, answer_body(nullptr, "content_filter")).outcome, Outcome::content_filter);
}

TEST(LlmAnswer, NotJsonAndSchemaViolation) {
    Answer a = answer(200, answer_body("Here is the résumé: {"));
    EXPECT_EQ(a.outcome, Outcome::not_json);
    json bad = valid_resume();
    bad["languages"][0]["fluency"] = 5;
    a = answer(200, answer_body(bad.dump()));
    EXPECT_EQ(a.outcome, Outcome::schema_violation);
    EXPECT_EQ(a.pointer, "/languages/0/fluency");
    EXPECT_TRUE(a.resume_json.empty());
    // Duplicate keys in the content: which one is "the" value is undefined, so no answer.
    std::string dup = valid_resume().dump();
    dup.insert(1, R"("work":[],)");
    EXPECT_EQ(answer(200, answer_body(dup)).outcome, Outcome::not_json);
}

TEST(LlmAnswer, RateLimitedWithRetryDelay) {
    Answer a = answer(429,
                      error_body("Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): "
                                 "Limit 500, Used 500, Requested 1.",
                                 "requests", "rate_limit_exceeded"),
                      {{"retry-after", "2"}, {"x-ratelimit-remaining-requests", "0"}});
    EXPECT_EQ(a.outcome, Outcome::rate_limited);
    EXPECT_TRUE(a.retryable);
    EXPECT_EQ(a.retry_after_ms, 2000);
    EXPECT_EQ(a.remaining_requests, 0);
    EXPECT_NE(a.message.find("Limit 500"), std::string::npos);
}

TEST(LlmAnswer, InsufficientQuotaIsNotRetryable) {
    Answer a = answer(429, error_body("You exceeded your current quota, please check your plan and billing details.",
                                      "insufficient_quota", "insufficient_quota"));
    EXPECT_EQ(a.outcome, Outcome::insufficient_quota);
    EXPECT_FALSE(a.retryable);
    a = answer(429, error_body("Spend limit reached.", "invalid_request_error", "project_spend_limit_exceeded"));
    EXPECT_EQ(a.outcome, Outcome::insufficient_quota);
}

TEST(LlmAnswer, ServerAndClientErrors) {
    Answer a =
        answer(500, error_body("The server had an error while processing your request.", "server_error", nullptr));
    EXPECT_EQ(a.outcome, Outcome::server_error);
    EXPECT_TRUE(a.retryable);
    a = answer(503, "<html>Service Unavailable</html>", {{"Retry-After", "1.5"}});
    EXPECT_EQ(a.outcome, Outcome::server_error);
    EXPECT_EQ(a.retry_after_ms, 1500);

    a = answer(400, error_body("Invalid schema for response_format 'resume': In context=(), 'additionalProperties' "
                               "is required to be supplied and to be false.",
                               "invalid_request_error", nullptr));
    EXPECT_EQ(a.outcome, Outcome::client_error);
    EXPECT_FALSE(a.retryable);
    EXPECT_NE(a.message.find("HTTP 400"), std::string::npos);
    EXPECT_NE(a.message.find("Invalid schema for response_format"), std::string::npos);

    a = answer(404, error_body("The model `gpt-9` does not exist or you do not have access to it.",
                               "invalid_request_error", "model_not_found"));
    EXPECT_EQ(a.outcome, Outcome::client_error);
    EXPECT_NE(a.message.find("gpt-9"), std::string::npos);
    a = answer(403, error_body("Country, region, or territory not supported", "request_forbidden",
                               "unsupported_country_region_territory"));
    EXPECT_EQ(a.outcome, Outcome::client_error);
    EXPECT_TRUE(answer(408, "").retryable);
}

// The 401 message quotes the key it got; the result must not.
TEST(LlmAnswer, UnauthorizedNeverEchoesTheKey) {
    Answer a = answer(401,
                      error_body("Incorrect API key provided: sk-proj-AbCdEf***************************wxyz. You "
                                 "can find your API key at https://platform.openai.com/account/api-keys.",
                                 "invalid_request_error", "invalid_api_key"),
                      {{"authorization", "Bearer sk-secret"}});
    EXPECT_EQ(a.outcome, Outcome::client_error);
    EXPECT_EQ(a.message.find("AbCdEf"), std::string::npos) << a.message;
    EXPECT_EQ(a.message.find("wxyz"), std::string::npos) << a.message;
    EXPECT_EQ(a.message.find("secret"), std::string::npos) << a.message;
    EXPECT_NE(a.message.find("sk-[redacted]"), std::string::npos) << a.message;
    a = answer(400, error_body("bad header Bearer abc.def-ghi", "invalid_request_error", nullptr));
    EXPECT_EQ(a.message.find("abc.def"), std::string::npos) << a.message;
}

// Fuzzer finding: the quoted text was cut after redacting, so a key near the 300-byte limit
// came out as "sk-[reda"; now the cut comes first and the marker is always whole.
TEST(LlmAnswer, KeyAtTheQuotingLimitIsRedactedWhole) {
    for (size_t pad = 280; pad < 310; ++pad) {
        Answer a = answer(401, error_body(std::string(pad, 'a') + " sk-proj-abcdefghijklmnop and more",
                                          "invalid_request_error", "invalid_api_key"));
        EXPECT_EQ(a.message.find("abcdef"), std::string::npos) << pad << ": " << a.message;
        for (size_t at = a.message.find("sk-"); at != std::string::npos; at = a.message.find("sk-", at + 1))
            EXPECT_EQ(a.message.compare(at, 13, "sk-[redacted]"), 0) << pad << ": " << a.message;
    }
}

TEST(LlmAnswer, MalformedAnswers) {
    EXPECT_EQ(answer(200, "").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, "<html>gateway</html>").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, "[]").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, R"({"choices":[]})").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, R"({"choices":[{"message":"hi"}]})").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, R"({"choices":[{"message":{"content":42}}]})").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, answer_body(nullptr)).outcome, Outcome::malformed_answer);  // no content, no refusal
    EXPECT_EQ(answer(200, R"({"choices":[{"message":{"content":null,"refusal":7}}]})").outcome,
              Outcome::malformed_answer);
    EXPECT_EQ(answer(302, "").outcome, Outcome::malformed_answer);
    // Wrong types in usage are ignored, not trusted.
    json body = json::parse(answer_body(valid_resume().dump()));
    body["usage"] = {{"prompt_tokens", "many"}, {"completion_tokens", -4}, {"total_tokens", 1e300}};
    Answer a = answer(200, body.dump());
    EXPECT_EQ(a.outcome, Outcome::ok);
    EXPECT_EQ(a.prompt_tokens, -1);
    EXPECT_EQ(a.completion_tokens, -1);
    EXPECT_EQ(a.total_tokens, -1);
}

TEST(LlmAnswer, HostileBodiesGiveOutcomesNotCrashes) {
    // Over the size cap: not parsed at all.
    std::string huge = answer_body(std::string(50u << 20, 'x'));
    Answer a = answer(200, huge);
    EXPECT_EQ(a.outcome, Outcome::malformed_answer);
    EXPECT_NE(a.message.find("over the cap"), std::string::npos);
    // A huge 429 still reads as a rate limit, from the status and headers.
    a = answer(429, huge, {{"retry-after-ms", "250"}});
    EXPECT_EQ(a.outcome, Outcome::rate_limited);
    EXPECT_EQ(a.retry_after_ms, 250);
    // Deep nesting in the body and in the content.
    EXPECT_EQ(answer(200, std::string(1 << 20, '[')).outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, answer_body(std::string(100000, '[') + std::string(100000, ']'))).outcome, Outcome::not_json);
    // Huge numbers, invalid UTF-8, duplicate keys in the envelope.
    EXPECT_EQ(answer(200, R"({"choices":1e999999})").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, "{\"model\":\"\xFF\"}").outcome, Outcome::malformed_answer);
    EXPECT_EQ(answer(200, R"({"choices":[],"choices":[]})").outcome, Outcome::malformed_answer);
    // Content that is valid JSON with \u0000 inside a string.
    json with_nul = valid_resume();
    std::string text = with_nul.dump();
    text.replace(text.find("Ada Lovelace"), 3, "\\u0000");
    EXPECT_EQ(answer(200, answer_body(text)).outcome, Outcome::not_json);
}

// ---- headers --------------------------------------------------------------------------------

TEST(LlmRetryAfter, AllForms) {
    const int64_t now = 1700000000000;  // 2023-11-14T22:13:20Z
    EXPECT_EQ(rp::llm::retry_after_ms({}, now), -1);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after-ms", "1500"}, {"retry-after", "9"}}, now), 1500);
    EXPECT_EQ(rp::llm::retry_after_ms({{"Retry-After-Ms", "12.6"}}, now), 13);
    EXPECT_EQ(rp::llm::retry_after_ms({{"Retry-After", "7"}}, now), 7000);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "0.25"}}, now), 250);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "Tue, 14 Nov 2023 22:13:50 GMT"}}, now), 30000);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "14 Nov 2023 22:14:20 GMT"}}, now), 60000);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "Tue, 14 Nov 2023 22:00:00 GMT"}}, now), 0);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "soon"}}, now), -1);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "-5"}}, now), -1);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "1e9"}}, now), -1);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after-ms", "bad"}, {"retry-after", "3"}}, now), 3000);
    EXPECT_EQ(rp::llm::retry_after_ms({{"retry-after", "99999999999999999999"}}, now), 365LL * 24 * 3600 * 1000);
}

TEST(LlmRateLimitHeaders, GoDurations) {
    EXPECT_EQ(rp::llm::parse_go_duration_ms("1s"), 1000);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("6m0s"), 360000);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("120ms"), 120);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("1h2m3.5s"), 3723500);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("17.28s"), 17280);
    EXPECT_EQ(rp::llm::parse_go_duration_ms(""), -1);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("5"), -1);
    EXPECT_EQ(rp::llm::parse_go_duration_ms("5x"), -1);
}

// ---- cache key ------------------------------------------------------------------------------

TEST(LlmCacheKey, MaterialIsVersionModelText) {
    EXPECT_EQ(rp::llm::cache_key_material("Ada\nLovelace", "gpt-4o", "resume-v1"), "resume-v1\ngpt-4o\nAda\nLovelace");
    EXPECT_EQ(rp::llm::cache_key_material("x", "gpt\n4o", "resume-v1"), "");
    EXPECT_NE(rp::llm::cache_key_material("x", "gpt-4o", "resume-v1"),
              rp::llm::cache_key_material("x", "gpt-4o", "resume-v2"));
}

TEST(LlmOutcome, NamesAreStable) {
    EXPECT_STREQ(rp::llm::outcome_name(Outcome::ok), "ok");
    EXPECT_STREQ(rp::llm::outcome_name(Outcome::insufficient_quota), "insufficient_quota");
    EXPECT_STREQ(rp::llm::outcome_name(Outcome::malformed_answer), "malformed_answer");
}

}  // namespace
