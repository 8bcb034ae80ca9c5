// Not read yet: refused with a clear error until its reader lands.
#include "rtf_text.h"

#include "document_error.h"

namespace rp {

std::string rtf_text(const char *, size_t, const Limits &) {
    throw DocumentError(ErrorKind::Unsupported, "unsupported document: found an RTF document, which is not read yet");
}

}  // namespace rp
