// A small S3 client over libcurl: GetObject, PutObject (content type and x-amz-meta-* metadata),
// HeadObject, DeleteObject and ListObjectsV2, path-style (endpoint/bucket/key), signed with
// libcurl's own SigV4 (CURLOPT_AWS_SIGV4). Written for Supabase Storage's S3 endpoint, AWS and
// MinIO; tested against @20minutes/s3rver.
//
// Plain C++ like src/core: no Postgres header, and nothing but std::bad_alloc leaves the public
// API. Every outcome, success or failure, is an S3Result; its messages never contain the secret.
//
// A request is three steps so that a curl multi handle can drive it later from the worker's
// event loop: s3_prepare builds an easy handle (S3Transfer), the caller runs it, and s3_finish
// interprets the finished transfer. s3_perform does all three, blocking.
#pragma once
#include "../core/no_postgres.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

typedef void CURL;

namespace rp {

struct S3Config {
    // Base URL without the bucket: "https://<ref>.supabase.co/storage/v1/s3",
    // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000". A trailing '/' is ignored.
    std::string endpoint;
    std::string region = "us-east-1";
    std::string access_key;
    std::string secret_key;
    long connect_timeout_ms = 10000;
    long timeout_ms = 120000;  // whole transfer, upload or download
    // Largest response body accepted (a GET's object, an error or list document).
    uint64_t max_response_bytes = 64ull << 20;
    // Consulted about once a second and on every chunk of progress: true stops the transfer
    // (S3Result::aborted). Runs inside libcurl: it must not call Postgres, throw, or block.
    bool (*should_abort)(void *arg) = nullptr;
    void *abort_arg = nullptr;
};

enum class S3Method { Get, Put, Head, Delete, List };

struct S3Request {
    S3Method method = S3Method::Get;
    std::string bucket;
    std::string key;  // any UTF-8; percent-encoded here ('/' kept as a separator)
    // PUT only.
    std::string body;
    std::string content_type = "application/octet-stream";
    // Name (sent lower-cased) → non-empty printable ASCII value (S3 carries it in a header;
    // libcurl 7.88 cannot sign a header with an empty value).
    std::map<std::string, std::string> metadata;
    // List only.
    std::string prefix;
    std::string continuation_token;
    int max_keys = 0;  // 0: the server's default (1000)
};

struct S3Object {
    std::string key;
    uint64_t size = 0;
    std::string etag;
    std::string last_modified;
};

struct S3Result {
    // 0 when no HTTP response arrived (bad request, connection error, abort, timeout).
    long http_status = 0;
    // From S3's XML error body, when there is one (HEAD errors have no body).
    std::string error_code;     // "NoSuchKey", "SignatureDoesNotMatch", …
    std::string error_message;  // S3's Message
    // libcurl's view: CURLE_OK (0) when the exchange completed, whatever the status.
    int curl_code = 0;
    std::string curl_error;
    bool aborted = false;          // should_abort said so
    bool too_large = false;        // the response passed max_response_bytes
    bool invalid_request = false;  // refused before sending (bad key, header value, …)

    // GET: the object. Other requests: empty.
    std::string body;
    // GET/HEAD/PUT response headers.
    std::string content_type;
    int64_t content_length = -1;
    std::string etag;
    std::map<std::string, std::string> metadata;  // x-amz-meta-<name> (lower case) → value

    // List.
    std::vector<S3Object> objects;
    bool is_truncated = false;
    std::string next_continuation_token;

    bool ok() const {
        return curl_code == 0 && !invalid_request && http_status >= 200 && http_status < 300 && error_code.empty();
    }
    bool not_found() const { return http_status == 404; }
    // Worth another attempt later: connection trouble, timeouts, 408, 429 (Supabase's SlowDown), 5xx.
    bool retryable() const;
    // One line for logs and error messages: status, S3 code and message, or curl's error.
    std::string describe() const;
};

// One prepared request. Owns the easy handle and everything it points to (the config and request
// need not outlive it; abort_arg must). Keep it alive until s3_finish, and take its handle off a
// multi handle before destroying it.
class S3Transfer;
struct S3TransferDeleter {
    void operator()(S3Transfer *t) const;
};
using S3TransferPtr = std::unique_ptr<S3Transfer, S3TransferDeleter>;

// Once per process before any other call (curl_global_init is not thread-safe). Idempotent.
// False when libcurl could not be initialised.
bool s3_global_init();

// Builds the easy handle. On a request that cannot be sent (empty bucket or key, CR/LF or
// non-ASCII in a header value, empty metadata, …) returns null and fills *refused (invalid_request set).
// The request is taken by value: move a large PUT body in rather than copying it.
S3TransferPtr s3_prepare(const S3Config &config, S3Request request, S3Result *refused);
CURL *s3_easy_handle(S3Transfer &transfer);
// Interprets a transfer that ran to its end with `code` (what curl_easy_perform or a
// CURLMSG_DONE message reported).
S3Result s3_finish(S3Transfer &transfer, int code);

// prepare + curl_easy_perform + finish.
S3Result s3_perform(const S3Config &config, S3Request request);

// Conveniences over s3_perform.
S3Result s3_get(const S3Config &c, const std::string &bucket, const std::string &key);
S3Result s3_head(const S3Config &c, const std::string &bucket, const std::string &key);
S3Result s3_delete(const S3Config &c, const std::string &bucket, const std::string &key);
S3Result s3_put(const S3Config &c, const std::string &bucket, const std::string &key, std::string body,
                const std::string &content_type, const std::map<std::string, std::string> &metadata = {});
S3Result s3_list(const S3Config &c, const std::string &bucket, const std::string &prefix,
                 const std::string &continuation_token = "", int max_keys = 0);

// S3's URI encoding of one path: every byte but A-Z a-z 0-9 - _ . ~ as %XX, and '/' kept when
// keep_slash. Exposed for tests.
std::string s3_uri_encode(const std::string &s, bool keep_slash);

}  // namespace rp
