// The backend's HTTP client (src/pg/net_client.cpp) through its C interface, driven by a plain
// poll() loop over rp_net_sockets / rp_net_timeout_ms as the backend's event loop drives it,
// against the OpenAI stand-in (test/openai_fake) and the S3 stand-in (test/s3/start.mjs).
// OPENAI_BASE_URL (…/v1) and OPENAI_KEY name the first, S3_ENDPOINT, S3_ACCESS_KEY,
// S3_SECRET_KEY and S3_BUCKET the second; SCHEMA_PATH the résumé schema (default
// sql/resume_schema.json). Cases whose server is not named are skipped.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../../src/pg/net_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string env(const char *name, const char *fallback = "") {
    const char *v = std::getenv(name);
    return v && *v ? v : fallback;
}

#define REQUIRE_OPENAI() \
    if (env("OPENAI_BASE_URL").empty()) GTEST_SKIP() << "OPENAI_BASE_URL is not set"
#define REQUIRE_S3() \
    if (env("S3_ENDPOINT").empty()) GTEST_SKIP() << "S3_ENDPOINT is not set"

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// One client per test, its results freed at the end.
class Net {
public:
    Net() {
        char message[256];
        net_ = rp_net_create(message, sizeof message);
        if (!net_) ADD_FAILURE() << "rp_net_create: " << message;
    }
    ~Net() {
        for (RpNetDone &d : results) rp_net_done_free(&d);
        rp_net_destroy(net_);
    }
    RpNet *get() const { return net_; }

    // One turn of the backend's loop in miniature: wait (at most 100 ms) for libcurl's sockets
    // or its timer, and hand back what fired.
    void step() {
        int n = rp_net_sockets(net_, nullptr, 0);
        std::vector<RpNetSocket> sockets(n);
        n = rp_net_sockets(net_, sockets.data(), n);
        std::vector<pollfd> fds;
        for (int i = 0; i < n; i++)
            fds.push_back(pollfd{
                sockets[i].fd,
                static_cast<short>(((sockets[i].want & 1) ? POLLIN : 0) | ((sockets[i].want & 2) ? POLLOUT : 0)), 0});
        long timeout = rp_net_timeout_ms(net_);
        int wait = timeout < 0 || timeout > 100 ? 100 : static_cast<int>(timeout);
        int fired = poll(fds.data(), fds.size(), wait);
        ASSERT_GE(fired, 0) << std::strerror(errno);
        for (const pollfd &p : fds)
            if (p.revents)
                rp_net_socket_ready(net_, p.fd, (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0,
                                    (p.revents & (POLLOUT | POLLERR)) != 0);
        if (rp_net_timeout_ms(net_) == 0) rp_net_timer_expired(net_);
    }

    // Turns the loop until `count` results are in or max_seconds pass; on_done sees each result
    // as it arrives.
    void run(size_t count, double max_seconds, const std::function<void(const RpNetDone &)> &on_done = {}) {
        Clock::time_point start = Clock::now();
        while (results.size() < count && seconds_since(start) < max_seconds) {
            RpNetDone d;
            while (rp_net_next_done(net_, &d)) {
                results.push_back(d);
                if (on_done) on_done(results.back());
            }
            if (results.size() >= count) break;
            step();
        }
    }

    // The one result with this tag.
    const RpNetDone *find(void *tag) const {
        for (const RpNetDone &d : results)
            if (d.tag == tag) return &d;
        return nullptr;
    }

    std::vector<RpNetDone> results;

private:
    RpNet *net_ = nullptr;
};

void *tag_of(intptr_t i) {
    return reinterpret_cast<void *>(i);
}

// ---- the OpenAI stand-in ----------------------------------------------------------------------

size_t collect_body(char *data, size_t size, size_t n, void *arg) {
    static_cast<std::string *>(arg)->append(data, size * n);
    return size * n;
}

// A blocking request to the stand-in's control API (…/_control/NAME, beside /v1).
json control(const std::string &method, const std::string &name, const std::string &body = "") {
    std::string base = env("OPENAI_BASE_URL");
    std::string url = base.substr(0, base.rfind("/v1")) + "/_control/" + name;
    std::string answer;
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
    curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    if (method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    }
    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(headers);
    curl_easy_cleanup(e);
    EXPECT_EQ(rc, CURLE_OK) << "control API " << name;
    return json::parse(answer, nullptr, false);
}

int chat_requests_seen() {
    json r = control("GET", "requests?path=/v1/chat/completions");
    return r.is_object() ? r.value("count", -1) : -1;
}

struct Llm {
    std::string base_url = env("OPENAI_BASE_URL");
    std::string key = env("OPENAI_KEY");
    std::string model = "gpt-4o-mini";
    std::string schema = env("SCHEMA_PATH", "sql/resume_schema.json");
    long timeout_ms = 30000;
    uint64_t max_response_bytes = 1 << 20;

