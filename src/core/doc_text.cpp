// Not read yet: refused with a clear error until its reader lands.
#include "doc_text.h"

#include "document_error.h"

namespace rp {

std::string doc_text(const char *, size_t, const Limits &) {
    throw DocumentError(ErrorKind::Unsupported, "unsupported document: found a Word 97-2003 document (.doc), which is not read yet");
}

}  // namespace rp
