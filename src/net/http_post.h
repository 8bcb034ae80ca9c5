// One HTTPS POST of a JSON body, for the model client: bearer authorisation, explicit timeouts,
// a response size cap and an abort hook the caller consults (query cancel, shutdown). Plain
// C++ over libcurl; no Postgres header. Public functions never throw but std::bad_alloc.
#pragma once
#include "../core/no_postgres.h"

#include <cstdint>
#include <map>
#include <string>

namespace rp {

struct HttpPostConfig {
    std::string url;
    std::string bearer;  // sent as "Authorization: Bearer …"; never copied into a message
    long connect_timeout_ms = 10000;
    long timeout_ms = 60000;
    uint64_t max_response_bytes = 8u << 20;
    bool (*should_abort)(void *) = nullptr;  // polled while the transfer runs
    void *abort_arg = nullptr;
};

struct HttpPostResult {
    long status = 0;                            // 0: no HTTP answer (see error)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string error;  // transport failure, without the bearer
    bool timed_out = false;
    bool aborted = false;
    bool too_large = false;
};

// Only http:// and https:// URLs; no redirects are followed.
HttpPostResult http_post_json(const HttpPostConfig &config, const std::string &body);

}  // namespace rp
