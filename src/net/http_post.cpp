// See http_post.h.
#include "http_post.h"

#include <curl/curl.h>

#include <new>
#include <utility>

namespace rp {

class HttpPost {
public:
    CURL *easy = nullptr;
    curl_slist *headers = nullptr;
    std::string url;
    std::string auth;  // the Authorization header line
    std::string bearer;
    std::string body;  // CURLOPT_POSTFIELDS points into it
    uint64_t max_response_bytes = 0;
    char curl_error[CURL_ERROR_SIZE] = {0};
    HttpPostResult result;  // headers and body accumulate here

    ~HttpPost() {
        if (easy) curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
    }
};

void HttpPostDeleter::operator()(HttpPost *p) const {
    delete p;
}

namespace {

size_t on_body(char *data, size_t size, size_t n, void *arg) {
    auto *p = static_cast<HttpPost *>(arg);
    size_t len = size * n;
    if (p->result.body.size() + len > p->max_response_bytes) {
        p->result.too_large = true;
        return 0;  // CURLE_WRITE_ERROR stops the transfer
    }
    try {
        p->result.body.append(data, len);
    } catch (...) {
        return 0;  // out of memory: fail the transfer rather than unwind through libcurl
    }
    return len;
}

size_t on_header(char *data, size_t size, size_t n, void *arg) {
    auto *p = static_cast<HttpPost *>(arg);
    size_t len = size * n;
    try {
        std::string line(data, len);
        if (line.compare(0, 5, "HTTP/") == 0) {  // a new response (after a 100 Continue): start over
            p->result.headers.clear();
            return len;
        }
        size_t colon = line.find(':');
        if (colon != std::string::npos && p->result.headers.size() < 200) {
            std::string name = line.substr(0, colon);
            for (char &c : name)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            std::string value = line.substr(colon + 1);
            size_t b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t\r\n");
            p->result.headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
        }
    } catch (...) {
        return 0;
    }
    return len;
}

void redact(std::string &s, const std::string &secret) {
    if (secret.empty()) return;
    for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
        s.replace(at, secret.size(), "[redacted]");
}

}  // namespace

HttpPostPtr http_post_prepare(const HttpPostConfig &config, std::string body, HttpPostResult *refused) {
    if (config.url.rfind("http://", 0) != 0 && config.url.rfind("https://", 0) != 0) {
        if (refused) {
            *refused = HttpPostResult();
            refused->refused = true;
            refused->error = "the URL must start with http:// or https://";
        }
        return nullptr;
    }
    HttpPostPtr p(new HttpPost);
    p->easy = curl_easy_init();
    if (!p->easy) throw std::bad_alloc();
    p->url = config.url;
    p->bearer = config.bearer;
    p->body = std::move(body);
    p->max_response_bytes = config.max_response_bytes;
    p->auth = "Authorization: Bearer " + config.bearer;
    for (const char *line : {"Content-Type: application/json", "Accept: application/json", "Expect:"}) {
        curl_slist *next = curl_slist_append(p->headers, line);
        if (!next) throw std::bad_alloc();
        p->headers = next;
    }
    if (!config.bearer.empty()) {
        curl_slist *next = curl_slist_append(p->headers, p->auth.c_str());
        if (!next) throw std::bad_alloc();
        p->headers = next;
    }
    CURL *e = p->easy;
    curl_easy_setopt(e, CURLOPT_URL, p->url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, config.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, config.timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "resume_pipeline");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p->body.size()));
    // A Content-Length over the cap fails before the body is read.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(config.max_response_bytes));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->curl_error);
    return p;
}

CURL *http_post_easy_handle(HttpPost &post) {
    return post.easy;
}

HttpPostResult http_post_finish(HttpPost &p, int code) {
    HttpPostResult r = std::move(p.result);
    p.result = HttpPostResult();
    if (code == CURLE_FILESIZE_EXCEEDED) r.too_large = true;
    if (code == CURLE_OK) {
        curl_easy_getinfo(p.easy, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }
    r.status = 0;
    r.body.clear();
    if (r.too_large) return r;
    r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    r.error = p.curl_error[0] ? p.curl_error : curl_easy_strerror(static_cast<CURLcode>(code));
    // libcurl never echoes request headers, but make sure the bearer cannot appear.
    redact(r.error, p.bearer);
    return r;
}

}  // namespace rp
