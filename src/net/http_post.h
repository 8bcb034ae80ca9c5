// One HTTP POST of a JSON body, for the model client: bearer authorisation, explicit timeouts and
// a response size cap. Plain C++ over libcurl; no Postgres header. Public functions never throw
// but std::bad_alloc.
//
// Three steps, like s3_client.h, so that a curl multi handle driven by the backend's event loop
// runs the transfer (src/pg/net_client.cpp): http_post_prepare builds an easy handle (HttpPost),
// the caller runs it, and http_post_finish reads the finished transfer. Stopping a transfer is
// the caller's: it takes the handle off its multi handle.
#pragma once
#include "../core/no_postgres.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

typedef void CURL;

namespace rp {

struct HttpPostConfig {
    std::string url;     // http:// or https:// only; redirects are not followed
    std::string bearer;  // sent as "Authorization: Bearer …"; never copied into a message
    long connect_timeout_ms = 10000;
    long timeout_ms = 60000;
    uint64_t max_response_bytes = 8u << 20;
};

struct HttpPostResult {
    long status = 0;                             // 0: no HTTP answer (see error)
    std::map<std::string, std::string> headers;  // of the last response; names lower-cased
    std::string body;
    std::string error;     // transport failure or refusal, without the bearer
    bool refused = false;  // not sent: the URL is not http(s)
    bool timed_out = false;
    bool too_large = false;  // the body passed max_response_bytes (and was dropped)
};

// One prepared POST. Owns the easy handle and everything it points to (the config need not
// outlive it). Take its handle off a multi handle before destroying it.
class HttpPost;
struct HttpPostDeleter {
    void operator()(HttpPost *p) const;
};
using HttpPostPtr = std::unique_ptr<HttpPost, HttpPostDeleter>;

// Builds the easy handle; the body is moved in. Null with *refused filled (refused set) when the
// request cannot be sent. curl_global_init is the caller's.
HttpPostPtr http_post_prepare(const HttpPostConfig &config, std::string body, HttpPostResult *refused);
CURL *http_post_easy_handle(HttpPost &post);
// Reads a transfer that ran to its end with `code` (a CURLMSG_DONE message's result).
HttpPostResult http_post_finish(HttpPost &post, int code);

}  // namespace rp