    RpLlmTarget target() const {
        return RpLlmTarget{base_url.c_str(), key.c_str(), model.c_str(),
                           schema.c_str(),   timeout_ms,  max_response_bytes};
    }
};

bool start_llm(RpNet *net, const Llm &llm, const std::string &text, void *tag) {
    RpLlmTarget t = llm.target();
    char message[1024];
    bool ok = rp_net_start_llm(net, &t, text.data(), text.size(), tag, message, sizeof message);
    EXPECT_TRUE(ok) << message;
    return ok;
}

std::string cv(int i, const std::string &marker = "") {
    return "Candidate " + std::to_string(i) + "\nStaff Engineer\ncandidate" + std::to_string(i) +
           "@example.org\n\nExperience\nNorthwind Labs, 2019 - present\n" + marker;
}

class NetLlm : public ::testing::Test {
protected:
    void SetUp() override {
        if (!env("OPENAI_BASE_URL").empty()) control("POST", "reset");
    }
};

TEST_F(NetLlm, SixtyFourSlowCallsAreAllInFlightAtOnceAndEachGetsItsOwnAnswer) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    const int n = 64;
    Clock::time_point start = Clock::now();
    for (int i = 0; i < n; i++)
        ASSERT_TRUE(start_llm(net.get(), llm, cv(i, "[[openai-fake:latency:500]]"), tag_of(i + 1)));
    EXPECT_EQ(rp_net_in_flight(net.get()), n);
    int seen_at_first_answer = -1;
    net.run(n, 20, [&](const RpNetDone &) {
        if (seen_at_first_answer < 0) seen_at_first_answer = chat_requests_seen();
    });
    double took = seconds_since(start);
    ASSERT_EQ(net.results.size(), static_cast<size_t>(n));
    // Every request had reached the server before any answer came back: none waited for another.
    EXPECT_EQ(seen_at_first_answer, n);
    EXPECT_LT(took, 10.0);
    for (int i = 0; i < n; i++) {
        const RpNetDone *d = net.find(tag_of(i + 1));
        ASSERT_NE(d, nullptr) << "no result for call " << i;
        ASSERT_STREQ(d->outcome, "ok") << d->message;
        EXPECT_TRUE(d->ok);
        EXPECT_EQ(d->http_status, 200);
        json resume = json::parse(std::string(d->data, d->len));
        EXPECT_EQ(resume["basics"]["name"], "Candidate " + std::to_string(i));
        EXPECT_EQ(resume["basics"]["email"], "candidate" + std::to_string(i) + "@example.org");
        EXPECT_STREQ(d->model, "gpt-4o-mini");
        EXPECT_STREQ(d->schema_version, "resume-v1");
        EXPECT_GT(d->prompt_tokens, 0);
        EXPECT_GT(d->completion_tokens, 0);
        EXPECT_GE(d->remaining_requests, 0);
        EXPECT_GE(d->remaining_tokens, 0);
        EXPECT_GE(d->reset_requests_ms, 0);
        EXPECT_GE(d->milliseconds, 500.0);
        EXPECT_EQ(d->retry_after_ms, -1);
    }
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
}

TEST_F(NetLlm, RateLimitedAnswerCarriesTheServersDelay) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1, "[[openai-fake:429:1500]]"), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    EXPECT_STREQ(d.outcome, "rate_limited") << d.message;
    EXPECT_FALSE(d.ok);
    EXPECT_TRUE(d.retryable);
    EXPECT_EQ(d.http_status, 429);
    EXPECT_EQ(d.retry_after_ms, 1500);
    EXPECT_EQ(d.remaining_requests, 0);
}

TEST_F(NetLlm, HungModelEndsAsTimeoutAtTheRequestTimeout) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    llm.timeout_ms = 400;
    Clock::time_point start = Clock::now();
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1, "[[openai-fake:hang]]"), tag_of(1)));
    net.run(1, 10);
    double took = seconds_since(start);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "timeout") << net.results[0].message;
    EXPECT_TRUE(net.results[0].retryable);
    EXPECT_EQ(net.results[0].http_status, 0);
    EXPECT_GE(took, 0.39);
    EXPECT_LT(took, 3.0);
}

TEST_F(NetLlm, AnswerOverTheSizeCapFailsCleanly) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    llm.max_response_bytes = 300;
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    EXPECT_STREQ(d.outcome, "malformed_answer") << d.message;
    EXPECT_NE(std::string(d.message).find("larger than 300 bytes"), std::string::npos) << d.message;
    EXPECT_FALSE(d.retryable);
    EXPECT_EQ(d.data, nullptr);
}

TEST_F(NetLlm, RefusedKeyIsAClientErrorAndTheKeyIsInNoMessage) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    llm.key = "sk-wrong-" + env("OPENAI_KEY") + "-wrong";
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    EXPECT_STREQ(d.outcome, "client_error") << d.message;
    EXPECT_EQ(d.http_status, 401);
    EXPECT_EQ(std::string(d.message).find(env("OPENAI_KEY")), std::string::npos) << d.message;
}

