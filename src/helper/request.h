// One request of the parser protocol, read and answered (request.cpp): what a document's child
// process runs once it is sandboxed, and the answers the zygote sends itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/zip_reader.h"
#include "../protocol/parser_protocol.h"

namespace rp::helper {

struct Response {
    uint32_t status = RP_STATUS_OK;
    std::string message;
    std::string detail;
    std::string hint;                   // sent as the payload of a failure (see parser_protocol.h)
    std::string payload;                // of a success
    uint32_t flags = 0;                 // RP_RESPONSE_* of a success
    std::vector<rp::ZipEntry> entries;  // RP_OP_ZIP_ENTRIES streams these as the payload
};

Response failure(uint32_t status, std::string message, std::string detail = {}, std::string hint = {});

// The answer to a request whose data did not fit under the memory limit.
Response out_of_memory(const rp_request_header &h);

// Runs the request; every exception becomes a failure response. The debug operation does not
// return.
Response run_request(const rp_request_header &h, const std::string &data);

// Writes the response to fd; false if the backend went away.
bool send_response(int fd, const Response &r);

// Reads exactly len bytes; false at end of stream or on error.
bool read_full(int fd, void *buf, size_t len);

// Reads and drops len bytes (the data of a request refused unread); false if the stream ended.
bool discard(int fd, uint64_t len);

// Once in the zygote, before the sandbox: what the libraries would otherwise load, scan or
// compile for every document (poppler's encoding tables, iconv's UTF-16 module, the time zone,
// libxml2, the résumé parser's regular expressions) is done here and inherited by each child.
void warm_up_libraries();

}  // namespace rp::helper
