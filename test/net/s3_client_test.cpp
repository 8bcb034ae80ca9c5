// The S3 client against a real S3 server (test/s3/start.mjs runs @20minutes/s3rver, which checks
// SigV4 signatures). S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION (default us-east-1)
// and S3_BUCKET (default resumes) name it; without S3_ENDPOINT the server cases are skipped.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "../../src/net/s3_client.h"

namespace {

using rp::S3Config;
using rp::S3Result;

std::string env(const char *name, const char *fallback = "") {
    const char *v = std::getenv(name);
    return v && *v ? v : fallback;
}

S3Config server_config() {
    S3Config c;
    c.endpoint = env("S3_ENDPOINT");
    c.region = env("S3_REGION", "us-east-1");
    c.access_key = env("S3_ACCESS_KEY");
    c.secret_key = env("S3_SECRET_KEY");
    c.connect_timeout_ms = 5000;
    c.timeout_ms = 30000;
    return c;
}

const std::string kBucket = env("S3_BUCKET", "resumes");

// Keys unique to this run, so a rerun against the same directory starts clean.
std::string run_prefix() {
    static const std::string prefix = "t" + std::to_string(getpid()) + "-" +
                                      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    return prefix;
}

#define REQUIRE_SERVER() \
    if (env("S3_ENDPOINT").empty()) GTEST_SKIP() << "S3_ENDPOINT is not set"

std::string binary_bytes(size_t n) {
    std::string s;
    for (int i = 0; i < 256; i++) s += static_cast<char>(i);  // every byte value, NUL included
    std::mt19937 rng(42);
    while (s.size() < n) s += static_cast<char>(rng() & 0xff);
    return s;
}

// A TCP port that accepts connections (the kernel completes them) but never answers.
struct SilentServer {
    int fd = -1;
    int port = 0;
    SilentServer() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
        listen(fd, 8);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~SilentServer() { close(fd); }
};

// A port nobody listens on: bound, then released.
int closed_port() {
    SilentServer s;
    int port = s.port;
    return port;
}

TEST(S3Offline, KeysArePercentEncodedPerS3Rules) {
    EXPECT_EQ(rp::s3_uri_encode("dir/a b+é%.pdf", true), "dir/a%20b%2B%C3%A9%25.pdf");
    EXPECT_EQ(rp::s3_uri_encode("a/b", false), "a%2Fb");
    EXPECT_EQ(rp::s3_uri_encode("A-Z_a.z~0", true), "A-Z_a.z~0");
    EXPECT_EQ(rp::s3_uri_encode("(x)!*'=&?#", true), "%28x%29%21%2A%27%3D%26%3F%23");
}

TEST(S3Offline, UnsendableRequestsAreRefusedWithoutNetwork) {
    S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
    c.access_key = "k";
    c.secret_key = "secret-never-shown";
    S3Result r = rp::s3_get(c, kBucket, "");
    EXPECT_TRUE(r.invalid_request);
    EXPECT_FALSE(r.ok());
    r = rp::s3_put(c, kBucket, "x", "body", "text/plain", {{"note", "line\r\nInjected: yes"}});
    EXPECT_TRUE(r.invalid_request) << r.describe();
    r = rp::s3_put(c, kBucket, "x", "body", "text/plain", {{"name", "Zoë"}});
    EXPECT_TRUE(r.invalid_request) << "non-ASCII metadata cannot travel as a header";
    r = rp::s3_put(c, kBucket, "x", "body", "text/plain", {{"empty", ""}});
    EXPECT_TRUE(r.invalid_request) << "libcurl 7.88 signs an empty header wrongly";
    r = rp::s3_put(c, kBucket, "x", "body", "text/plain\nX: y");
    EXPECT_TRUE(r.invalid_request);
    c.endpoint = "ftp://example.com";
    EXPECT_TRUE(rp::s3_get(c, kBucket, "x").invalid_request);
    EXPECT_EQ(r.describe().find("secret-never-shown"), std::string::npos);
}

TEST(S3Server, PutGetRoundTripKeepsBinaryBytes) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/binary.bin";
    std::string bytes = binary_bytes(300 * 1024);
    S3Result put = rp::s3_put(c, kBucket, key, bytes, "application/octet-stream");
    ASSERT_TRUE(put.ok()) << put.describe();
    EXPECT_FALSE(put.etag.empty());
    S3Result got = rp::s3_get(c, kBucket, key);
    ASSERT_TRUE(got.ok()) << got.describe();
    EXPECT_EQ(got.body.size(), bytes.size());
    EXPECT_TRUE(got.body == bytes);
    EXPECT_EQ(got.content_type, "application/octet-stream");

