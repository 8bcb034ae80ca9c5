// See s3_bridge.h. No Postgres header here: only plain C types cross this line.
#include "s3_bridge.h"
#include "bridge_copy.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "../net/s3_client.h"

namespace {

using rp::copy_out;

bool call_abort(void *arg) {
    auto *req = static_cast<RpS3Get *>(arg);
    return req->should_abort && req->should_abort(nullptr);
}

void run(RpS3Get *req) {
    rp::S3Config config;
    config.endpoint = req->endpoint;
    config.region = req->region;
    config.access_key = req->access_key;
    config.secret_key = req->secret_key;
    config.timeout_ms = req->timeout_ms;
    config.max_response_bytes = req->max_bytes;
    config.should_abort = call_abort;
    config.abort_arg = req;
    rp::S3Result r = rp::s3_get(config, req->bucket, req->key);
    req->http_status = r.http_status;
    req->not_found = r.not_found();
    req->too_large = r.too_large;
    req->aborted = r.aborted;
    if (!r.ok()) {
        copy_out(r.describe(), req->message, sizeof req->message);
        return;
    }
    req->data = static_cast<char *>(std::malloc(r.body.size() ? r.body.size() : 1));
    if (!req->data) throw std::bad_alloc();
    std::memcpy(req->data, r.body.data(), r.body.size());
    req->len = r.body.size();
    req->ok = true;
}

}  // namespace

extern "C" void rp_s3_get(RpS3Get *req) {
    req->data = nullptr;
    req->len = 0;
    req->http_status = 0;
    req->ok = req->not_found = req->too_large = req->aborted = false;
    req->message[0] = '\0';
    try {
        run(req);
    } catch (const std::bad_alloc &) {
        copy_out("out of memory while reading from S3", req->message, sizeof req->message);
    } catch (const std::exception &e) {
        copy_out(std::string("S3 client failed: ") + e.what(), req->message, sizeof req->message);
    } catch (...) {
        copy_out("S3 client failed", req->message, sizeof req->message);
    }
    if (!req->ok && req->data) {
        std::free(req->data);
        req->data = nullptr;
    }
}
