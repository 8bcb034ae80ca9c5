// The process that reads one document (document_process.cpp). The zygote forks it in advance;
// it waits for the next request on the backend's socket, sandboxes itself, answers and exits.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "../protocol/parser_protocol.h"

namespace rp::helper {

// How far a document process got, in a page only it and the zygote share.
enum Progress : int32_t {
    kWaiting,  // no request yet
    kReading,  // reading a request (the stream is broken if it dies now)
    kWorking,  // parsing: if it dies now, the zygote answers for it
    kSending,  // writing its answer (broken stream again)
    kSent      // done; it only has to exit
};

struct Shared {
    volatile int32_t progress;
    rp_request_header request;  // copied here as soon as it is read
};

struct DocumentProcess {
    Shared *shared;
    int stderr_pipe;     // write end: becomes fd 2; its EOF tells the zygote the process is done
    int took_pipe;       // write end: closed once the whole request is read
    void *other_shared;  // the page of the process at work, not this one's to see (or null)
    pid_t zygote;
};

[[noreturn]] void run_document_process(const DocumentProcess &p);

}  // namespace rp::helper