    S3Result empty = rp::s3_put(c, kBucket, run_prefix() + "/empty", "", "text/plain");
    ASSERT_TRUE(empty.ok()) << empty.describe();
    got = rp::s3_get(c, kBucket, run_prefix() + "/empty");
    ASSERT_TRUE(got.ok()) << got.describe();
    EXPECT_EQ(got.body, "");
}

TEST(S3Server, MetadataAndTypeComeBackThroughHead) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/cv.pdf";
    std::string body = "%PDF-1.4 not really";
    S3Result put = rp::s3_put(c, kBucket, key, body, "application/pdf",
                              {{"candidate_id", "42"}, {"Source", "ashby"}, {"zip-id", "a b/c"}});
    ASSERT_TRUE(put.ok()) << put.describe();
    S3Result head = rp::s3_head(c, kBucket, key);
    ASSERT_TRUE(head.ok()) << head.describe();
    EXPECT_EQ(head.content_length, static_cast<int64_t>(body.size()));
    EXPECT_EQ(head.content_type, "application/pdf");
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.metadata["candidate_id"], "42");
    EXPECT_EQ(head.metadata["source"], "ashby") << "metadata names come back lower-cased";
    EXPECT_EQ(head.metadata["zip-id"], "a b/c");
    EXPECT_EQ(head.metadata.size(), 3u);
    S3Result got = rp::s3_get(c, kBucket, key);
    ASSERT_TRUE(got.ok()) << got.describe();
    EXPECT_EQ(got.metadata["candidate_id"], "42");
}

TEST(S3Server, AwkwardKeysRoundTrip) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    // Listed back verbatim too, except where s3rver itself falls short of S3: it escapes XML
    // twice ('&' is listed as "&amp;"), and its filesystem store folds "./" and "../" segments.
    struct Case {
        std::string key;
        bool listable;
    };
    const Case cases[] = {
        {"with space/my cv.pdf", true},    {"résumé é/Zoë Ångström.pdf", true}, {"plus+sign equals=.pdf", true},
        {"percent%20literal.pdf", true},   {"parens (1)!*.pdf", true},          {"日本語/履歴書.pdf", true},
        {"amp & apostrophe's.pdf", false}, {"dots/./and/../kept.pdf", false},
    };
    std::vector<std::string> expected;
    for (const Case &k : cases) {
        std::string key = run_prefix() + "/awkward/" + k.key;
        S3Result put = rp::s3_put(c, kBucket, key, "bytes of " + k.key, "text/plain");
        ASSERT_TRUE(put.ok()) << k.key << ": " << put.describe();
        S3Result got = rp::s3_get(c, kBucket, key);
        ASSERT_TRUE(got.ok()) << k.key << ": " << got.describe();
        EXPECT_EQ(got.body, "bytes of " + k.key);
        S3Result head = rp::s3_head(c, kBucket, key);
        EXPECT_TRUE(head.ok()) << k.key << ": " << head.describe();
        if (k.listable) expected.push_back(k.key);
    }
    S3Result list = rp::s3_list(c, kBucket, run_prefix() + "/awkward/");
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.objects.size(), std::size(cases));
    std::vector<std::string> listed;
    for (const auto &o : list.objects) listed.push_back(o.key.substr((run_prefix() + "/awkward/").size()));
    for (const std::string &k : expected)
        EXPECT_NE(std::find(listed.begin(), listed.end(), k), listed.end()) << k << " is not listed";
}