TEST_F(NetLlm, CancelStopsOneCallAndLeavesTheOthers) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1, "[[openai-fake:hang]]"), tag_of(1)));
    ASSERT_TRUE(start_llm(net.get(), llm, cv(2, "[[openai-fake:latency:600]]"), tag_of(2)));
    net.run(1, 0.3);  // both requests reach the server
    EXPECT_TRUE(net.results.empty());
    rp_net_cancel(net.get(), tag_of(1));
    EXPECT_EQ(rp_net_in_flight(net.get()), 1);
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_EQ(net.results[0].tag, tag_of(2));
    EXPECT_STREQ(net.results[0].outcome, "ok") << net.results[0].message;
    net.run(2, 0.5);  // the cancelled call is never reported
    EXPECT_EQ(net.results.size(), 1u);
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
    // Both requests reached the server.
    json r = control("GET", "requests?path=/v1/chat/completions");
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r["count"], 2);
}

TEST_F(NetLlm, CancelOfAFinishedCallDropsItsResult) {
    REQUIRE_OPENAI();
    Net net;
    Llm llm;
    llm.schema = "/nonexistent/resume_schema.json";  // reported at once, without I/O
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(1)));
    rp_net_cancel(net.get(), tag_of(1));
    RpNetDone d;
    EXPECT_FALSE(rp_net_next_done(net.get(), &d));
}

TEST(NetLlmSetup, UnusableSettingsComeBackAsSetupWithoutNetwork) {
    Net net;
    Llm llm;
    llm.base_url = "ftp://127.0.0.1/v1";
    llm.key = "sk-secret-setup-key";
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(1)));
    llm.base_url = "http://127.0.0.1:9/v1";
    llm.schema = "/nonexistent/resume_schema.json";
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(2)));
    llm.schema = env("SCHEMA_PATH", "sql/resume_schema.json");
    llm.model = "bad model name";
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(3)));
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
    RpNetDone d;
    ASSERT_TRUE(rp_net_take_done(net.get(), tag_of(2), &d));
    EXPECT_STREQ(d.outcome, "setup");
    EXPECT_NE(std::string(d.message).find("schema"), std::string::npos) << d.message;
    for (int i : {1, 3}) {
        ASSERT_TRUE(rp_net_take_done(net.get(), tag_of(i), &d));
        EXPECT_STREQ(d.outcome, "setup");
        EXPECT_FALSE(d.ok);
        EXPECT_EQ(std::string(d.message).find("sk-secret"), std::string::npos) << d.message;
    }
    EXPECT_FALSE(rp_net_next_done(net.get(), &d));
}

TEST(NetLlmSetup, SchemaVersionIsReadThroughTheCache) {
    Net net;
    char version[64], message[256];
    ASSERT_TRUE(rp_net_schema_version(net.get(), env("SCHEMA_PATH", "sql/resume_schema.json").c_str(), version,
                                      sizeof version, message, sizeof message))
        << message;
    EXPECT_STREQ(version, "resume-v1");
    EXPECT_FALSE(
        rp_net_schema_version(net.get(), "/nonexistent.json", version, sizeof version, message, sizeof message));
    EXPECT_STREQ(version, "");
    EXPECT_NE(std::string(message).find("/nonexistent.json"), std::string::npos);
}

