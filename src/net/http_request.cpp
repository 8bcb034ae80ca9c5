// See http_request.h.
#include "http_request.h"

#include <curl/curl.h>

#include <cctype>
#include <cstring>
#include <new>
#include <utility>

namespace rp {

class HttpRequest {
public:
    CURL *easy = nullptr;
    curl_slist *headers = nullptr;
    std::string url;
    std::string authorization;  // the value, for redaction
    std::string body;           // CURLOPT_POSTFIELDS points into it
    uint64_t max_response_bytes = 0;
    size_t header_bytes = 0;  // of result.headers, names and values
    char curl_error[CURL_ERROR_SIZE] = {0};
    HttpResponse result;  // headers and body accumulate here

    ~HttpRequest() {
        if (easy) curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
    }
};

void HttpRequestDeleter::operator()(HttpRequest *p) const {
    delete p;
}

namespace {

constexpr size_t kMaxUrlBytes = 8192;
constexpr size_t kMaxHeaderValueBytes = 8192;

std::string lower(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool token_char(unsigned char c) {
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Names libcurl writes itself to frame the message or the connection.
bool reserved_header(const std::string &lower_name) {
    static const char *const kReserved[] = {
        "host", "content-length", "transfer-encoding", "connection", "expect",
        "te",   "upgrade",        "keep-alive",        "trailer",    "proxy-connection"};
    for (const char *r : kReserved)
        if (lower_name == r) return true;
    return false;
}

size_t on_body(char *data, size_t size, size_t n, void *arg) {
    auto *p = static_cast<HttpRequest *>(arg);
    size_t len = size * n;
    if (p->result.body.size() + len > p->max_response_bytes) {
        p->result.too_large = true;
        return 0;  // CURLE_WRITE_ERROR stops the transfer
    }
    try {
        p->result.body.append(data, len);
    } catch (...) {
        p->result.aborted = true;
        return 0;  // out of memory: fail the transfer rather than unwind through libcurl
    }
    return len;
}

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

void keep_header(HttpRequest &p, const std::string &name, const std::string &value) {
    HttpResponse &r = p.result;
    auto it = r.headers.find(name);
    if (it == r.headers.end()) {
        if (r.headers.size() >= kMaxResponseHeaders ||
            p.header_bytes + name.size() + value.size() > kMaxResponseHeaderBytes) {
            r.headers_truncated = true;
            return;
        }
        r.headers.emplace(name, value);
        p.header_bytes += name.size() + value.size();
        return;
    }
    // link: every page relation counts ("next" may come in a second header); others: last wins.
    std::string joined = name == "link" && !it->second.empty() ? it->second + ", " + value : value;
    if (p.header_bytes - it->second.size() + joined.size() > kMaxResponseHeaderBytes) {
        r.headers_truncated = true;
        return;
    }
    p.header_bytes = p.header_bytes - it->second.size() + joined.size();
    it->second = std::move(joined);
}

size_t on_header(char *data, size_t size, size_t n, void *arg) {
    auto *p = static_cast<HttpRequest *>(arg);
    size_t len = size * n;
    try {
        std::string line(data, len);
        if (line.compare(0, 5, "HTTP/") == 0) {  // a new response (after a 1xx): start over
            p->result.headers.clear();
            p->result.headers_truncated = false;
            p->header_bytes = 0;
            return len;
        }
        size_t colon = line.find(':');
        if (colon == std::string::npos || colon == 0) return len;  // the blank line, a folded line
        std::string name = lower(line.substr(0, colon));
        for (char c : name)
            if (!token_char(static_cast<unsigned char>(c))) return len;
        keep_header(*p, name, trim(line.substr(colon + 1)));
    } catch (...) {
        p->result.aborted = true;
        return 0;
    }
    return len;
}

void redact(std::string &s, const std::string &secret) {
    if (secret.empty()) return;
    for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
        s.replace(at, secret.size(), "[redacted]");
}

std::string url_problem(const std::string &url) {
    std::string head = lower(url.substr(0, 8));
    if (head.compare(0, 7, "http://") != 0 && head.compare(0, 8, "https://") != 0)
        return "the URL must start with http:// or https://";
    if (url.size() > kMaxUrlBytes) return "the URL is longer than " + std::to_string(kMaxUrlBytes) + " bytes";
    for (unsigned char c : url)
        if (c <= 0x20 || c >= 0x7f) return "the URL must be printable ASCII without spaces (percent-encode the rest)";
    return "";
}

void append_header(curl_slist *&list, const std::string &line) {
    curl_slist *next = curl_slist_append(list, line.c_str());
    if (!next) throw std::bad_alloc();
    list = next;
}

HttpRequestPtr refuse(HttpResponse *refused, const std::string &why) {
    if (refused) {
        *refused = HttpResponse();
        refused->refused = true;
        refused->error = why;
    }
    return nullptr;
}

}  // namespace

std::string http_header_problem(const std::string &name, const std::string &value) {
    if (name.empty()) return "a header name is empty";
    if (name.size() > 256) return "a header name is longer than 256 bytes";
    for (char c : name)
        if (!token_char(static_cast<unsigned char>(c)))
            return "header name \"" + name.substr(0, 64) + "\" has a character not allowed in a name";
    if (reserved_header(lower(name))) return "header " + name + " is set by the HTTP client itself";
    if (value.size() > kMaxHeaderValueBytes)
        return "the value of header " + name + " is longer than " + std::to_string(kMaxHeaderValueBytes) + " bytes";
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0') return "the value of header " + name + " contains CR, LF or NUL";
    return "";
}

HttpRequestPtr http_request_prepare(HttpRequestConfig config, HttpResponse *refused) {
    if (std::string why = url_problem(config.url); !why.empty()) return refuse(refused, why);
    if (config.method == HttpMethod::Get && config.has_body) return refuse(refused, "a GET request has no body");
    if (config.authorization.find_first_of("\r\n", 0) != std::string::npos ||
        config.authorization.find('\0') != std::string::npos)
        return refuse(refused, "the authorization value contains CR, LF or NUL");
    bool content_type = false, user_agent = false;
    for (const auto &[name, value] : config.headers) {
        if (std::string why = http_header_problem(name, value); !why.empty()) return refuse(refused, why);
        std::string l = lower(name);
        content_type = content_type || l == "content-type";
        user_agent = user_agent || l == "user-agent";
        if (l == "authorization" && !config.authorization.empty())
            return refuse(refused, "an Authorization header and an added key together");
    }

    HttpRequestPtr p(new HttpRequest);
    p->easy = curl_easy_init();
    if (!p->easy) throw std::bad_alloc();
    p->url = std::move(config.url);
    p->authorization = std::move(config.authorization);
    p->body = std::move(config.body);  // a model request can be megabytes: not copied
    p->max_response_bytes = config.max_response_bytes;
    // No 100-continue round trip: the server answers the whole request.
    append_header(p->headers, "Expect:");
    for (const auto &[name, value] : config.headers)
        append_header(p->headers, value.empty() ? name + ";" : name + ": " + value);  // "X;" sends it empty
    if (config.has_body && !content_type && !config.default_content_type.empty())
        append_header(p->headers, "Content-Type: " + config.default_content_type);
    if (!p->authorization.empty()) append_header(p->headers, "Authorization: " + p->authorization);

    CURL *e = p->easy;
    curl_easy_setopt(e, CURLOPT_URL, p->url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, config.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, config.timeout_ms);
    if (!user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, config.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    switch (config.method) {
        case HttpMethod::Get:
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
            break;
        case HttpMethod::Post:
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            break;
        case HttpMethod::Put:
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
            break;
        case HttpMethod::Patch:
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
            break;
        case HttpMethod::Delete:
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
            break;
    }
    // POST, PUT and PATCH always send a body (perhaps empty, with Content-Length: 0); DELETE
    // only when it has one.
    if (config.method != HttpMethod::Get && (config.has_body || config.method != HttpMethod::Delete)) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p->body.size()));
    }
    // A Content-Length over the cap fails before the body is read.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(config.max_response_bytes));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, p.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, p.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->curl_error);
    return p;
}

CURL *http_request_easy_handle(HttpRequest &request) {
    return request.easy;
}

HttpResponse http_request_finish(HttpRequest &p, int code) {
    HttpResponse r = std::move(p.result);
    p.result = HttpResponse();
    if (code == CURLE_FILESIZE_EXCEEDED) r.too_large = true;
    if (code == CURLE_OK) {
        curl_easy_getinfo(p.easy, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }
    r.status = 0;
    r.body.clear();
    r.headers.clear();
    if (r.too_large) {
        r.error = "the answer is larger than " + std::to_string(p.max_response_bytes) + " bytes";
        return r;
    }
    if (r.aborted) {
        r.error = "the transfer was stopped: out of memory";
        return r;
    }
    r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    r.error = p.curl_error[0] ? p.curl_error : curl_easy_strerror(static_cast<CURLcode>(code));
    // libcurl never echoes request headers, but make sure the key cannot appear, alone
    // ("Bearer KEY" → KEY) or whole.
    redact(r.error, p.authorization);
    size_t space = p.authorization.rfind(' ');
    if (space != std::string::npos) redact(r.error, p.authorization.substr(space + 1));
    return r;
}

}  // namespace rp