TEST(S3Server, ListObjectsV2PagesWithPrefixAndMaxKeys) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string prefix = run_prefix() + "/list é+/";
    for (int i = 1; i <= 5; i++) {
        S3Result put = rp::s3_put(c, kBucket, prefix + "f" + std::to_string(i), std::string(i * 10, 'x'), "text/plain");
        ASSERT_TRUE(put.ok()) << put.describe();
    }
    ASSERT_TRUE(rp::s3_put(c, kBucket, run_prefix() + "/list-other", "x", "text/plain").ok());

    std::vector<std::string> keys;
    std::vector<size_t> page_sizes;
    std::string token;
    for (int page = 0; page < 10; page++) {
        S3Result r = rp::s3_list(c, kBucket, prefix, token, 2);
        ASSERT_TRUE(r.ok()) << r.describe();
        page_sizes.push_back(r.objects.size());
        for (const auto &o : r.objects) {
            keys.push_back(o.key);
            EXPECT_EQ(o.size, static_cast<uint64_t>(10 * (o.key.back() - '0')));
            EXPECT_FALSE(o.etag.empty());
        }
        if (!r.is_truncated) {
            EXPECT_TRUE(r.next_continuation_token.empty());
            break;
        }
        ASSERT_FALSE(r.next_continuation_token.empty());
        token = r.next_continuation_token;
    }
    EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));
    EXPECT_EQ(keys,
              (std::vector<std::string>{prefix + "f1", prefix + "f2", prefix + "f3", prefix + "f4", prefix + "f5"}));
}

TEST(S3Server, DeleteThenGetIsNoSuchKey) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/doomed.txt";
    ASSERT_TRUE(rp::s3_put(c, kBucket, key, "bye", "text/plain").ok());
    S3Result del = rp::s3_delete(c, kBucket, key);
    ASSERT_TRUE(del.ok()) << del.describe();
    EXPECT_EQ(del.http_status, 204);
    S3Result got = rp::s3_get(c, kBucket, key);
    EXPECT_FALSE(got.ok());
    EXPECT_TRUE(got.not_found());
    EXPECT_EQ(got.http_status, 404);
    EXPECT_EQ(got.error_code, "NoSuchKey");
    EXPECT_FALSE(got.error_message.empty());
    EXPECT_EQ(got.body, "") << "an error body is not handed out as the object";
    EXPECT_FALSE(got.retryable());
    EXPECT_NE(got.describe().find("NoSuchKey"), std::string::npos) << got.describe();
    S3Result head = rp::s3_head(c, kBucket, key);
    EXPECT_EQ(head.http_status, 404);
    S3Result bucket = rp::s3_get(c, "no-such-bucket-here", "x");
    EXPECT_EQ(bucket.error_code, "NoSuchBucket");
}

TEST(S3Server, WrongSecretIsSignatureDoesNotMatchWithoutTheSecret) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    c.secret_key = "wrong-secret-" + run_prefix();
    S3Result r = rp::s3_put(c, kBucket, run_prefix() + "/denied", "x", "text/plain");
    EXPECT_EQ(r.http_status, 403);
    EXPECT_EQ(r.error_code, "SignatureDoesNotMatch");
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.retryable());
    std::string all = r.describe() + r.error_message + r.curl_error + r.body;
    EXPECT_EQ(all.find(c.secret_key), std::string::npos) << all;
    EXPECT_EQ(all.find(server_config().secret_key), std::string::npos) << all;
    S3Result get = rp::s3_get(c, kBucket, run_prefix() + "/binary.bin");
    EXPECT_EQ(get.error_code, "SignatureDoesNotMatch");

    c = server_config();
    c.access_key = "nobody";
    EXPECT_EQ(rp::s3_get(c, kBucket, "x").error_code, "InvalidAccessKeyId");
}

TEST(S3Network, UnreachableEndpointIsAConnectionError) {
    S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
    c.access_key = "k";
    c.secret_key = "unreachable-secret";
    c.connect_timeout_ms = 2000;
    S3Result r = rp::s3_get(c, kBucket, "x");
    EXPECT_EQ(r.http_status, 0);
    EXPECT_EQ(r.curl_code, CURLE_COULDNT_CONNECT) << r.describe();
    EXPECT_FALSE(r.curl_error.empty());
    EXPECT_TRUE(r.retryable());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.describe().find("unreachable-secret"), std::string::npos);
}

TEST(S3Network, SilentServerTimesOut) {
    SilentServer silent;
    S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(silent.port);
    c.access_key = "k";
    c.secret_key = "s3cr3t-value";
    c.timeout_ms = 700;
    auto start = std::chrono::steady_clock::now();
    S3Result r = rp::s3_get(c, kBucket, "x");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.curl_code, CURLE_OPERATION_TIMEDOUT) << r.describe();
    EXPECT_LT(ms, 5000);
    EXPECT_TRUE(r.retryable());
}

