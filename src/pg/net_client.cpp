// See net_client.h. One CURLM whose sockets and timer libcurl reports through
// CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION; the caller's loop waits on them and hands
// back what fired, so no thread and no blocking perform ever runs here. S3 transfers are
// s3_client's prepared requests, model calls and other HTTP requests http_request's
// (call jobs write theirs in JSON, read here); a finished one is read by s3_finish,
// parse_chat_answer or http_request_finish into an RpNetDone and queued. No Postgres header: only plain C data crosses
// the interface, and every C++ exception stops at it.
#include "net_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../core/llm_resume.h"
#include "../core/utf8_text.h"
#include "../net/http_request.h"
#include "../net/s3_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Transfer {
    void *tag = nullptr;
    Clock::time_point started;
    std::string secret;  // the key or secret of this call, scrubbed from every message
    // S3
    rp::S3TransferPtr s3;
    bool list = false;  // a LIST, whose result is the keys
    // Any HTTP request, the model's included
    rp::HttpRequestPtr http;
    bool read_usage = false;
    long timeout_ms = 0;
    uint64_t max_response_bytes = 0;
    // Model: set only for a model call, whose answer is read against it
    std::shared_ptr<const rp::llm::Schema> schema;
    std::string model;

    CURL *easy() {
        if (s3) return rp::s3_easy_handle(*s3);
        return rp::http_request_easy_handle(*http);
    }
};

struct CachedSchema {
    std::shared_ptr<const rp::llm::Schema> schema;
    struct timespec mtime {};
    off_t size = 0;
};

}  // namespace

struct RpNet {
    CURLM *multi = nullptr;
    std::map<curl_socket_t, int> sockets;  // fd → CURL_POLL_IN/OUT/INOUT (the interface's 1/2/3)
    bool timer_set = false;
    Clock::time_point deadline;
    std::map<CURL *, std::unique_ptr<Transfer>> transfers;
    // Finished, not yet taken. Its capacity always exceeds size + transfers in flight (reserved
    // when a transfer starts), so queueing a result never allocates and cannot fail.
    std::vector<RpNetDone> done;
    std::map<std::string, CachedSchema> schemas;  // per schema path
    bool callback_failed = false;                 // a socket callback ran out of memory

    ~RpNet() {
        for (auto &t : transfers) curl_multi_remove_handle(multi, t.first);
        transfers.clear();
        for (RpNetDone &d : done) rp_net_done_free(&d);
        if (multi) curl_multi_cleanup(multi);
    }
};

