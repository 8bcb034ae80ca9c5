// The one exception type the core throws for bad input or exceeded limits. The helper turns it
// into a status code on the wire; the C entry layer turns that into an SQLSTATE.
#pragma once
#include "no_postgres.h"

#include <stdexcept>
#include <string>

namespace rp {

enum class ErrorKind {
    Empty,        // zero-length input
    Corrupt,      // truncated, damaged, or not the format it claims to be
    Encrypted,    // needs a password
    Unsupported,  // a format or feature we do not read
    Limit,        // a configured limit was exceeded
    UnsafeName,   // ZIP entry name that could escape a directory
    BadEncoding,  // text that is not valid UTF-8
};

class DocumentError : public std::runtime_error {
public:
    DocumentError(ErrorKind kind, const std::string &message, std::string detail = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)) {}
    ErrorKind kind() const { return kind_; }
    const std::string &detail() const { return detail_; }

private:
    ErrorKind kind_;
    std::string detail_;
};

}  // namespace rp
