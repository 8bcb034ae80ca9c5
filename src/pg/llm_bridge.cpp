// See llm_bridge.h. No Postgres header here: only plain C types cross this line.
#include "llm_bridge.h"
#include "bridge_copy.h"

#include <curl/curl.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "../core/llm_resume.h"
#include "../net/http_post.h"

namespace {

using rp::copy_out;

bool curl_ready() {
    static bool done = false, ok = false;  // the backend's main thread only
    if (!done) {
        ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        done = true;
    }
    return ok;
}

bool call_abort(void *arg) {
    auto *call = static_cast<RpLlmCall *>(arg);
    return call->should_abort && call->should_abort(nullptr);
}

std::optional<rp::llm::Schema> load_schema(const char *path, std::string *error) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    if (!file) {
        *error = "cannot read it";
        return std::nullopt;
    }
    return rp::llm::Schema::load(text.str(), error);
}

void run(RpLlmCall *call) {
    std::string error;
    auto schema = load_schema(call->schema_path, &error);
    if (!schema) {
        copy_out("cannot load the résumé schema " + std::string(call->schema_path) + ": " + error, call->message,
                 sizeof call->message);
        copy_out("setup", call->outcome, sizeof call->outcome);
        return;
    }
    copy_out(schema->version(), call->schema_version, sizeof call->schema_version);
    rp::llm::Request request =
        rp::llm::build_chat_request(std::string_view(call->text, call->text_len), call->model, *schema);
    if (!request.ok()) {
        copy_out(request.error, call->message, sizeof call->message);
        copy_out("setup", call->outcome, sizeof call->outcome);
        return;
    }
    if (!curl_ready()) {
        copy_out("libcurl could not be initialised", call->message, sizeof call->message);
        copy_out("setup", call->outcome, sizeof call->outcome);
        return;
    }
    rp::HttpPostConfig config;
    config.url = call->url;
    config.bearer = call->api_key;
    config.timeout_ms = call->timeout_ms;
    config.should_abort = call_abort;
    config.abort_arg = call;
    rp::HttpPostResult http = rp::http_post_json(config, request.body);
    if (http.aborted) {
        copy_out("aborted", call->outcome, sizeof call->outcome);
        copy_out("the model call was interrupted", call->message, sizeof call->message);
        return;
    }
    if (http.status == 0) {
        copy_out(http.timed_out ? "timeout" : "transport", call->outcome, sizeof call->outcome);
        copy_out(http.timed_out ? "the model did not answer within resume_pipeline.request_timeout_ms"
                                : "could not reach the model: " + http.error,
                 call->message, sizeof call->message);
        return;
    }
    rp::llm::Answer answer = rp::llm::parse_chat_answer(http.status, http.body, http.headers, *schema);
    copy_out(rp::llm::outcome_name(answer.outcome), call->outcome, sizeof call->outcome);
    copy_out(answer.message, call->message, sizeof call->message);
    call->http_status = answer.http_status;
    call->retry_after_ms = answer.retry_after_ms;
    call->prompt_tokens = answer.prompt_tokens;
    call->completion_tokens = answer.completion_tokens;
    copy_out(answer.model, call->model_answered, sizeof call->model_answered);
    if (answer.outcome == rp::llm::Outcome::ok) {
        call->json = static_cast<char *>(std::malloc(answer.resume_json.size() + 1));
        if (!call->json) throw std::bad_alloc();
        std::memcpy(call->json, answer.resume_json.c_str(), answer.resume_json.size() + 1);
    }
}

}  // namespace

extern "C" void rp_llm_schema_version(const char *schema_path, char *version, size_t version_size, char *message,
                                      size_t message_size) {
    version[0] = message[0] = '\0';
    try {
        std::string error;
        auto schema = load_schema(schema_path, &error);
        if (schema)
            copy_out(schema->version(), version, version_size);
        else
            copy_out("cannot load the résumé schema " + std::string(schema_path) + ": " + error, message, message_size);
    } catch (...) {
        copy_out("cannot load the résumé schema", message, message_size);
    }
}

extern "C" void rp_llm_parse_resume_call(RpLlmCall *call) {
    call->json = nullptr;
    call->outcome[0] = call->message[0] = call->model_answered[0] = call->schema_version[0] = '\0';
    call->http_status = 0;
    call->retry_after_ms = call->prompt_tokens = call->completion_tokens = -1;
    try {
        run(call);
    } catch (const std::bad_alloc &) {
        copy_out("setup", call->outcome, sizeof call->outcome);
        copy_out("out of memory while calling the model", call->message, sizeof call->message);
    } catch (const std::exception &e) {
        copy_out("setup", call->outcome, sizeof call->outcome);
        copy_out(std::string("model client failed: ") + e.what(), call->message, sizeof call->message);
    } catch (...) {
        copy_out("setup", call->outcome, sizeof call->outcome);
        copy_out("model client failed", call->message, sizeof call->message);
    }
    if (call->json && std::strcmp(call->outcome, "ok") != 0) {
        std::free(call->json);
        call->json = nullptr;
    }
}