std::atomic<bool> g_abort{false};
bool abort_flag(void *arg) {
    ++*static_cast<int *>(arg);
    return g_abort.load();
}

TEST(S3Network, AbortHookStopsAHangingTransfer) {
    SilentServer silent;
    S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(silent.port);
    c.access_key = "k";
    c.secret_key = "s3cr3t-value";
    c.timeout_ms = 60000;
    int calls = 0;
    c.should_abort = abort_flag;
    c.abort_arg = &calls;
    g_abort = false;
    std::thread setter([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        g_abort = true;
    });
    auto start = std::chrono::steady_clock::now();
    S3Result r = rp::s3_get(c, kBucket, "x");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    setter.join();
    EXPECT_TRUE(r.aborted);
    EXPECT_EQ(r.curl_code, CURLE_ABORTED_BY_CALLBACK);
    EXPECT_GE(ms, 250);
    EXPECT_LT(ms, 3000) << "the hook is consulted about once a second even with no traffic";
    EXPECT_GT(calls, 0);
    EXPECT_FALSE(r.retryable());
}

bool always(void *) {
    return true;
}

TEST(S3Server, AbortHookStopsADownload) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/big.bin";
    ASSERT_TRUE(rp::s3_put(c, kBucket, key, binary_bytes(4 << 20), "application/octet-stream").ok());
    c.should_abort = always;
    S3Result r = rp::s3_get(c, kBucket, key);
    EXPECT_TRUE(r.aborted);
    EXPECT_EQ(r.curl_code, CURLE_ABORTED_BY_CALLBACK);
    EXPECT_EQ(r.body, "");
}

TEST(S3Server, ResponsesOverTheCapAreRefused) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/capped.bin";
    ASSERT_TRUE(rp::s3_put(c, kBucket, key, binary_bytes(100 * 1024), "application/octet-stream").ok());
    c.max_response_bytes = 1000;
    S3Result r = rp::s3_get(c, kBucket, key);
    EXPECT_TRUE(r.too_large) << r.describe();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.body, "");
    S3Result head = rp::s3_head(c, kBucket, key);
    EXPECT_TRUE(head.ok()) << "HEAD reports the size without reading it: " << head.describe();
    EXPECT_EQ(head.content_length, 100 * 1024);
}

// The shape the worker's event loop will use: prepared handles on a multi handle, finished
// when libcurl reports them done.
TEST(S3Server, TransfersRunOnAMultiHandle) {
    REQUIRE_SERVER();
    S3Config c = server_config();
    std::string key = run_prefix() + "/multi.txt";
    ASSERT_TRUE(rp::s3_put(c, kBucket, key, "through multi", "text/plain").ok());
    rp::S3Request get;
    get.bucket = kBucket;
    get.key = key;
    rp::S3Request missing = get;
    missing.key = run_prefix() + "/not-there";
    S3Result refused;
    rp::S3TransferPtr a = rp::s3_prepare(c, get, &refused);
    rp::S3TransferPtr b = rp::s3_prepare(c, missing, &refused);
    ASSERT_TRUE(a && b);
    CURLM *multi = curl_multi_init();
    curl_multi_add_handle(multi, rp::s3_easy_handle(*a));
    curl_multi_add_handle(multi, rp::s3_easy_handle(*b));
    S3Result ra, rb;
    int running = 1, done = 0;
    while (done < 2) {
        curl_multi_perform(multi, &running);
        int queued = 0;
        while (CURLMsg *m = curl_multi_info_read(multi, &queued)) {
            if (m->msg != CURLMSG_DONE) continue;
            if (m->easy_handle == rp::s3_easy_handle(*a)) ra = rp::s3_finish(*a, m->data.result);
            if (m->easy_handle == rp::s3_easy_handle(*b)) rb = rp::s3_finish(*b, m->data.result);
            curl_multi_remove_handle(multi, m->easy_handle);
            done++;
        }
        if (done < 2) curl_multi_poll(multi, nullptr, 0, 200, nullptr);
    }
    curl_multi_cleanup(multi);
    EXPECT_TRUE(ra.ok()) << ra.describe();
    EXPECT_EQ(ra.body, "through multi");
    EXPECT_EQ(rb.error_code, "NoSuchKey");
}

}  // namespace

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!rp::s3_global_init()) return 2;
    return RUN_ALL_TESTS();
}
