// S3 requests over libcurl. libcurl signs them (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"); this
// file builds the URL (path-style, S3's URI encoding, the ListObjectsV2 query in canonical
// order), adds x-amz-content-sha256 (libcurl 7.88 does not, and S3 requires it), collects the
// response with a size cap and an abort hook, and reads S3's XML with libxml2.
#include "s3_client.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

namespace rp {

class S3Transfer {
public:
    CURL *easy = nullptr;
    curl_slist *headers = nullptr;
    S3Method method = S3Method::Get;
    std::string url;
    std::string body;    // PUT payload; CURLOPT_POSTFIELDS points into it
    std::string secret;  // only to scrub it from messages
    bool (*should_abort)(void *) = nullptr;
    void *abort_arg = nullptr;
    uint64_t max_response_bytes = 0;
    char curl_error[CURL_ERROR_SIZE] = {0};
    S3Result result;  // headers and body accumulate here

    ~S3Transfer() {
        if (easy) curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
    }
};

void S3TransferDeleter::operator()(S3Transfer *t) const {
    delete t;
}

namespace {

const char kHex[] = "0123456789ABCDEF";
const char kLowerHex[] = "0123456789abcdef";

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

std::string lower(std::string s) {
    for (char &c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Printable ASCII: what an HTTP header value can carry without encoding (and what Supabase
// returns as metadata).
bool header_value_ok(const std::string &v) {
    for (unsigned char c : v)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

// An HTTP token (RFC 9110), which a metadata name becomes part of.
bool header_name_ok(const std::string &n) {
    if (n.empty()) return false;
    for (unsigned char c : n)
        if (!unreserved(c) && (c == 0 || std::strchr("!#$%&'*+^`|", c) == nullptr)) return false;
    return true;
}

std::string sha256_hex(const std::string &data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; i++) {
        out += kLowerHex[md[i] >> 4];
        out += kLowerHex[md[i] & 15];
    }
    return out;
}

void scrub(std::string &s, const std::string &secret) {
    if (secret.size() < 4) return;
    for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
        s.replace(at, secret.size(), "***");
}

bool append_header(S3Transfer &t, const std::string &line) {
    curl_slist *next = curl_slist_append(t.headers, line.c_str());
    if (!next) return false;
    t.headers = next;
    return true;
}

size_t on_body(char *data, size_t size, size_t n, void *arg) {
    auto *t = static_cast<S3Transfer *>(arg);
    size_t len = size * n;
    if (t->result.body.size() + len > t->max_response_bytes) {
        t->result.too_large = true;
        return 0;  // CURLE_WRITE_ERROR
    }
    try {
        t->result.body.append(data, len);
    } catch (...) {
        return 0;  // out of memory: fail the transfer rather than unwind through libcurl
    }
    return len;
}

size_t on_header(char *data, size_t size, size_t n, void *arg) {
    auto *t = static_cast<S3Transfer *>(arg);
    size_t len = size * n;
    try {
        std::string line(data, len);
        S3Result &r = t->result;
        if (line.compare(0, 5, "HTTP/") == 0) {  // a new response (after a 100 Continue): start over
            r.content_type.clear();
            r.content_length = -1;
            r.etag.clear();
            r.metadata.clear();
            return len;
        }
        size_t colon = line.find(':');
        if (colon == std::string::npos) return len;
        std::string name = lower(trim(line.substr(0, colon)));
        std::string value = trim(line.substr(colon + 1));
        if (name == "content-type") {
            r.content_type = value;
        } else if (name == "content-length") {
            char *end = nullptr;
            long long v = std::strtoll(value.c_str(), &end, 10);
            if (end && *end == '\0' && v >= 0) r.content_length = v;
        } else if (name == "etag") {
            r.etag = value;
        } else if (name.compare(0, 11, "x-amz-meta-") == 0 && name.size() > 11) {
            r.metadata[name.substr(11)] = value;
        }
    } catch (...) {
        return 0;
    }
    return len;
}

int on_progress(void *arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto *t = static_cast<S3Transfer *>(arg);
    if (t->should_abort && t->should_abort(t->abort_arg)) {
        t->result.aborted = true;
        return 1;  // CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
}

// libxml2 helpers: S3 documents carry a default namespace (or none, as s3rver's); match local
// names only.
bool named(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char *>(n->name), name) == 0;
}

std::string text_of(const xmlNode *n) {
    xmlChar *s = xmlNodeGetContent(n);
    if (!s) return "";
    std::string out(reinterpret_cast<const char *>(s));
    xmlFree(s);
    return out;
}

struct XmlDoc {
    xmlDoc *doc = nullptr;
    explicit XmlDoc(const std::string &body) {
        if (body.empty() || body.size() > static_cast<size_t>(INT32_MAX)) return;
        doc = xmlReadMemory(body.data(), static_cast<int>(body.size()), "s3.xml", nullptr,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    }
    ~XmlDoc() {
        if (doc) xmlFreeDoc(doc);
    }
    XmlDoc(const XmlDoc &) = delete;
    XmlDoc &operator=(const XmlDoc &) = delete;
    const xmlNode *root() const { return doc ? xmlDocGetRootElement(doc) : nullptr; }
};

void parse_error(S3Result &r) {
    XmlDoc doc(r.body);
    const xmlNode *root = doc.root();
    if (!root || !named(root, "Error")) return;
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (named(c, "Code")) r.error_code = text_of(c);
        if (named(c, "Message")) r.error_message = text_of(c);
    }
}

bool parse_list(S3Result &r) {
    XmlDoc doc(r.body);
    const xmlNode *root = doc.root();
    if (!root || !named(root, "ListBucketResult")) return false;
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (named(c, "IsTruncated")) {
            r.is_truncated = text_of(c) == "true";
        } else if (named(c, "NextContinuationToken")) {
            r.next_continuation_token = text_of(c);
        } else if (named(c, "Contents")) {
            S3Object o;
            for (const xmlNode *f = c->children; f; f = f->next) {
                if (named(f, "Key")) o.key = text_of(f);
                if (named(f, "Size")) o.size = std::strtoull(text_of(f).c_str(), nullptr, 10);
                if (named(f, "ETag")) o.etag = text_of(f);
                if (named(f, "LastModified")) o.last_modified = text_of(f);
            }
            r.objects.push_back(std::move(o));
        }
    }
    return true;
}

S3Result refused(const std::string &why) {
    S3Result r;
    r.invalid_request = true;
    r.error_message = why;
    return r;
}

std::string list_query(const S3Request &req) {
    // Sorted by parameter name, each value encoded as SigV4 canonicalises it, so the query
    // libcurl signs is already the canonical one.
    std::string q;
    if (!req.continuation_token.empty())
        q += "continuation-token=" + s3_uri_encode(req.continuation_token, false) + "&";
    q += "list-type=2";
    if (req.max_keys > 0) q += "&max-keys=" + std::to_string(req.max_keys);
    if (!req.prefix.empty()) q += "&prefix=" + s3_uri_encode(req.prefix, false);
    return q;
}

// Everything but the easy handle's options: checks and the strings the handle points to.
S3Result check(const S3Config &config, const S3Request &req) {
    if (config.endpoint.compare(0, 7, "http://") != 0 && config.endpoint.compare(0, 8, "https://") != 0)
        return refused("the S3 endpoint must start with http:// or https://");
    if (config.access_key.empty() || config.secret_key.empty()) return refused("S3 credentials are not set");
    if (config.region.empty() || !header_value_ok(config.region) || config.region.find(':') != std::string::npos)
        return refused("bad S3 region");
    if (req.bucket.empty() || req.bucket.find('/') != std::string::npos) return refused("bad bucket name");
    if (req.method != S3Method::List) {
        if (req.key.empty()) return refused("empty object key");
        if (req.key.size() > 1024) return refused("object key longer than 1024 bytes");
        if (req.key.find('\0') != std::string::npos) return refused("object key contains a NUL byte");
    }
    if (req.method == S3Method::Put) {
        if (!header_value_ok(req.content_type)) return refused("content type is not printable ASCII");
        for (const auto &m : req.metadata) {
            if (!header_name_ok(m.first)) return refused("bad metadata name \"" + m.first + "\"");
            // libcurl 7.88 signs "Name;" (its empty-header syntax) as "name;" in SignedHeaders,
            // which no server accepts.
            if (m.second.empty()) return refused("metadata \"" + m.first + "\" is empty");
            if (!header_value_ok(m.second))
                return refused("metadata \"" + m.first + "\" is not printable ASCII (S3 sends it as a header)");
        }
    }
    return S3Result();
}

}  // namespace

bool s3_global_init() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        xmlInitParser();
    });
    return ok;
}

