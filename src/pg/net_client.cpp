// See net_client.h. One CURLM whose sockets and timer libcurl reports through
// CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION; the caller's loop waits on them and hands
// back what fired, so no thread and no blocking perform ever runs here. S3 transfers are
// s3_client's prepared requests, model calls http_post's; a finished one is read by s3_finish or
// parse_chat_answer into an RpNetDone and queued. No Postgres header: only plain C data crosses
// the interface, and every C++ exception stops at it.
#include "net_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
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
#include "../net/http_post.h"
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
    // Model
    rp::HttpPostPtr post;
    std::shared_ptr<const rp::llm::Schema> schema;
    std::string model;
    long timeout_ms = 0;
    uint64_t max_response_bytes = 0;

    CURL *easy() { return s3 ? rp::s3_easy_handle(*s3) : rp::http_post_easy_handle(*post); }
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
    rp::HttpPostResult h = rp::http_post_finish(*t.post, code);
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
        else
            llm_done(*t, code, d);
    } catch (...) {
        rp_net_done_free(&d);
        init_done(d, t->tag);
        set_word("setup", d.outcome, sizeof d.outcome);
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
        set_word("setup", d.outcome, sizeof d.outcome);
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
    rp::HttpPostConfig config;
    config.url = base + "/chat/completions";
    config.bearer = key;
    config.timeout_ms = target->timeout_ms;
    config.connect_timeout_ms = connect_timeout(target->timeout_ms);
    config.max_response_bytes = target->max_response_bytes;
    rp::HttpPostResult refusal;
    rp::HttpPostPtr post = rp::http_post_prepare(config, std::move(request.body), &refusal);
    if (!post) return refuse(net, tag, "setup", "the model's base URL: " + refusal.error, key);

    auto t = std::make_unique<Transfer>();
    t->tag = tag;
    t->started = Clock::now();
    t->secret = key;
    t->post = std::move(post);
    t->schema = std::move(schema);
    t->model = model;
    t->timeout_ms = target->timeout_ms;
    t->max_response_bytes = target->max_response_bytes;
    return add(net, std::move(t), message, message_size);
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
    done->data = nullptr;
    done->metadata_json = nullptr;
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
