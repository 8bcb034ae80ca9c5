// libFuzzer harness for the model-answer core (src/core/llm_resume.cpp, llm_schema.cpp): the
// code that reads an OpenAI Chat Completions answer, and the model's JSON inside it, as
// untrusted input.
//
// Input layout: byte 0 (mod 5) selects the entry point, the rest is its input:
//   0 parse_chat_answer, status 200, the bytes as the whole body
//   1 parse_chat_answer, status 200, the bytes as message.content inside a well-formed body
//     (reaches the content parser and the validator at every step)
//   2 parse_chat_answer, status 400 + byte 1 (400..655), the rest as an error body; the
//     headers below as well
//   3 headers: lines "name: value" → retry_after_ms, parse_go_duration_ms
//   4 Schema::load on the bytes; when it loads, validate a few documents against it and build a
//     request with it
//
// Expected: a result. Only std::bad_alloc may leave the public functions. Any other exception,
// a crash, a sanitizer report or a broken invariant (checked below) is a finding.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../src/core/llm_resume.h"
#include "../src/core/llm_schema.h"
#include "../src/core/utf8_text.h"

namespace {

using nlohmann::json;
using rp::llm::Answer;
using rp::llm::Outcome;
using rp::llm::Schema;

// The résumé schema's shape in small: objects, nullable strings, arrays, enum, anyOf.
constexpr char kSchema[] = R"({"$comment":"fuzz-v1","type":"object","additionalProperties":false,
 "required":["basics","work","kind","score"],
 "properties":{
  "basics":{"type":"object","additionalProperties":false,"required":["name","email"],
            "properties":{"name":{"type":["string","null"]},"email":{"type":["string","null"]}}},
  "work":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["name","keywords"],
          "properties":{"name":{"type":"string"},"keywords":{"type":"array","items":{"type":"string"}}}}},
  "kind":{"type":"string","enum":["a","b"]},
  "score":{"anyOf":[{"type":"integer"},{"type":"null"}]}}})";

[[noreturn]] void invariant_failed(const char *what, std::string_view value) {
    std::string shown = rp::sanitize_utf8(value.substr(0, 300));
    std::fprintf(stderr, "\n*** INVARIANT BROKEN: %s\n*** value (%zu bytes, first 300 sanitised): \"%s\"\n", what,
                 value.size(), shown.c_str());
    std::abort();
}

const Schema &fuzz_schema() {
    static const Schema *schema = [] {
        std::string error;
        auto s = Schema::load(kSchema, &error);
        if (!s) invariant_failed("the harness schema does not load", error);
        return new Schema(*s);
    }();
    return *schema;
}

// Every message is one valid UTF-8 line, and "sk-" is only ever followed by "[redacted]".
void check_text(const char *what, const std::string &s) {
    if (!rp::is_valid_utf8(s)) invariant_failed(what, s);
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20) invariant_failed("control character in a message", s);
}

void check_answer(const Answer &a, const Schema &schema) {
    check_text("message is not valid UTF-8", a.message);
    check_text("model is not valid UTF-8", a.model);
    check_text("request_id is not valid UTF-8", a.request_id);
    if (a.message.empty()) invariant_failed("empty message", a.message);
    for (size_t at = a.message.find("sk-"); at != std::string::npos; at = a.message.find("sk-", at + 1)) {
        // A key-looking token must be redacted unless it is glued to a word (e.g. "task-1").
        const bool glued =
            at > 0 && (std::isalnum(static_cast<unsigned char>(a.message[at - 1])) || a.message[at - 1] == '-' ||
                       a.message[at - 1] == '_' || a.message[at - 1] == '*' || a.message[at - 1] == '.');
        if (!glued && a.message.compare(at, 13, "sk-[redacted]") != 0) invariant_failed("unredacted key", a.message);
    }
    if ((a.outcome == Outcome::ok) != !a.resume_json.empty()) invariant_failed("resume_json set iff ok", a.resume_json);
    if (a.outcome == Outcome::ok) {
        if (!rp::is_valid_utf8(a.resume_json)) invariant_failed("resume_json is not valid UTF-8", a.resume_json);
        std::string error;
        auto again = rp::llm::parse_untrusted_json(a.resume_json, 64, &error);
        if (!again) invariant_failed("resume_json does not parse again", a.resume_json);
        if (rp::llm::validate(*again, schema)) invariant_failed("resume_json does not validate", a.resume_json);
        if (again->dump() != a.resume_json) invariant_failed("resume_json is not compact/stable", a.resume_json);
    }
    if (a.retryable && a.outcome != Outcome::rate_limited && a.outcome != Outcome::server_error &&
        a.outcome != Outcome::client_error)
        invariant_failed("retryable outcome that is not an HTTP error", rp::llm::outcome_name(a.outcome));
    if (a.outcome == Outcome::insufficient_quota && a.retryable) invariant_failed("quota is retryable", a.message);
}