namespace {

// A message for RpNetDone / the caller: one line of valid UTF-8, cut on a character boundary,
// with the secret replaced.
void set_message(const std::string &text, const std::string &secret, char *buf, size_t size) {
    if (size == 0) return;
    buf[0] = '\0';
    try {
        std::string s = rp::sanitize_utf8(text);
        if (secret.size() >= 4)
            for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
                s.replace(at, secret.size(), "[redacted]");
        for (char &c : s)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
        size_t n = s.size() < size - 1 ? s.size() : size - 1;
        while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
        std::memcpy(buf, s.data(), n);
        buf[n] = '\0';
    } catch (...) {
        // Out of memory: a fixed text rather than one that might hold the secret.
        std::strncpy(buf, "(message lost: out of memory)", size - 1);
        buf[size - 1] = '\0';
    }
}

void set_word(const char *word, char *buf, size_t size) {
    std::strncpy(buf, word, size - 1);
    buf[size - 1] = '\0';
}

void init_done(RpNetDone &d, void *tag) {
    std::memset(&d, 0, sizeof d);
    d.tag = tag;
    d.prompt_tokens = d.completion_tokens = -1;
    d.retry_after_ms = -1;
    d.remaining_requests = d.remaining_tokens = -1;
    d.reset_requests_ms = d.reset_tokens_ms = -1;
}

char *malloc_copy(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

double elapsed_ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// ---- S3 -----------------------------------------------------------------------------------

const char *s3_outcome(const rp::S3Result &r) {
    if (r.invalid_request) return "refused";
    if (r.aborted) return "aborted";
    if (r.too_large) return "too_large";
    if (r.curl_code == CURLE_OPERATION_TIMEDOUT) return "timeout";
    if (r.curl_code != CURLE_OK) return "transport";
    if (r.ok()) return "ok";
    // A missing bucket is the configuration's fault, not the object's.
    if (r.not_found() && r.error_code != "NoSuchBucket") return "not_found";
    return "http";
}

void escape_key(const std::string &key, std::string &out) {
    for (char c : key) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

void s3_done(const rp::S3Result &r, const std::string &secret, bool list, RpNetDone &d) {
    set_word(s3_outcome(r), d.outcome, sizeof d.outcome);
    d.ok = std::strcmp(d.outcome, "ok") == 0;
    d.http_status = r.http_status;
    d.retryable = r.retryable();
    set_message(r.describe(), secret, d.message, sizeof d.message);
    set_message(r.error_code, secret, d.error_code, sizeof d.error_code);
    set_message(r.content_type, secret, d.content_type, sizeof d.content_type);
    if (!r.metadata.empty()) {
        nlohmann::json meta = nlohmann::json::object();
        for (const auto &m : r.metadata) meta[m.first] = m.second;
        d.metadata_json = malloc_copy(meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (!d.ok) return;
    if (list) {
        std::string lines;
        for (const rp::S3Object &o : r.objects) {
            escape_key(o.key, lines);
            lines += '\t' + std::to_string(o.size) + '\t' + o.last_modified + '\n';
        }
        d.data = malloc_copy(lines);
        d.len = lines.size();
        d.list_truncated = r.is_truncated;
        set_message(r.next_continuation_token, secret, d.next_token, sizeof d.next_token);
    } else if (!r.body.empty()) {
        d.data = malloc_copy(r.body);
        d.len = r.body.size();
    }
}

// ---- Model --------------------------------------------------------------------------------

void llm_done(Transfer &t, int code, RpNetDone &d) {
    rp::HttpResponse h = rp::http_request_finish(*t.http, code);
    set_message(t.schema->version(), "", d.schema_version, sizeof d.schema_version);
    set_message(t.model, "", d.model, sizeof d.model);
    if (h.too_large) {
        set_word("malformed_answer", d.outcome, sizeof d.outcome);
        set_message("the model's answer is larger than " + std::to_string(t.max_response_bytes) + " bytes", t.secret,
                    d.message, sizeof d.message);
        return;
    }
    if (h.status == 0) {
        set_word(h.timed_out ? "timeout" : "transport", d.outcome, sizeof d.outcome);
        d.retryable = true;
        set_message(h.timed_out ? "the model did not answer within " + std::to_string(t.timeout_ms) + " ms"
                                : "could not reach the model: " + h.error,
                    t.secret, d.message, sizeof d.message);
        return;
    }
    rp::llm::AnswerLimits limits;
    limits.max_body_bytes = t.max_response_bytes;
    rp::llm::Answer a = rp::llm::parse_chat_answer(h.status, h.body, h.headers, *t.schema, limits);
    set_word(rp::llm::outcome_name(a.outcome), d.outcome, sizeof d.outcome);
    d.ok = a.outcome == rp::llm::Outcome::ok;
    d.http_status = h.status;
    d.retryable = a.retryable;
    set_message(a.message, t.secret, d.message, sizeof d.message);
    if (!a.model.empty()) set_message(a.model, t.secret, d.model, sizeof d.model);
    d.prompt_tokens = a.prompt_tokens;
    d.completion_tokens = a.completion_tokens;
    d.retry_after_ms = a.retry_after_ms;
    d.remaining_requests = a.remaining_requests;
    d.remaining_tokens = a.remaining_tokens;
    d.reset_requests_ms = a.reset_requests_ms;
    d.reset_tokens_ms = a.reset_tokens_ms;
    if (d.ok) {
        d.data = malloc_copy(a.resume_json);
        d.len = a.resume_json.size();
    }
}

// ---- any HTTP request ------------------------------------------------------------------------

// A count header's value ("59"), or -1.
long long header_count(const rp::llm::Headers &headers, const char *name) {
    auto it = headers.find(name);
    if (it == headers.end()) return -1;
    const char *s = it->second.c_str();
    char *end = nullptr;
    errno = 0;
    long long n = std::strtoll(s, &end, 10);
    return end != s && *end == '\0' && errno == 0 && n >= 0 ? n : -1;
}

long long header_duration(const rp::llm::Headers &headers, const char *name) {
    auto it = headers.find(name);
    return it == headers.end() ? -1 : rp::llm::parse_go_duration_ms(it->second);
}

// The answer's model and tokens, when its body is a JSON object with them (a chat completion,
// an embedding list).
void read_usage(const std::string &body, const std::string &secret, RpNetDone &d) {
    if (body.size() > (8u << 20)) return;  // no chat answer is that large: not worth parsing
    std::string ignored;
    auto doc = rp::llm::parse_untrusted_json(body, 64, &ignored);
    if (!doc || !doc->is_object()) return;
    auto model = doc->find("model");
    if (model != doc->end() && model->is_string())
        set_message(model->get<std::string>(), secret, d.model, sizeof d.model);
    auto usage = doc->find("usage");
    if (usage == doc->end() || !usage->is_object()) return;
    auto count = [&](const char *name) -> long long {
        auto v = usage->find(name);
        if (v == usage->end() || !v->is_number_unsigned() || v->get<uint64_t>() > (uint64_t{1} << 40)) return -1;
        return static_cast<long long>(v->get<uint64_t>());
    };
    d.prompt_tokens = count("prompt_tokens");
    d.completion_tokens = count("completion_tokens");
}

void http_done(Transfer &t, int code, RpNetDone &d) {
    rp::HttpResponse r = rp::http_request_finish(*t.http, code);
    const char *outcome = r.status > 0  ? "ok"
                          : r.too_large ? "too_large"
                          : r.aborted   ? "aborted"
                          : r.timed_out ? "timeout"
                                        : "transport";
    set_word(outcome, d.outcome, sizeof d.outcome);
    d.ok = r.status > 0;
    d.http_status = r.status;
    if (!d.ok) {
        d.retryable = !r.too_large && !r.aborted;
        set_message(r.timed_out ? "no answer within " + std::to_string(t.timeout_ms) + " ms" : r.error, t.secret,
                    d.message, sizeof d.message);
        return;
    }
    d.retryable = r.status == 408 || r.status == 409 || r.status == 429 || r.status >= 500;
    set_message("HTTP " + std::to_string(r.status) + (r.headers_truncated ? " (some headers dropped)" : ""), t.secret,
                d.message, sizeof d.message);
    nlohmann::json headers = nlohmann::json::object();
    for (const auto &h : r.headers) headers[h.first] = h.second;
    // ASCII only (\u escapes): no database encoding can refuse it.
    d.headers_json = malloc_copy(headers.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    auto ct = r.headers.find("content-type");
    if (ct != r.headers.end()) set_message(ct->second, t.secret, d.content_type, sizeof d.content_type);
    d.retry_after_ms = rp::llm::retry_after_ms(r.headers, 0);
    d.remaining_requests = header_count(r.headers, "x-ratelimit-remaining-requests");
    d.remaining_tokens = header_count(r.headers, "x-ratelimit-remaining-tokens");
    d.reset_requests_ms = header_duration(r.headers, "x-ratelimit-reset-requests");
    d.reset_tokens_ms = header_duration(r.headers, "x-ratelimit-reset-tokens");
    if (t.read_usage && r.status >= 200 && r.status <= 299) read_usage(r.body, t.secret, d);
    if (!r.body.empty()) {
        d.data = static_cast<char *>(std::malloc(r.body.size()));
        if (!d.data) throw std::bad_alloc();
        std::memcpy(d.data, r.body.data(), r.body.size());
        d.len = r.body.size();
    }
}

// ---- the multi handle -----------------------------------------------------------------------

int on_socket(CURL *, curl_socket_t fd, int what, void *arg, void *) {
    auto *net = static_cast<RpNet *>(arg);
    try {
        if (what == CURL_POLL_REMOVE)
            net->sockets.erase(fd);
        else
            net->sockets[fd] = what;
    } catch (...) {
        net->callback_failed = true;
        return -1;
    }
    return 0;
}

int on_timer(CURLM *, long timeout_ms, void *arg) {
    auto *net = static_cast<RpNet *>(arg);
    net->timer_set = timeout_ms >= 0;
    if (net->timer_set) net->deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
}

// Queues a result; never allocates (see RpNet::done).
void queue(RpNet *net, RpNetDone &d) {
    if (net->done.size() < net->done.capacity())
        net->done.push_back(d);
    else
        rp_net_done_free(&d);  // unreachable while the reservation holds
}

void finish(RpNet *net, std::unique_ptr<Transfer> t, int code) {
    RpNetDone d;
    init_done(d, t->tag);
    try {
        if (t->s3)
            s3_done(rp::s3_finish(*t->s3, code), t->secret, t->list, d);
        else if (t->schema)
            llm_done(*t, code, d);
        else
            http_done(*t, code, d);
    } catch (...) {
        rp_net_done_free(&d);
        init_done(d, t->tag);
        set_word(t->schema ? "setup" : "aborted", d.outcome, sizeof d.outcome);
        set_word("out of memory while reading the answer", d.message, sizeof d.message);
    }
    d.milliseconds = elapsed_ms(t->started);
    queue(net, d);
}

// Collects every finished transfer; the easy handles leave the multi handle.
void collect(RpNet *net) {
    CURLMsg *m;
    int left = 0;
    while ((m = curl_multi_info_read(net->multi, &left)) != nullptr) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        int code = m->data.result;
        curl_multi_remove_handle(net->multi, easy);  // m is invalid from here
        auto it = net->transfers.find(easy);
        if (it == net->transfers.end()) continue;
        std::unique_ptr<Transfer> t = std::move(it->second);
        net->transfers.erase(it);
        finish(net, std::move(t), code);
    }
}

// The multi handle failed as a whole: every transfer in flight ends with that reason.
void fail_all(RpNet *net, const char *why) {
    for (auto &entry : net->transfers) {
        curl_multi_remove_handle(net->multi, entry.first);
        RpNetDone d;
        init_done(d, entry.second->tag);
        set_word(entry.second->http ? "aborted" : "setup", d.outcome, sizeof d.outcome);
        set_word(why, d.message, sizeof d.message);
        d.milliseconds = elapsed_ms(entry.second->started);
        queue(net, d);
    }
    net->transfers.clear();
    net->sockets.clear();
    net->timer_set = false;
    net->callback_failed = false;
}

void act(RpNet *net, curl_socket_t fd, int mask) {
    try {
        int running = 0;
        CURLMcode rc = curl_multi_socket_action(net->multi, fd, mask, &running);
        collect(net);
        if (net->callback_failed)
            fail_all(net, "out of memory in the HTTP client");
        else if (rc != CURLM_OK)
            fail_all(net, curl_multi_strerror(rc));
    } catch (...) {
        fail_all(net, "the HTTP client failed");  // nothing above should throw; never let it out
    }
}

// Hands a prepared transfer to the multi handle. False (reason in message) when it could not.
bool add(RpNet *net, std::unique_ptr<Transfer> t, char *message, size_t message_size) {
    net->done.reserve(net->done.size() + net->transfers.size() + 2);
    CURL *easy = t->easy();
    auto slot = net->transfers.emplace(easy, nullptr);
    slot.first->second = std::move(t);
    CURLMcode rc = curl_multi_add_handle(net->multi, easy);
    if (rc != CURLM_OK) {
        net->transfers.erase(slot.first);
        set_message(std::string("cannot start the transfer: ") + curl_multi_strerror(rc), "", message, message_size);
        return false;
    }
    return true;
}

// A transfer refused before it was sent: reported at once, like any other result.
bool refuse(RpNet *net, void *tag, const char *outcome, const std::string &why, const std::string &secret) {
    net->done.reserve(net->done.size() + net->transfers.size() + 2);
    RpNetDone d;
    init_done(d, tag);
    set_word(outcome, d.outcome, sizeof d.outcome);
    set_message(why, secret, d.message, sizeof d.message);
    queue(net, d);
    return true;
}

// The schema at path, read once and again only when the file changes (an upgrade installs a
// new one while backends live on).
std::shared_ptr<const rp::llm::Schema> schema_at(RpNet *net, const std::string &path, std::string *error) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        net->schemas.erase(path);
        *error = "cannot load the résumé schema " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    auto it = net->schemas.find(path);
    if (it != net->schemas.end() && it->second.size == st.st_size && it->second.mtime.tv_sec == st.st_mtim.tv_sec &&
        it->second.mtime.tv_nsec == st.st_mtim.tv_nsec)
        return it->second.schema;
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    std::string why;
    std::optional<rp::llm::Schema> schema;
    if (!file)
        why = "cannot read it";
    else
        schema = rp::llm::Schema::load(text.str(), &why);
    if (!schema) {
        net->schemas.erase(path);
        *error = "cannot load the résumé schema " + path + ": " + why;
        return nullptr;
    }
    CachedSchema cached;
    cached.schema = std::make_shared<const rp::llm::Schema>(std::move(*schema));
    cached.mtime = st.st_mtim;
    cached.size = st.st_size;
    net->schemas[path] = cached;
    return cached.schema;
}

std::string str(const char *s) {
    return s ? s : "";
}

long connect_timeout(long timeout_ms) {
    return timeout_ms > 0 && timeout_ms < 10000 ? timeout_ms : 10000;
}

bool start_s3(RpNet *net, const RpS3Target *target, const RpS3Call *call, void *tag, char *message,
              size_t message_size) {
    rp::S3Config config;
    config.endpoint = str(target->endpoint);
    if (target->region && target->region[0]) config.region = target->region;
    config.access_key = str(target->access_key);
    config.secret_key = str(target->secret_key);
    config.timeout_ms = target->timeout_ms;
    config.connect_timeout_ms = connect_timeout(target->timeout_ms);
    config.max_response_bytes = target->max_response_bytes;

    rp::S3Request req;
    switch (call->op) {
        case RP_S3_GET:
            req.method = rp::S3Method::Get;
            break;
        case RP_S3_PUT:
            req.method = rp::S3Method::Put;
            break;
        case RP_S3_HEAD:
            req.method = rp::S3Method::Head;
            break;
        case RP_S3_DELETE:
            req.method = rp::S3Method::Delete;
            break;
        case RP_S3_LIST:
            req.method = rp::S3Method::List;
            break;
        default:
            set_message("unknown S3 operation", "", message, message_size);
            return false;
    }
    req.bucket = str(call->bucket);
    if (req.method == rp::S3Method::List) {
        req.prefix = str(call->key);
        req.continuation_token = str(call->continuation_token);
    } else {
        req.key = str(call->key);
    }
    if (req.method == rp::S3Method::Put) {
        if (call->body && call->body_len > 0) req.body.assign(call->body, call->body_len);
        if (call->content_type && call->content_type[0]) req.content_type = call->content_type;
        for (int i = 0; i < call->n_metadata; i++)
            req.metadata[str(call->metadata_names[i])] = str(call->metadata_values[i]);
    }

    rp::S3Result refusal;
    rp::S3TransferPtr s3 = rp::s3_prepare(config, std::move(req), &refusal);
    if (!s3) return refuse(net, tag, "refused", refusal.describe(), config.secret_key);
    auto t = std::make_unique<Transfer>();
    t->tag = tag;
    t->started = Clock::now();
    t->secret = config.secret_key;
    t->s3 = std::move(s3);
    t->list = call->op == RP_S3_LIST;
    return add(net, std::move(t), message, message_size);
}

bool start_llm(RpNet *net, const RpLlmTarget *target, const char *text, size_t text_len, void *tag, char *message,
               size_t message_size) {
    std::string key = str(target->api_key);
    std::string error;
    std::shared_ptr<const rp::llm::Schema> schema = schema_at(net, str(target->schema_path), &error);
    if (!schema) return refuse(net, tag, "setup", error, key);
    std::string model = str(target->model);
    rp::llm::Request request = rp::llm::build_chat_request(std::string_view(text, text_len), model, *schema);
    if (!request.ok()) return refuse(net, tag, "setup", request.error, key);

    std::string base = str(target->base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    rp::HttpRequestConfig config;
    config.method = rp::HttpMethod::Post;
    config.url = base + "/chat/completions";
    config.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!key.empty()) config.authorization = "Bearer " + key;
    config.has_body = true;
    config.body = std::move(request.body);
    config.user_agent = "resume_pipeline";  // what model providers have always seen from us
    config.timeout_ms = target->timeout_ms;
    config.connect_timeout_ms = connect_timeout(target->timeout_ms);
    config.max_response_bytes = target->max_response_bytes;
    rp::HttpResponse refusal;
    rp::HttpRequestPtr http = rp::http_request_prepare(std::move(config), &refusal);
    // The headers are fixed: a refusal is about the URL or a key with CR, LF or NUL in it.
    if (!http) {
        bool key_problem = refusal.error.find("authorization") != std::string::npos;
        return refuse(net, tag, "setup",
                      (key_problem ? "the model's API key: " : "the model's base URL: ") + refusal.error, key);
    }

    auto t = std::make_unique<Transfer>();
    t->tag = tag;
    t->started = Clock::now();
    t->secret = key;
    t->http = std::move(http);
    t->schema = std::move(schema);
    t->model = model;
    t->timeout_ms = target->timeout_ms;
    t->max_response_bytes = target->max_response_bytes;
    return add(net, std::move(t), message, message_size);
}

// ---- any HTTP request -------------------------------------------------------------------------

// The key inside an Authorization value ("Bearer KEY" → KEY): what messages must never show.
std::string secret_of(const std::string &authorization) {
    size_t space = authorization.rfind(' ');
    return space == std::string::npos ? authorization : authorization.substr(space + 1);
}

bool launch_http(RpNet *net, const rp::HttpRequestConfig &config, bool read_usage, void *tag, char *message,
                 size_t message_size) {
    std::string secret = secret_of(config.authorization);
    rp::HttpResponse refusal;
    rp::HttpRequestPtr http = rp::http_request_prepare(config, &refusal);
    if (!http) return refuse(net, tag, "refused", refusal.error, secret);
    auto t = std::make_unique<Transfer>();
    t->tag = tag;
    t->started = Clock::now();
    t->secret = secret;
    t->http = std::move(http);
    t->read_usage = read_usage;
    t->timeout_ms = config.timeout_ms;
    t->max_response_bytes = config.max_response_bytes;
    return add(net, std::move(t), message, message_size);
}

bool start_http(RpNet *net, const RpHttpCall *call, void *tag, char *message, size_t message_size) {
    static const rp::HttpMethod kMethods[] = {rp::HttpMethod::Get, rp::HttpMethod::Post, rp::HttpMethod::Put,
                                              rp::HttpMethod::Patch, rp::HttpMethod::Delete};
    if (call->method < RP_HTTP_GET || call->method > RP_HTTP_DELETE) {
        set_message("unknown HTTP method", "", message, message_size);
        return false;
    }
    rp::HttpRequestConfig config;
    config.method = kMethods[call->method];
    config.url = str(call->url);
    for (int i = 0; i < call->n_headers; i++)
        config.headers.emplace_back(str(call->header_names[i]), str(call->header_values[i]));
    config.authorization = str(call->authorization);
    config.has_body = call->body != nullptr;
    if (call->body) config.body.assign(call->body, call->body_len);
    config.timeout_ms = call->timeout_ms;
    config.connect_timeout_ms = connect_timeout(call->timeout_ms);
    config.max_response_bytes = call->max_response_bytes;
    return launch_http(net, config, call->read_usage, tag, message, message_size);
}

constexpr long kMaxRequestTimeoutMs = 3600000;
constexpr uint64_t kMaxRequestResponseBytes = 256u << 20;

bool same_name(const std::string &a, const char *b) {
    if (a.size() != std::strlen(b)) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool has_header(const rp::HttpRequestConfig &config, const char *name) {
    for (const auto &h : config.headers)
        if (same_name(h.first, name)) return true;
    return false;
}

// The URL is the service's base URL or below it (a key goes nowhere else).
bool under_base(const std::string &url, std::string base) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.empty() || url.compare(0, base.size(), base) != 0) return false;
    return url.size() == base.size() || std::strchr("/?#", url[base.size()]) != nullptr;
}

// A positive whole number no larger than max, or nullopt.
std::optional<long long> whole_number(const nlohmann::json &v, long long max) {
    long long n = -1;
    if (v.is_number_unsigned())
        n = v.get<uint64_t>() > static_cast<uint64_t>(max) ? -1 : static_cast<long long>(v.get<uint64_t>());
    else if (v.is_number_integer())
        n = v.get<long long>();
    else if (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>()) &&
             v.get<double>() >= 1 && v.get<double>() <= static_cast<double>(max))
        n = static_cast<long long>(v.get<double>());
    if (n < 1 || n > max) return std::nullopt;
    return n;
}

// A request in JSON into a transfer's settings: "" when it can go, else why not.
std::string read_request(const nlohmann::json &req, const RpRequestDefaults &defaults, rp::HttpRequestConfig &config,
                         bool &model_answer) {
    using nlohmann::json;
    if (!req.is_object()) return "the request is not a JSON object";
    auto field = [&](const char *name) -> const json * {
        auto it = req.find(name);
        return it == req.end() || it->is_null() ? nullptr : &*it;
    };
    if (const json *m = field("method")) {
        static const std::pair<const char *, rp::HttpMethod> kMethods[] = {{"GET", rp::HttpMethod::Get},
                                                                           {"POST", rp::HttpMethod::Post},
                                                                           {"PUT", rp::HttpMethod::Put},
                                                                           {"PATCH", rp::HttpMethod::Patch},
                                                                           {"DELETE", rp::HttpMethod::Delete}};
        bool known = false;
        if (m->is_string())
            for (const auto &[name, method] : kMethods)
                if (same_name(m->get<std::string>(), name)) {
                    config.method = method;
                    known = true;
                }
        if (!known) return "\"method\" must be GET, POST, PUT, PATCH or DELETE";
    }
    const json *url = field("url");
    if (!url || !url->is_string()) return "\"url\" must be a string";
    config.url = url->get<std::string>();
    if (const json *headers = field("headers")) {
        if (!headers->is_object()) return "\"headers\" must be an object of strings";
        for (const auto &[name, value] : headers->items()) {
            if (value.is_null()) continue;
            if (!value.is_string()) return "header \"" + name.substr(0, 64) + "\" must be a string";
            config.headers.emplace_back(name, value.get<std::string>());
        }
    }
    if (const json *body = field("body")) {
        config.has_body = true;
        config.body =
            body->is_string() ? body->get<std::string>() : body->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (const json *dependency = field("dependency")) {
        if (!dependency->is_string()) return "\"dependency\" must be a string";
        model_answer = dependency->get<std::string>() == "model";
    }
    config.timeout_ms = defaults.timeout_ms;
    if (const json *t = field("timeout_ms")) {
        auto ms = whole_number(*t, kMaxRequestTimeoutMs);
        if (!ms) return "\"timeout_ms\" must be a whole number from 1 to " + std::to_string(kMaxRequestTimeoutMs);
        config.timeout_ms = static_cast<long>(*ms);
    }
    config.connect_timeout_ms = connect_timeout(config.timeout_ms);
    config.max_response_bytes = defaults.max_response_bytes;
    if (const json *m = field("max_bytes")) {
        auto bytes = whole_number(*m, static_cast<long long>(kMaxRequestResponseBytes));
        if (!bytes) return "\"max_bytes\" must be a whole number from 1 to " + std::to_string(kMaxRequestResponseBytes);
        config.max_response_bytes = static_cast<uint64_t>(*bytes);
    }
    if (const json *auth = field("auth")) {
        struct Service {
            const char *name;
            const RpHttpService *service;
            const char *setting;
        };
        const Service services[] = {{"openai", &defaults.openai, "resume_pipeline.openai_base_url"},
                                    {"github", &defaults.github, "resume_pipeline.github_base_url"},
                                    {"linkedin", &defaults.linkedin, "resume_pipeline.linkedin_provider_url"}};
        const Service *chosen = nullptr;
        for (const Service &s : services)
            if (auth->is_string() && auth->get<std::string>() == s.name) chosen = &s;
        if (!chosen) return "\"auth\" must be null, \"openai\", \"github\" or \"linkedin\"";
        std::string base = str(chosen->service->base_url);
        if (base.empty()) return std::string(chosen->setting) + " is not set";
        if (!under_base(config.url, base))
            return std::string("the key of \"auth\": \"") + chosen->name + "\" is sent only to URLs under " +
                   chosen->setting;
        std::string key = str(chosen->service->key);
        if (!key.empty()) {
            if (has_header(config, "authorization")) return "\"auth\" and an Authorization header together";
            config.authorization = "Bearer " + key;
        }
        if (std::strcmp(chosen->name, "github") == 0) {
            // GitHub refuses a request without a User-Agent; the version pins the API's shape.
            if (!has_header(config, "user-agent")) config.headers.emplace_back("User-Agent", "resume_pipeline/0.1");
            if (!has_header(config, "accept")) config.headers.emplace_back("Accept", "application/vnd.github+json");
            if (!has_header(config, "x-github-api-version"))
                config.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
        }
    }
    return "";
}

bool start_request(RpNet *net, const char *text, size_t len, const RpRequestDefaults *defaults, void *tag,
                   char *message, size_t message_size) {
    std::string why;
    auto req = rp::llm::parse_untrusted_json(std::string_view(text, len), 128, &why);
    if (!req) return refuse(net, tag, "refused", "the request is not JSON: " + why, "");
    rp::HttpRequestConfig config;
    bool model_answer = false;
    why = read_request(*req, *defaults, config, model_answer);
    if (!why.empty()) return refuse(net, tag, "refused", why, "");
    return launch_http(net, config, model_answer, tag, message, message_size);
}

// ---- chat completions for SQL ------------------------------------------------------------------

std::optional<rp::llm::Schema> load_schema(const char *text, size_t len, bool *invalid, char *message,
                                           size_t message_size) {
    std::string why;
    std::optional<rp::llm::Schema> schema = rp::llm::Schema::load(std::string_view(text, len), &why);
    if (!schema) {
        *invalid = true;
        set_message("the schema cannot be used: " + why, "", message, message_size);
    }
    return schema;
}

bool chat_request(const char *schema_json, size_t schema_len, const char *schema_name, const char *model,
                  const char *system_prompt, size_t system_len, const char *user_text, size_t user_len,
                  long long max_completion_tokens, char **body_json, bool *invalid, char *message,
                  size_t message_size) {
    std::optional<rp::llm::Schema> schema = load_schema(schema_json, schema_len, invalid, message, message_size);
    if (!schema) return false;
    rp::llm::RequestOptions options;
    options.schema_name = str(schema_name);
    options.system_prompt = system_prompt ? std::string(system_prompt, system_len) : std::string();
    options.max_completion_tokens = max_completion_tokens;
    rp::llm::Request r =
        rp::llm::build_chat_request(std::string_view(user_text, user_len), str(model), *schema, options);
    if (!r.ok()) {
        *invalid = true;
        set_message(r.error, "", message, message_size);
        return false;
    }
    *body_json = malloc_copy(r.body);
    return true;
}

bool chat_answer(const char *schema_json, size_t schema_len, const char *response_json, size_t response_len,
                 const char *body, size_t body_len, uint64_t max_body_bytes, RpChatAnswer *answer, bool *invalid,
                 char *message, size_t message_size) {
    using nlohmann::json;
    std::optional<rp::llm::Schema> schema = load_schema(schema_json, schema_len, invalid, message, message_size);
    if (!schema) return false;
    std::string why;
    auto response = rp::llm::parse_untrusted_json(std::string_view(response_json, response_len), 64, &why);
    if (!response || !response->is_object()) {
        *invalid = true;
        set_message("the response is not a JSON object", "", message, message_size);
        return false;
    }
    auto text = [&](const json &obj, const char *name) {
        auto it = obj.find(name);
        return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string outcome = text(*response, "outcome");
    if (outcome != "ok") {
        // No HTTP answer: the transfer's own outcome, retryable when the network failed.
        set_word(outcome.empty() ? "transport" : outcome.c_str(), answer->outcome, sizeof answer->outcome);
        set_message(text(*response, "message"), "", answer->message, sizeof answer->message);
        answer->retryable = outcome == "transport" || outcome == "timeout";
        return true;
    }
    long status = 0;
    if (auto it = response->find("status"); it != response->end() && it->is_number_integer())
        status = static_cast<long>(it->get<long long>());
    rp::llm::Headers headers;
    if (auto it = response->find("headers"); it != response->end() && it->is_object())
        for (const auto &[name, value] : it->items())
            if (value.is_string()) headers[name] = value.get<std::string>();
    rp::llm::AnswerLimits limits;
    if (max_body_bytes > 0) limits.max_body_bytes = max_body_bytes;
    rp::llm::Answer a =
        rp::llm::parse_chat_answer(status, std::string_view(body ? body : "", body_len), headers, *schema, limits);
    set_word(rp::llm::outcome_name(a.outcome), answer->outcome, sizeof answer->outcome);
    set_message(a.message, "", answer->message, sizeof answer->message);
    answer->retryable = a.retryable;
    answer->retry_after_ms = a.retry_after_ms;
    set_message(a.model, "", answer->model, sizeof answer->model);
    answer->prompt_tokens = a.prompt_tokens;
    answer->completion_tokens = a.completion_tokens;
    if (a.outcome == rp::llm::Outcome::ok) answer->content_json = malloc_copy(a.resume_json);
    return true;
}

// Runs f, turning any exception into false with a message that holds no secret.
template <typename F>
bool guarded(const char *what, char *message, size_t message_size, F f) {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        set_message(std::string("out of memory ") + what, "", message, message_size);
    } catch (...) {
        set_message(std::string("the HTTP client failed ") + what, "", message, message_size);
    }
    return false;
}

}  // namespace

extern "C" {

RpNet *rp_net_create(char *message, size_t message_size) {
    RpNet *net = nullptr;
    bool ok = guarded("creating the HTTP client", message, message_size, [&] {
        if (!rp::s3_global_init()) {
            set_message("libcurl could not be initialised", "", message, message_size);
            return false;
        }
        auto created = std::make_unique<RpNet>();
        created->multi = curl_multi_init();
        if (!created->multi) {
            set_message("libcurl could not create a multi handle", "", message, message_size);
            return false;
        }
        curl_multi_setopt(created->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(created->multi, CURLMOPT_SOCKETDATA, created.get());
        curl_multi_setopt(created->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(created->multi, CURLMOPT_TIMERDATA, created.get());
        net = created.release();
        return true;
    });
    return ok ? net : nullptr;
}

void rp_net_destroy(RpNet *net) {
    delete net;  // nothing in ~RpNet throws
}

bool rp_net_start_s3(RpNet *net, const RpS3Target *target, const RpS3Call *call, void *tag, char *message,
                     size_t message_size) {
    if (message_size > 0) message[0] = '\0';
    return guarded("starting an S3 request", message, message_size,
                   [&] { return start_s3(net, target, call, tag, message, message_size); });
}

bool rp_net_start_llm(RpNet *net, const RpLlmTarget *target, const char *text, size_t text_len, void *tag,
                      char *message, size_t message_size) {
    if (message_size > 0) message[0] = '\0';
    return guarded("starting a model call", message, message_size,
                   [&] { return start_llm(net, target, text, text_len, tag, message, message_size); });
}

bool rp_net_start_http(RpNet *net, const RpHttpCall *call, void *tag, char *message, size_t message_size) {
    if (message_size > 0) message[0] = '\0';
    return guarded("starting an HTTP request", message, message_size,
                   [&] { return start_http(net, call, tag, message, message_size); });
}

bool rp_net_start_request(RpNet *net, const char *request_json, size_t request_len, const RpRequestDefaults *defaults,
                          void *tag, char *message, size_t message_size) {
    if (message_size > 0) message[0] = '\0';
    return guarded("starting an HTTP request", message, message_size,
                   [&] { return start_request(net, request_json, request_len, defaults, tag, message, message_size); });
}

bool rp_chat_request_build(const char *schema_json, size_t schema_len, const char *schema_name, const char *model,
                           const char *system_prompt, size_t system_len, const char *user_text, size_t user_len,
                           long long max_completion_tokens, char **body_json, bool *bad_schema, char *message,
                           size_t message_size) {
    *body_json = nullptr;
    *bad_schema = false;
    if (message_size > 0) message[0] = '\0';
    return guarded("building a model request", message, message_size, [&] {
        return chat_request(schema_json, schema_len, schema_name, model, system_prompt, system_len, user_text, user_len,
                            max_completion_tokens, body_json, bad_schema, message, message_size);
    });
}

bool rp_chat_answer_read(const char *schema_json, size_t schema_len, const char *response_json, size_t response_len,
                         const char *body, size_t body_len, uint64_t max_body_bytes, RpChatAnswer *answer,
                         bool *bad_schema, char *message, size_t message_size) {
    std::memset(answer, 0, sizeof *answer);
    answer->retry_after_ms = answer->prompt_tokens = answer->completion_tokens = -1;
    *bad_schema = false;
    if (message_size > 0) message[0] = '\0';
    bool ok = guarded("reading a model answer", message, message_size, [&] {
        return chat_answer(schema_json, schema_len, response_json, response_len, body, body_len, max_body_bytes, answer,
                           bad_schema, message, message_size);
    });
    if (!ok) {
        std::free(answer->content_json);
        answer->content_json = nullptr;
    }
    return ok;
}

void rp_net_cancel(RpNet *net, void *tag) {
    for (auto it = net->transfers.begin(); it != net->transfers.end();) {
        if (it->second->tag == tag) {
            curl_multi_remove_handle(net->multi, it->first);
            it = net->transfers.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = net->done.begin(); it != net->done.end();) {
        if (it->tag == tag) {
            rp_net_done_free(&*it);
            it = net->done.erase(it);
        } else {
            ++it;
        }
    }
    if (net->callback_failed) fail_all(net, "out of memory in the HTTP client");
}

int rp_net_in_flight(RpNet *net) {
    return static_cast<int>(net->transfers.size());
}

int rp_net_done_waiting(RpNet *net) {
    return static_cast<int>(net->done.size());
}

int rp_net_sockets(RpNet *net, RpNetSocket *out, int max) {
    int n = 0;
    for (const auto &s : net->sockets) {
        if (n < max) out[n] = RpNetSocket{static_cast<int>(s.first), s.second};
        n++;
    }
    return n;
}

long rp_net_timeout_ms(RpNet *net) {
    if (!net->timer_set) return -1;
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(net->deadline - Clock::now()).count();
    if (left <= 0) return 0;
    return static_cast<long>((left + 999) / 1000);  // rounded up: never report a timer due early
}

void rp_net_socket_ready(RpNet *net, int fd, bool readable, bool writable) {
    int mask = (readable ? CURL_CSELECT_IN : 0) | (writable ? CURL_CSELECT_OUT : 0);
    act(net, fd, mask ? mask : CURL_CSELECT_ERR);
}

void rp_net_timer_expired(RpNet *net) {
    // One-shot: libcurl sets a new timer while it acts if it needs one. It does not when its own
    // earliest expiry did not change (a timer fired a little before libcurl thought it due), so
    // ask it then rather than lose the timer.
    net->timer_set = false;
    act(net, CURL_SOCKET_TIMEOUT, 0);
    if (!net->timer_set && !net->transfers.empty()) {
        long ms = -1;
        if (curl_multi_timeout(net->multi, &ms) == CURLM_OK && ms >= 0) on_timer(net->multi, ms, net);
    }
}

bool rp_net_next_done(RpNet *net, RpNetDone *out) {
    if (net->done.empty()) return false;
    *out = net->done.front();
    net->done.erase(net->done.begin());
    return true;
}

bool rp_net_take_done(RpNet *net, void *tag, RpNetDone *out) {
    for (auto it = net->done.begin(); it != net->done.end(); ++it) {
        if (it->tag == tag) {
            *out = *it;
            net->done.erase(it);
            return true;
        }
    }
    return false;
}

void rp_net_done_free(RpNetDone *done) {
    std::free(done->data);
    std::free(done->metadata_json);
    std::free(done->headers_json);
    done->data = nullptr;
    done->metadata_json = nullptr;
    done->headers_json = nullptr;
    done->len = 0;
}

bool rp_net_schema_version(RpNet *net, const char *path, char *version, size_t version_size, char *message,
                           size_t message_size) {
    if (version_size > 0) version[0] = '\0';
    if (message_size > 0) message[0] = '\0';
    return guarded("loading the résumé schema", message, message_size, [&] {
        std::string error;
        std::shared_ptr<const rp::llm::Schema> schema = schema_at(net, str(path), &error);
        if (!schema) {
            set_message(error, "", message, message_size);
            return false;
        }
        set_message(schema->version(), "", version, version_size);
        return true;
    });
}

}  // extern "C"
