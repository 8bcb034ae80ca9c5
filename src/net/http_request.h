// One HTTP request of any method to any http(s) URL, for call jobs (GitHub, a LinkedIn-profile
// provider, webhooks, the model's other endpoints): caller-chosen headers (checked: a header
// cannot smuggle another line), an optional Authorization value kept out of every message,
// explicit timeouts, a response size cap, and the response headers kept in a bounded map.
// Redirects are not followed: a 3xx is an answer like any other. Plain C++ over libcurl; no
// Postgres header. Public functions never throw but std::bad_alloc.
//
// Three steps, like s3_client.h, so that a curl multi handle driven by the backend's event loop
// runs the transfer (src/pg/net_client.cpp, which also sends the model's POST through here):
// http_request_prepare builds an easy handle, the caller runs it, http_request_finish reads the
// finished transfer. Stopping a transfer is the caller's: it takes the handle off its multi handle.
#pragma once
#include "../core/no_postgres.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

typedef void CURL;

namespace rp {

enum class HttpMethod { Get, Post, Put, Patch, Delete };

struct HttpRequestConfig {
    HttpMethod method = HttpMethod::Get;
    std::string url;  // http:// or https:// only
    // Sent as given, in order; names are HTTP tokens, values without CR, LF or NUL. Names that
    // frame the message (Host, Content-Length, Transfer-Encoding, Connection, Expect, …) are
    // libcurl's alone and refused.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string authorization;  // value of an Authorization header ("Bearer …"); never in a message
    bool has_body = false;      // GET never has one
    std::string body;
    std::string default_content_type = "application/json";  // for a body, unless a header names one
    std::string user_agent = "resume_pipeline/0.1";         // unless a header names one
    long connect_timeout_ms = 10000;
    long timeout_ms = 60000;
    uint64_t max_response_bytes = 8u << 20;
};

// Bounds on the response headers kept (the rest are dropped, headers_truncated set).
constexpr size_t kMaxResponseHeaders = 100;
constexpr size_t kMaxResponseHeaderBytes = 64 * 1024;  // names and values together

struct HttpResponse {
    long status = 0;  // 0: no complete HTTP answer (see error)
    // Of the final response; names lower-cased; a repeated header keeps its last value, except
    // link, whose values are joined with ", ".
    std::map<std::string, std::string> headers;
    bool headers_truncated = false;
    std::string body;
    std::string error;       // why there is no answer, without the authorization value
    bool refused = false;    // not sent (bad URL, method, header)
    bool timed_out = false;  // timeout_ms (or the connect timeout) passed
    bool too_large = false;  // the body passed max_response_bytes (and was dropped)
    bool aborted = false;    // stopped from inside (out of memory in a callback)
};

class HttpRequest;
struct HttpRequestDeleter {
    void operator()(HttpRequest *p) const;
};
using HttpRequestPtr = std::unique_ptr<HttpRequest, HttpRequestDeleter>;

// Why a header cannot be sent as given (empty when it can).
std::string http_header_problem(const std::string &name, const std::string &value);

// Builds the easy handle; the config is taken (move it in to spare copying the body), so it need
// not outlive the request. Null with *refused filled (refused set) when the request cannot be
// sent. curl_global_init is the caller's.
HttpRequestPtr http_request_prepare(HttpRequestConfig config, HttpResponse *refused);
CURL *http_request_easy_handle(HttpRequest &request);
// Reads a transfer that ran to its end with `code` (a CURLMSG_DONE message's result).
HttpResponse http_request_finish(HttpRequest &request, int code);

}  // namespace rp