std::string s3_uri_encode(const std::string &s, bool keep_slash) {
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if (unreserved(c) || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

bool S3Result::retryable() const {
    if (aborted || too_large || invalid_request) return false;
    switch (curl_code) {
        case CURLE_OK:
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
            return true;
        default:
            return false;
    }
    return http_status == 408 || http_status == 429 || http_status >= 500 || error_code == "SlowDown" ||
           error_code == "RequestTimeout";
}

std::string S3Result::describe() const {
    if (invalid_request) return "S3 request refused: " + error_message;
    if (aborted) return "S3 transfer aborted";
    if (too_large) return "S3 response larger than the configured limit";
    if (curl_code != 0) {
        std::string s = "S3 transfer failed: ";
        s += curl_error.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code)) : curl_error;
        return s + " (curl error " + std::to_string(curl_code) + ")";
    }
    std::string s = "S3 HTTP " + std::to_string(http_status);
    if (!error_code.empty()) s += " " + error_code;
    if (!error_message.empty()) s += ": " + error_message;
    return s;
}

S3TransferPtr s3_prepare(const S3Config &config, S3Request req, S3Result *refusal) {
    S3Result checked = check(config, req);
    if (checked.invalid_request) {
        if (refusal) *refusal = std::move(checked);
        return nullptr;
    }
    if (!s3_global_init()) {
        if (refusal) *refusal = refused("libcurl could not be initialised");
        return nullptr;
    }
    S3TransferPtr t(new S3Transfer);
    t->easy = curl_easy_init();
    if (!t->easy) throw std::bad_alloc();
    t->method = req.method;
    t->secret = config.secret_key;
    t->should_abort = config.should_abort;
    t->abort_arg = config.abort_arg;
    t->max_response_bytes = config.max_response_bytes;

    std::string base = config.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    t->url = base + "/" + s3_uri_encode(req.bucket, false);
    if (req.method == S3Method::List)
        t->url += "?" + list_query(req);
    else
        t->url += "/" + s3_uri_encode(req.key, true);

    if (req.method == S3Method::Put) t->body = std::move(req.body);
    // No "Expect:" to suppress 100-continue: libcurl 7.88 signs a removed header as if sent.
    bool ok = append_header(*t, "x-amz-content-sha256: " + sha256_hex(t->body));
    if (req.method == S3Method::Put) {
        ok = ok && append_header(*t, "Content-Type: " + req.content_type);
        for (const auto &m : req.metadata)
            ok = ok && append_header(*t, "x-amz-meta-" + lower(m.first) + ": " + m.second);
    }
    if (!ok) throw std::bad_alloc();

    CURL *e = t->easy;
    std::string sigv4 = "aws:amz:" + config.region + ":s3";
    curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // a key's "." and ".." segments are names, not paths
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, config.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, config.timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "resume_pipeline");
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, config.access_key.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, config.secret_key.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    switch (req.method) {
        case S3Method::Get:
        case S3Method::List:
            // A Content-Length over the cap fails before the body is read.
            curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(config.max_response_bytes));
            break;
        case S3Method::Head:
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
            break;
        case S3Method::Delete:
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
            break;
        case S3Method::Put:
            // The body goes as POSTFIELDS under the PUT verb: libcurl then knows it in full, and
            // the payload hash it may compute itself agrees with x-amz-content-sha256.
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
            break;
    }
    return t;
}