TEST(NetLlmSetup, ConnectionRefusedIsATransportFailure) {
    Net net;
    Llm llm;
    llm.base_url = "http://127.0.0.1:9/v1/";  // discard port: nothing listens
    ASSERT_TRUE(start_llm(net.get(), llm, cv(1), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "transport") << net.results[0].message;
    EXPECT_TRUE(net.results[0].retryable);
}

// ---- any HTTP request -------------------------------------------------------------------------

struct Http {
    std::vector<std::string> names, values;
    std::string url, authorization, body;
    bool has_body = false;
    RpHttpMethod method = RP_HTTP_GET;
    long timeout_ms = 10000;
    uint64_t max_response_bytes = 1 << 20;
    bool read_usage = false;

    bool start(RpNet *net, void *tag) const {
        std::vector<const char *> n, v;
        for (const std::string &s : names) n.push_back(s.c_str());
        for (const std::string &s : values) v.push_back(s.c_str());
        RpHttpCall call;
        std::memset(&call, 0, sizeof call);
        call.method = method;
        call.url = url.c_str();
        call.n_headers = static_cast<int>(n.size());
        call.header_names = n.data();
        call.header_values = v.data();
        call.authorization = authorization.empty() ? nullptr : authorization.c_str();
        call.body = has_body ? body.data() : nullptr;
        call.body_len = body.size();
        call.timeout_ms = timeout_ms;
        call.max_response_bytes = max_response_bytes;
        call.read_usage = read_usage;
        char message[1024];
        bool ok = rp_net_start_http(net, &call, tag, message, sizeof message);
        EXPECT_TRUE(ok) << message;
        return ok;
    }
};

json headers_of(const RpNetDone &d) {
    return d.headers_json ? json::parse(d.headers_json) : json();
}

// The headers the stand-in received with its last request to path.
json last_request_headers(const std::string &path) {
    json r = control("GET", "requests?path=" + path);
    if (!r.is_object() || r["requests"].empty()) return json();
    return r["requests"].back()["headers"];
}

std::string chat_body(const std::string &text) {
    return json{{"model", "gpt-4o-mini"}, {"messages", json::array({json{{"role", "user"}, {"content", text}}})}}
        .dump();
}

class NetHttp : public NetLlm {};

TEST_F(NetHttp, GetWithHeadersIsAnAnswerWithItsHeadersAndBody) {
    REQUIRE_OPENAI();
    Net net;
    Http h;
    h.url = env("OPENAI_BASE_URL") + "/models";
    h.names = {"X-Trace", "Accept"};
    h.values = {"trace-42", "application/json"};
    h.authorization = "Bearer " + env("OPENAI_KEY");
    ASSERT_TRUE(h.start(net.get(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    EXPECT_STREQ(d.outcome, "ok") << d.message;
    EXPECT_TRUE(d.ok);
    EXPECT_EQ(d.http_status, 200);
    json headers = headers_of(d);
    ASSERT_TRUE(headers.is_object());
    EXPECT_EQ(headers.value("content-type", ""), "application/json");
    EXPECT_EQ(headers.value("x-request-id", "").rfind("req_", 0), 0u) << headers.dump();
    for (const auto &[name, value] : headers.items()) {
        (void)value;
        for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
    }
    json body = json::parse(std::string(d.data, d.len));
    EXPECT_EQ(body["object"], "list");
    json sent = last_request_headers("/v1/models");
    EXPECT_EQ(sent.value("x-trace", ""), "trace-42");
    EXPECT_EQ(sent.value("user-agent", ""), "resume_pipeline/0.1");
    EXPECT_EQ(sent.value("authorization", ""), "Bearer " + env("OPENAI_KEY"));
}

TEST_F(NetHttp, PostReadsUsageAndTheRateLimitHeaders) {
    REQUIRE_OPENAI();
    Net net;
    Http h;
    h.method = RP_HTTP_POST;
    h.url = env("OPENAI_BASE_URL") + "/chat/completions";
    h.authorization = "Bearer " + env("OPENAI_KEY");
    h.names = {"X-Job", "Content-Type"};
    h.values = {"job-7", "application/json"};
    h.has_body = true;
    h.body = chat_body("Ada Whitfield\nada@example.org");
    h.read_usage = true;
    ASSERT_TRUE(h.start(net.get(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    ASSERT_STREQ(d.outcome, "ok") << d.message;
    EXPECT_EQ(d.http_status, 200) << std::string(d.data ? d.data : "", d.len);
    EXPECT_FALSE(d.retryable);
    EXPECT_STREQ(d.model, "gpt-4o-mini");
    EXPECT_GT(d.prompt_tokens, 0);
    EXPECT_GT(d.completion_tokens, 0);
    EXPECT_GE(d.remaining_requests, 0);
    EXPECT_GE(d.remaining_tokens, 0);
    EXPECT_GE(d.reset_requests_ms, 0);
    EXPECT_EQ(d.retry_after_ms, -1);
    json body = json::parse(std::string(d.data, d.len));
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(last_request_headers("/v1/chat/completions").value("x-job", ""), "job-7");
}

TEST_F(NetHttp, ErrorStatusesAreAnswersNotFailures) {
    REQUIRE_OPENAI();
    Net net;
    Http missing;
    missing.url = env("OPENAI_BASE_URL") + "/no-such-thing";
    missing.authorization = "Bearer " + env("OPENAI_KEY");
    ASSERT_TRUE(missing.start(net.get(), tag_of(1)));
    control("POST", "script", R"(["429:1500"])");
    Http limited;
    limited.method = RP_HTTP_POST;
    limited.url = env("OPENAI_BASE_URL") + "/chat/completions";
    limited.authorization = missing.authorization;
    limited.has_body = true;
    limited.body = chat_body("x");
    ASSERT_TRUE(limited.start(net.get(), tag_of(2)));
    net.run(2, 10);
    ASSERT_EQ(net.results.size(), 2u);
    const RpNetDone *d404 = net.find(tag_of(1));
    const RpNetDone *d429 = net.find(tag_of(2));
    ASSERT_TRUE(d404 && d429);
    EXPECT_STREQ(d404->outcome, "ok") << d404->message;
    EXPECT_EQ(d404->http_status, 404);
    EXPECT_FALSE(d404->retryable);
    EXPECT_NE(std::string(d404->data, d404->len).find("Invalid URL"), std::string::npos);
    EXPECT_STREQ(d429->outcome, "ok") << d429->message;
    EXPECT_EQ(d429->http_status, 429);
    EXPECT_TRUE(d429->retryable);
    EXPECT_EQ(d429->retry_after_ms, 1500);
    EXPECT_EQ(d429->remaining_requests, 0);
    EXPECT_EQ(headers_of(*d429).value("retry-after-ms", ""), "1500");
}

TEST_F(NetHttp, AnswerOverTheCapIsTooLarge) {
    REQUIRE_OPENAI();
    Net net;
    Http h;
    h.url = env("OPENAI_BASE_URL") + "/models";
    h.authorization = "Bearer " + env("OPENAI_KEY");
    h.max_response_bytes = 50;
    ASSERT_TRUE(h.start(net.get(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "too_large") << net.results[0].message;
    EXPECT_FALSE(net.results[0].ok);
    EXPECT_EQ(net.results[0].http_status, 0);
    EXPECT_EQ(net.results[0].data, nullptr);
    EXPECT_EQ(net.results[0].headers_json, nullptr);
    EXPECT_FALSE(net.results[0].retryable);
}

TEST_F(NetHttp, HungServerEndsAsTimeout) {
    REQUIRE_OPENAI();
    Net net;
    control("POST", "script", R"(["hang"])");
    Http h;
    h.method = RP_HTTP_POST;
    h.url = env("OPENAI_BASE_URL") + "/chat/completions";
    h.authorization = "Bearer " + env("OPENAI_KEY");
    h.has_body = true;
    h.body = chat_body("x");
    h.timeout_ms = 400;
    Clock::time_point start = Clock::now();
    ASSERT_TRUE(h.start(net.get(), tag_of(1)));
    net.run(1, 10);
    double took = seconds_since(start);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "timeout") << net.results[0].message;
    EXPECT_TRUE(net.results[0].retryable);
    EXPECT_EQ(net.results[0].http_status, 0);
    EXPECT_GE(took, 0.39);
    EXPECT_LT(took, 3.0);
}

TEST(NetHttpRefused, UnsendableRequestsAreRefusedAtOnceWithoutTheKey) {
    Net net;
    const std::string key = "sk-never-shown-0123456789";
    struct Case {
        std::string url, name, value;
        bool body;
        const char *why;
    };
    const Case cases[] = {
        {"http://127.0.0.1:9/x", "X-Evil", "a\r\nInjected: yes", false, "CR, LF or NUL"},
        {"http://127.0.0.1:9/x", "Bad Name", "v", false, "not allowed in a name"},
        {"http://127.0.0.1:9/x", "Host", "elsewhere.example", false, "set by the HTTP client"},
        {"http://127.0.0.1:9/x", "Content-Length", "5", false, "set by the HTTP client"},
        {"ftp://127.0.0.1/x", "X-Ok", "v", false, "http:// or https://"},
        {"http://127.0.0.1:9/a b", "X-Ok", "v", false, "printable ASCII"},
        {"http://127.0.0.1:9/x", "X-Ok", "v", true, "GET request has no body"},
    };
    int i = 0;
    for (const Case &c : cases) {
        Http h;
        h.url = c.url;
        h.names = {c.name};
        h.values = {c.value};
        h.authorization = "Bearer " + key;
        h.has_body = c.body;
        h.body = "{}";
        ASSERT_TRUE(h.start(net.get(), tag_of(++i)));
    }
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
    i = 0;
    for (const Case &c : cases) {
        RpNetDone d;
        ASSERT_TRUE(rp_net_take_done(net.get(), tag_of(++i), &d)) << c.why;
        EXPECT_STREQ(d.outcome, "refused") << c.why;
        EXPECT_FALSE(d.ok);
        EXPECT_FALSE(d.retryable);
        EXPECT_NE(std::string(d.message).find(c.why), std::string::npos) << d.message;
        EXPECT_EQ(std::string(d.message).find(key), std::string::npos) << d.message;
        rp_net_done_free(&d);
    }
}

TEST(NetHttpRefused, ConnectionRefusedIsTransportAndHidesTheKey) {
    Net net;
    Http h;
    h.url = "http://127.0.0.1:9/x";
    h.authorization = "Bearer sk-hidden-key-987654321";
    ASSERT_TRUE(h.start(net.get(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "transport") << net.results[0].message;
    EXPECT_TRUE(net.results[0].retryable);
    EXPECT_EQ(std::string(net.results[0].message).find("sk-hidden"), std::string::npos);
}

// ---- requests in JSON, as call jobs write them ------------------------------------------------

struct Services {
    std::string openai_base = env("OPENAI_BASE_URL"), openai_key = env("OPENAI_KEY");
    std::string github_base = "", github_key = "";
    std::string linkedin_base = "", linkedin_key = "";

    RpRequestDefaults defaults() const {
        RpRequestDefaults d;
        std::memset(&d, 0, sizeof d);
        d.openai = RpHttpService{openai_base.c_str(), openai_key.c_str()};
        d.github = RpHttpService{github_base.c_str(), github_key.c_str()};
        d.linkedin = RpHttpService{linkedin_base.c_str(), linkedin_key.c_str()};
        d.timeout_ms = 10000;
        d.max_response_bytes = 1 << 20;
        return d;
    }
};

bool start_request(RpNet *net, const Services &s, const std::string &request, void *tag) {
    RpRequestDefaults d = s.defaults();
    char message[1024];
    bool ok = rp_net_start_request(net, request.data(), request.size(), &d, tag, message, sizeof message);
    EXPECT_TRUE(ok) << message;
    return ok;
}

TEST_F(NetHttp, RequestInJsonAddsTheKeyItsAuthNames) {
    REQUIRE_OPENAI();
    Net net;
    Services s;
    json request = {{"method", "post"},
                    {"url", env("OPENAI_BASE_URL") + "/chat/completions"},
                    {"headers", {{"X-Step", "verdict"}, {"X-Null", nullptr}}},
                    {"body", json::parse(chat_body("Grace Okafor"))},
                    {"auth", "openai"},
                    {"dependency", "model"}};
    ASSERT_TRUE(start_request(net.get(), s, request.dump(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    ASSERT_STREQ(d.outcome, "ok") << d.message;
    EXPECT_EQ(d.http_status, 200) << std::string(d.data ? d.data : "", d.len);
    EXPECT_GT(d.prompt_tokens, 0);  // dependency "model": usage read
    json sent = last_request_headers("/v1/chat/completions");
    EXPECT_EQ(sent.value("authorization", ""), "Bearer " + env("OPENAI_KEY"));
    EXPECT_EQ(sent.value("x-step", ""), "verdict");
    EXPECT_EQ(sent.value("content-type", ""), "application/json");
    EXPECT_FALSE(sent.contains("x-null"));
}

TEST_F(NetHttp, GithubAuthAddsItsHeadersUnlessTheRequestSetsThem) {
    REQUIRE_OPENAI();
    Net net;
    Services s;
    s.github_base = env("OPENAI_BASE_URL");  // the stand-in logs what it gets
    s.github_key = "ghp_test_token_123";
    json request = {{"url", env("OPENAI_BASE_URL") + "/models"}, {"auth", "github"}};
    ASSERT_TRUE(start_request(net.get(), s, request.dump(), tag_of(1)));
    net.run(1, 10);
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_STREQ(net.results[0].outcome, "ok") << net.results[0].message;
    json sent = last_request_headers("/v1/models");
    EXPECT_EQ(sent.value("authorization", ""), "Bearer ghp_test_token_123");
    EXPECT_EQ(sent.value("user-agent", ""), "resume_pipeline/0.1");
    EXPECT_EQ(sent.value("accept", ""), "application/vnd.github+json");
    EXPECT_EQ(sent.value("x-github-api-version", ""), "2022-11-28");

    s.github_key = "";  // unauthenticated: no Authorization; the request's own Accept stays
    request["headers"] = {{"Accept", "application/vnd.github.raw+json"}};
    ASSERT_TRUE(start_request(net.get(), s, request.dump(), tag_of(2)));
    net.run(2, 10);
    ASSERT_EQ(net.results.size(), 2u);
    sent = last_request_headers("/v1/models");
    EXPECT_FALSE(sent.contains("authorization"));
    EXPECT_EQ(sent.value("accept", ""), "application/vnd.github.raw+json");
    EXPECT_EQ(sent.value("x-github-api-version", ""), "2022-11-28");
}

TEST(NetRequestRefused, BadRequestsComeBackRefusedWithTheReason) {
    Net net;
    Services s;
    s.openai_base = "http://127.0.0.1:9/v1";
    s.openai_key = "sk-secret-json-key-000";
    s.github_base = "https://api.github.example";
    const std::pair<std::string, const char *> cases[] = {
        {"not json", "not JSON"},
        {"[1, 2]", "not a JSON object"},
        {R"({"method": "GET"})", "\"url\" must be a string"},
        {R"({"url": "http://127.0.0.1:9/x", "method": "TRACE"})", "\"method\" must be"},
        {R"({"url": "http://127.0.0.1:9/x", "headers": {"X": 5}})", "must be a string"},
        {R"({"url": "http://127.0.0.1:9/x", "headers": {"X": "a\nb"}})", "CR, LF or NUL"},
        {R"({"url": "http://127.0.0.1:9/x", "auth": "aws"})", "\"auth\" must be"},
        {R"({"url": "http://127.0.0.1:9/x", "auth": "linkedin"})", "linkedin_provider_url is not set"},
        {R"({"url": "http://evil.example/v1/chat", "auth": "openai"})", "only to URLs under"},
        {R"({"url": "http://127.0.0.1:9/v1evil", "auth": "openai"})", "only to URLs under"},
        {R"({"url": "https://api.github.example.evil/x", "auth": "github"})", "only to URLs under"},
        {R"({"url": "http://127.0.0.1:9/v1/x", "auth": "openai", "headers": {"Authorization": "Bearer x"}})",
         "an Authorization header together"},
        {R"({"url": "http://127.0.0.1:9/x", "timeout_ms": 0})", "\"timeout_ms\" must be"},
        {R"({"url": "http://127.0.0.1:9/x", "max_bytes": "big"})", "\"max_bytes\" must be"},
        {R"({"url": "http://127.0.0.1:9/x", "dependency": 3})", "\"dependency\" must be"},
    };
    int i = 0;
    for (const auto &c : cases) ASSERT_TRUE(start_request(net.get(), s, c.first, tag_of(++i)));
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
    i = 0;
    for (const auto &c : cases) {
        RpNetDone d;
        ASSERT_TRUE(rp_net_take_done(net.get(), tag_of(++i), &d)) << c.first;
        EXPECT_STREQ(d.outcome, "refused") << c.first;
        EXPECT_NE(std::string(d.message).find(c.second), std::string::npos) << c.first << ": " << d.message;
        EXPECT_EQ(std::string(d.message).find(s.openai_key), std::string::npos) << d.message;
        rp_net_done_free(&d);
    }
}

// ---- the S3 stand-in --------------------------------------------------------------------------

struct S3 {
    std::string endpoint = env("S3_ENDPOINT");
    std::string access = env("S3_ACCESS_KEY");
    std::string secret = env("S3_SECRET_KEY");
    std::string bucket = env("S3_BUCKET", "resumes");
    uint64_t max_response_bytes = 8 << 20;

    RpS3Target target() const {
        return RpS3Target{endpoint.c_str(), "us-east-1", access.c_str(), secret.c_str(), 30000, max_response_bytes};
    }
};

std::string prefix() {
    static const std::string p =
        "net" + std::to_string(getpid()) + "-" + std::to_string(Clock::now().time_since_epoch().count()) + "/";
    return p;
}

RpS3Call s3_call(RpS3Op op, const S3 &s3, const std::string &key) {
    RpS3Call c;
    std::memset(&c, 0, sizeof c);
    c.op = op;
    c.bucket = s3.bucket.c_str();
    c.key = key.c_str();
    return c;
}

bool start_s3(RpNet *net, const S3 &s3, const RpS3Call &call, void *tag) {
    RpS3Target t = s3.target();
    char message[1024];
    bool ok = rp_net_start_s3(net, &t, &call, tag, message, sizeof message);
    EXPECT_TRUE(ok) << message;
    return ok;
}

std::string binary(size_t n, int seed) {
    std::string s;
    for (size_t i = 0; i < n; i++) s += static_cast<char>((i * 131 + seed * 7) & 0xff);  // NUL bytes too
    return s;
}

TEST(NetS3, PutHeadGetListDeleteThroughTheMultiHandle) {
    REQUIRE_S3();
    Net net;
    S3 s3;
    const int n = 8;
    std::vector<std::string> keys, bodies;
    for (int i = 0; i < n; i++) {
        keys.push_back(prefix() + "doc " + std::to_string(i) + ".pdf");
        bodies.push_back(binary(1000 + i * 40000, i));
    }
    // Eight PUTs at once, with a type and metadata.
    const char *names[] = {"job", "owner"};
    std::vector<std::string> jobs;
    for (int i = 0; i < n; i++) jobs.push_back("job-" + std::to_string(i));
    for (int i = 0; i < n; i++) {
        RpS3Call c = s3_call(RP_S3_PUT, s3, keys[i]);
        c.body = bodies[i].data();
        c.body_len = bodies[i].size();
        c.content_type = "application/pdf";
        const char *values[] = {jobs[i].c_str(), "u1"};
        c.n_metadata = 2;
        c.metadata_names = names;
        c.metadata_values = values;
        ASSERT_TRUE(start_s3(net.get(), s3, c, tag_of(100 + i)));
    }
    EXPECT_EQ(rp_net_in_flight(net.get()), n);
    net.run(n, 30);
    ASSERT_EQ(net.results.size(), static_cast<size_t>(n));
    for (const RpNetDone &d : net.results) EXPECT_STREQ(d.outcome, "ok") << d.message;

    // HEAD and GET of each, all at once.
    for (int i = 0; i < n; i++) {
        ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_HEAD, s3, keys[i]), tag_of(200 + i)));
        ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_GET, s3, keys[i]), tag_of(300 + i)));
    }
    net.run(3 * n, 30);
    ASSERT_EQ(net.results.size(), static_cast<size_t>(3 * n));
    for (int i = 0; i < n; i++) {
        const RpNetDone *head = net.find(tag_of(200 + i));
        const RpNetDone *get = net.find(tag_of(300 + i));
        ASSERT_TRUE(head && get);
        EXPECT_STREQ(head->outcome, "ok") << head->message;
        EXPECT_EQ(head->http_status, 200);
        EXPECT_STREQ(head->content_type, "application/pdf");
        ASSERT_NE(head->metadata_json, nullptr);
        json meta = json::parse(head->metadata_json);
        EXPECT_EQ(meta["job"], jobs[i]);
        EXPECT_EQ(meta["owner"], "u1");
        EXPECT_EQ(head->data, nullptr);
        ASSERT_STREQ(get->outcome, "ok") << get->message;
        ASSERT_EQ(get->len, bodies[i].size());
        EXPECT_EQ(std::string(get->data, get->len), bodies[i]);
    }

    // LIST under the prefix: every key with its size.
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_LIST, s3, prefix()), tag_of(400)));
    net.run(3 * n + 1, 30);
    const RpNetDone *list = net.find(tag_of(400));
    ASSERT_NE(list, nullptr);
    ASSERT_STREQ(list->outcome, "ok") << list->message;
    EXPECT_FALSE(list->list_truncated);
    std::string lines(list->data, list->len);
    for (int i = 0; i < n; i++)
        EXPECT_NE(lines.find(keys[i] + "\t" + std::to_string(bodies[i].size()) + "\t"), std::string::npos) << lines;

    // DELETE, then the object is gone.
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_DELETE, s3, keys[0]), tag_of(500)));
    net.run(3 * n + 2, 30);
    ASSERT_TRUE(net.find(tag_of(500)));
    EXPECT_STREQ(net.find(tag_of(500))->outcome, "ok") << net.find(tag_of(500))->message;
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_GET, s3, keys[0]), tag_of(501)));
    net.run(3 * n + 3, 30);
    ASSERT_TRUE(net.find(tag_of(501)));
    EXPECT_STREQ(net.find(tag_of(501))->outcome, "not_found");
    EXPECT_EQ(net.find(tag_of(501))->http_status, 404);
    EXPECT_FALSE(net.find(tag_of(501))->retryable);
}

TEST(NetS3, GetOverTheCapIsTooLarge) {
    REQUIRE_S3();
    Net net;
    S3 s3;
    std::string key = prefix() + "big.bin", body = binary(200000, 3);
    RpS3Call put = s3_call(RP_S3_PUT, s3, key);
    put.body = body.data();
    put.body_len = body.size();
    ASSERT_TRUE(start_s3(net.get(), s3, put, tag_of(1)));
    net.run(1, 30);
    ASSERT_STREQ(net.results.at(0).outcome, "ok") << net.results[0].message;
    s3.max_response_bytes = 100000;
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_GET, s3, key), tag_of(2)));
    net.run(2, 30);
    ASSERT_EQ(net.results.size(), 2u);
    EXPECT_STREQ(net.results[1].outcome, "too_large") << net.results[1].message;
    EXPECT_EQ(net.results[1].data, nullptr);
    EXPECT_FALSE(net.results[1].retryable);
}

TEST(NetS3, WrongSecretIsRefusedByTheServerAndTheSecretIsInNoMessage) {
    REQUIRE_S3();
    Net net;
    S3 s3;
    s3.secret = "wrong-" + s3.secret;
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_GET, s3, prefix() + "x"), tag_of(1)));
    net.run(1, 30);
    ASSERT_EQ(net.results.size(), 1u);
    const RpNetDone &d = net.results[0];
    EXPECT_STREQ(d.outcome, "http") << d.message;
    EXPECT_EQ(d.http_status, 403);
    EXPECT_EQ(std::string(d.message).find(s3.secret), std::string::npos);
    EXPECT_EQ(std::string(d.message).find(env("S3_SECRET_KEY")), std::string::npos);
}

TEST(NetS3, UnsendableRequestIsRefusedAtOnce) {
    Net net;
    S3 s3;
    s3.endpoint = "http://127.0.0.1:9";
    s3.access = "a";
    s3.secret = "secret-never-shown";
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_GET, s3, ""), tag_of(1)));
    EXPECT_EQ(rp_net_in_flight(net.get()), 0);
    RpNetDone d;
    ASSERT_TRUE(rp_net_next_done(net.get(), &d));
    EXPECT_STREQ(d.outcome, "refused");
    EXPECT_NE(std::string(d.message).find("empty object key"), std::string::npos) << d.message;
    EXPECT_FALSE(d.retryable);
}

