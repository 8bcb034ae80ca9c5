// See s3_bridge.h. No Postgres header here: only plain C types cross this line.
#include "s3_bridge.h"
#include "bridge_copy.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <new>
#include <string>

#include "../net/s3_client.h"

namespace {

using rp::copy_out;

bool call_abort(void *arg) {
    auto *call = static_cast<RpS3Call *>(arg);
    return call->should_abort && call->should_abort(nullptr);
}

char *dup(const std::string &s) {
    auto *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

// S3's LastModified, "2024-05-01T10:00:00.123Z" (ISO 8601 in UTC), as seconds since the epoch;
// -1 for anything else, which the sweep then treats as too recent to touch.
double parse_time(const std::string &s) {
    int y, mo, d, h, mi, sec, used = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return -1;
    double frac = 0;
    const char *rest = s.c_str() + used;
    if (*rest == '.') {
        double scale = 0.1;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10) frac += (*rest - '0') * scale;
    }
    if (std::strcmp(rest, "Z") != 0) return -1;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    return t == static_cast<time_t>(-1) ? -1 : static_cast<double>(t) + frac;
}

rp::S3Method method_of(RpS3Method m) {
    switch (m) {
        case RP_S3_PUT:
            return rp::S3Method::Put;
        case RP_S3_HEAD:
            return rp::S3Method::Head;
        case RP_S3_DELETE:
            return rp::S3Method::Delete;
        case RP_S3_LIST:
            return rp::S3Method::List;
        case RP_S3_GET:
            break;
    }
    return rp::S3Method::Get;
}

void run(RpS3Call *call) {
    rp::S3Config config;
    config.endpoint = call->endpoint;
    config.region = call->region;
    config.access_key = call->access_key;
    config.secret_key = call->secret_key;
    config.timeout_ms = call->timeout_ms;
    if (call->connect_timeout_ms > 0) config.connect_timeout_ms = call->connect_timeout_ms;
    config.max_response_bytes = call->max_bytes;
    config.should_abort = call_abort;
    config.abort_arg = call;

    rp::S3Request req;
    req.method = method_of(call->method);
    req.bucket = call->bucket ? call->bucket : "";
    if (call->method == RP_S3_LIST) {
        req.prefix = call->prefix ? call->prefix : "";
        req.continuation_token = call->continuation_token ? call->continuation_token : "";
        req.max_keys = call->max_keys;
    } else {
        req.key = call->key ? call->key : "";
    }
    if (call->method == RP_S3_PUT) {
        req.body.assign(call->body ? call->body : "", call->body_len);
        if (call->content_type && *call->content_type) req.content_type = call->content_type;
        for (int i = 0; i < call->nmeta; i++) req.metadata[call->meta_names[i]] = call->meta_values[i];
    }

    rp::S3Result r = rp::s3_perform(config, std::move(req));
    call->http_status = r.http_status;
    call->too_large = r.too_large;
    call->aborted = r.aborted;
    call->not_found = r.not_found() && r.error_code != "NoSuchBucket";
    copy_out(r.error_code, call->error_code, sizeof call->error_code);
    if (!r.ok()) {
        copy_out(r.describe(), call->message, sizeof call->message);
        return;
    }
    if (call->method == RP_S3_GET) {
        call->data = static_cast<char *>(std::malloc(r.body.size() ? r.body.size() : 1));
        if (!call->data) throw std::bad_alloc();
        std::memcpy(call->data, r.body.data(), r.body.size());
        call->len = r.body.size();
    } else if (call->method == RP_S3_LIST) {
        size_t n = r.objects.size();
        call->listed = static_cast<RpS3Listed *>(std::calloc(n ? n : 1, sizeof(RpS3Listed)));
        if (!call->listed) throw std::bad_alloc();
        for (const rp::S3Object &o : r.objects) {
            call->listed[call->nlisted].key = dup(o.key);
            call->listed[call->nlisted].modified = parse_time(o.last_modified);
            call->nlisted++;
        }
        call->truncated = r.is_truncated;
        if (!r.next_continuation_token.empty()) call->next_token = dup(r.next_continuation_token);
    }
    call->ok = true;
}

}  // namespace

extern "C" void rp_s3_call_free(RpS3Call *call) {
    std::free(call->data);
    call->data = nullptr;
    call->len = 0;
    for (int i = 0; i < call->nlisted; i++) std::free(call->listed[i].key);
    std::free(call->listed);
    call->listed = nullptr;
    call->nlisted = 0;
    std::free(call->next_token);
    call->next_token = nullptr;
}

extern "C" void rp_s3_call(RpS3Call *call) {
    call->data = nullptr;
    call->len = 0;
    call->listed = nullptr;
    call->nlisted = 0;
    call->truncated = false;
    call->next_token = nullptr;
    call->http_status = 0;
    call->ok = call->not_found = call->too_large = call->aborted = false;
    call->error_code[0] = '\0';
    call->message[0] = '\0';
    try {
        run(call);
    } catch (const std::bad_alloc &) {
        // snprintf, not std::string: nothing in a handler may throw again.
        std::snprintf(call->message, sizeof call->message, "out of memory in the S3 client");
    } catch (const std::exception &e) {
        std::snprintf(call->message, sizeof call->message, "S3 client failed: %s", e.what());
    } catch (...) {
        std::snprintf(call->message, sizeof call->message, "S3 client failed");
    }
    if (!call->ok) {
        rp_s3_call_free(call);
        call->truncated = false;
    }
}