rp::llm::Headers parse_headers(std::string_view s) {
    rp::llm::Headers h;
    while (!s.empty()) {
        size_t nl = s.find('\n');
        std::string_view line = s.substr(0, nl);
        s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        h[std::string(line.substr(0, colon))] = std::string(value);
    }
    return h;
}

constexpr int64_t kNow = 1700000000000;

void run(uint8_t selector, std::string_view in) {
    rp::llm::AnswerLimits limits;
    limits.max_body_bytes = 1u << 20;
    limits.max_depth = 16;
    switch (selector) {
        case 0:
            check_answer(rp::llm::parse_chat_answer(200, in, {}, fuzz_schema(), limits, kNow), fuzz_schema());
            break;
        case 1: {
            // The content arrives as a JSON string; dump() escapes whatever bytes the fuzzer made
            // (invalid UTF-8 replaced, as a real server could not send it either).
            json body = {
                {"model", "gpt-4o"},
                {"choices",
                 json::array(
                     {{{"index", 0},
                       {"finish_reason", "stop"},
                       {"message", {{"role", "assistant"}, {"content", std::string(in)}, {"refusal", nullptr}}}}})},
                {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 2}, {"total_tokens", 3}}}};
            const std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
            check_answer(rp::llm::parse_chat_answer(200, text, {}, fuzz_schema(), limits, kNow), fuzz_schema());
            break;
        }
        case 2: {
            if (in.empty()) return;
            const long status = 400 + static_cast<uint8_t>(in[0]);
            in.remove_prefix(1);
            size_t split = in.find('\x01');
            rp::llm::Headers headers = parse_headers(split == std::string_view::npos ? "" : in.substr(split + 1));
            Answer a = rp::llm::parse_chat_answer(status, in.substr(0, split), headers, fuzz_schema(), limits, kNow);
            check_answer(a, fuzz_schema());
            if (a.retry_after_ms < -1) invariant_failed("negative retry delay", a.message);
            break;
        }
        case 3: {
            rp::llm::Headers headers = parse_headers(in);
            int64_t ms = rp::llm::retry_after_ms(headers, kNow);
            if (ms < -1 || ms > 365LL * 24 * 3600 * 1000) invariant_failed("retry delay out of range", in);
            for (const auto &[k, v] : headers) {
                (void)k;
                int64_t d = rp::llm::parse_go_duration_ms(v);
                if (d < -1 || d > 365LL * 24 * 3600 * 1000) invariant_failed("duration out of range", v);
            }
            break;
        }
        case 4: {
            std::string error;
            auto schema = Schema::load(in, &error);
            if (!schema) {
                check_text("schema error is not valid UTF-8", rp::sanitize_utf8(error));
                return;
            }
            if (!rp::llm::check_strict_schema(json::parse(schema->wire_text())).empty())
                invariant_failed("wire schema is not strict", schema->wire_text());
            for (const char *doc : {"{}", "null", R"({"a":[1,"x",null,{"b":true}]})", "[[[]]]", "\"s\"", "1.5"})
                (void)rp::llm::validate(json::parse(doc), *schema);
            auto request = rp::llm::build_chat_request("Ada Lovelace", "gpt-4o", *schema);
            if (!request.ok() || !json::accept(request.body)) invariant_failed("no request from a loaded schema", in);
            break;
        }
        default:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const uint8_t selector = data[0] % 5;
    std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);
    try {
        run(selector, in);
    } catch (const std::bad_alloc &) {
        // Expected under the fuzzer's memory limit.
    }
    return 0;
}