CURL *s3_easy_handle(S3Transfer &transfer) {
    return transfer.easy;
}

S3Result s3_finish(S3Transfer &t, int code) {
    S3Result r = std::move(t.result);
    t.result = S3Result();
    r.curl_code = code;
    if (code == CURLE_FILESIZE_EXCEEDED) r.too_large = true;
    if (code != CURLE_OK) {
        r.curl_error = t.curl_error[0] ? t.curl_error : curl_easy_strerror(static_cast<CURLcode>(code));
        scrub(r.curl_error, t.secret);
        r.body.clear();
        return r;
    }
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.http_status);
    if (r.http_status < 200 || r.http_status >= 300) {
        parse_error(r);
        r.body.clear();
    } else if (t.method == S3Method::List) {
        if (!parse_list(r)) {
            r.error_code = "InvalidResponse";
            r.error_message = "the ListObjectsV2 response is not a ListBucketResult document";
        }
        r.body.clear();
    } else if (t.method != S3Method::Get) {
        r.body.clear();
    }
    scrub(r.error_code, t.secret);
    scrub(r.error_message, t.secret);
    return r;
}

S3Result s3_perform(const S3Config &config, S3Request request) {
    S3Result refusal;
    S3TransferPtr t = s3_prepare(config, std::move(request), &refusal);
    if (!t) return refusal;
    CURLcode code = curl_easy_perform(t->easy);
    return s3_finish(*t, code);
}

S3Result s3_get(const S3Config &c, const std::string &bucket, const std::string &key) {
    S3Request r;
    r.method = S3Method::Get;
    r.bucket = bucket;
    r.key = key;
    return s3_perform(c, std::move(r));
}

S3Result s3_head(const S3Config &c, const std::string &bucket, const std::string &key) {
    S3Request r;
    r.method = S3Method::Head;
    r.bucket = bucket;
    r.key = key;
    return s3_perform(c, std::move(r));
}

S3Result s3_delete(const S3Config &c, const std::string &bucket, const std::string &key) {
    S3Request r;
    r.method = S3Method::Delete;
    r.bucket = bucket;
    r.key = key;
    return s3_perform(c, std::move(r));
}

S3Result s3_put(const S3Config &c, const std::string &bucket, const std::string &key, std::string body,
                const std::string &content_type, const std::map<std::string, std::string> &metadata) {
    S3Request r;
    r.method = S3Method::Put;
    r.bucket = bucket;
    r.key = key;
    r.body = std::move(body);
    if (!content_type.empty()) r.content_type = content_type;
    r.metadata = metadata;
    return s3_perform(c, std::move(r));
}

S3Result s3_list(const S3Config &c, const std::string &bucket, const std::string &prefix,
                 const std::string &continuation_token, int max_keys) {
    S3Request r;
    r.method = S3Method::List;
    r.bucket = bucket;
    r.prefix = prefix;
    r.continuation_token = continuation_token;
    r.max_keys = max_keys;
    return s3_perform(c, std::move(r));
}

}  // namespace rp
