// See http_post.h.
#include "http_post.h"

#include <curl/curl.h>

#include <cstring>
#include <new>

namespace rp {
namespace {

struct Transfer {
    const HttpPostConfig *config;
    HttpPostResult *result;
};

size_t on_body(char *data, size_t size, size_t n, void *arg) {
    auto *t = static_cast<Transfer *>(arg);
    size_t len = size * n;
    if (t->result->body.size() + len > t->config->max_response_bytes) {
        t->result->too_large = true;
        return 0;  // stops the transfer
    }
    t->result->body.append(data, len);
    return len;
}

size_t on_header(char *data, size_t size, size_t n, void *arg) {
    auto *t = static_cast<Transfer *>(arg);
    size_t len = size * n;
    std::string line(data, len);
    size_t colon = line.find(':');
    if (colon != std::string::npos && t->result->headers.size() < 200) {
        std::string name = line.substr(0, colon);
        for (char &c : name)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        std::string value = line.substr(colon + 1);
        size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t\r\n");
        t->result->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    }
    return len;
}

int on_progress(void *arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto *t = static_cast<Transfer *>(arg);
    if (t->config->should_abort && t->config->should_abort(t->config->abort_arg)) {
        t->result->aborted = true;
        return 1;
    }
    return 0;
}

}  // namespace

HttpPostResult http_post_json(const HttpPostConfig &config, const std::string &body) {
    HttpPostResult result;
    if (config.url.rfind("http://", 0) != 0 && config.url.rfind("https://", 0) != 0) {
        result.error = "the URL must start with http:// or https://";
        return result;
    }
    CURL *e = curl_easy_init();
    if (!e) throw std::bad_alloc();
    char curl_error[CURL_ERROR_SIZE] = {0};
    std::string auth = "Authorization: Bearer " + config.bearer;
    curl_slist *headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    if (!config.bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
    Transfer t{&config, &result};
    curl_easy_setopt(e, CURLOPT_URL, config.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, config.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, config.timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_error);
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        result.status = status;
    } else if (!result.aborted && !result.too_large) {
        result.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        result.error = curl_error[0] ? curl_error : curl_easy_strerror(rc);
        // libcurl never echoes request headers, but make sure the bearer cannot appear.
        if (!config.bearer.empty())
            for (size_t p; (p = result.error.find(config.bearer)) != std::string::npos;)
                result.error.replace(p, config.bearer.size(), "[redacted]");
    }
    return result;
}

}  // namespace rp