TEST(NetS3, CancelOfAnUploadInFlight) {
    REQUIRE_S3();
    Net net;
    S3 s3;
    std::string key = prefix() + "cancelled.bin", body = binary(4 << 20, 5);
    RpS3Call put = s3_call(RP_S3_PUT, s3, key);
    put.body = body.data();
    put.body_len = body.size();
    ASSERT_TRUE(start_s3(net.get(), s3, put, tag_of(1)));
    ASSERT_TRUE(start_s3(net.get(), s3, s3_call(RP_S3_LIST, s3, prefix()), tag_of(2)));
    // A few turns: connected and sending (4 MiB take longer than this to reach s3rver).
    for (int i = 0; i < 3 && rp_net_in_flight(net.get()) == 2; i++) net.step();
    ASSERT_EQ(rp_net_in_flight(net.get()), 2) << "the upload ended before it could be cancelled";
    rp_net_cancel(net.get(), tag_of(1));
    EXPECT_EQ(rp_net_in_flight(net.get()), 1);
    net.run(1, 10);
    net.run(2, 0.5);  // the cancelled upload is never reported
    ASSERT_EQ(net.results.size(), 1u);
    EXPECT_EQ(net.results[0].tag, tag_of(2));
    EXPECT_STREQ(net.results[0].outcome, "ok") << net.results[0].message;
    RpNetDone d;
    EXPECT_FALSE(rp_net_next_done(net.get(), &d));
}

}  // namespace
