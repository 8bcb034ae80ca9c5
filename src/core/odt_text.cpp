// Not read yet: refused with a clear error until its reader lands.
#include "odt_text.h"

#include "document_error.h"

namespace rp {

std::string odt_text(const char *, size_t, const Limits &) {
    throw DocumentError(ErrorKind::Unsupported, "unsupported document: found an OpenDocument text (.odt), which is not read yet");
}

}  // namespace rp
