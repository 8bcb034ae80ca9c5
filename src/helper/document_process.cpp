// The process that reads one document. Forked by the zygote before the request exists (so the
// fork costs no time on the backend's side), it waits on the socket, takes the next request,
// applies the request's hard limits and the document filter (sandbox.cpp) before it reads a
// byte of the document, answers on the socket and exits. It never sees another document: it
// shares no memory with the process before or after it, only a page with the zygote that says
// how far it got.
#include "document_process.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <new>
#include <string>

#include "request.h"
#include "sandbox.h"

namespace rp::helper {
namespace {

constexpr int kIn = 0;
constexpr int kOut = 1;

void orphaned(int) {
    _exit(1);
}

// Detached from everything but the socket, its two pipes and its own page.
void settle(const DocumentProcess &p) {
    // If the zygote is killed outright, this process ends at once, and with an exit status,
    // not a signal: whoever adopts and reaps it (the postmaster, as PID 1 in a container) must
    // not take it for a crashed backend. The document filter forbids changing this handler.
    struct sigaction on_orphan {};
    on_orphan.sa_handler = orphaned;
    sigaction(SIGHUP, &on_orphan, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != p.zygote) _exit(0);
    if (p.other_shared) munmap(p.other_shared, sizeof(Shared));
    if (dup2(p.stderr_pipe, 2) != 2 || dup2(p.took_pipe, 3) != 3) _exit(70);
    close_range(4, ~0U, 0);
}

enum class Data { kRead, kTooBig, kGone };

// The request's data, read inside the sandbox and under its memory limit. Data too big for the
// limit is read and dropped, so the stream stays in step.
Data read_data(const rp_request_header &h, std::string &data) {
    if (!h.memory_limit || h.data_len < h.memory_limit) {
        try {
            data.resize(h.data_len);
            return read_full(kIn, data.data(), data.size()) ? Data::kRead : Data::kGone;
        } catch (const std::bad_alloc &) {
        }
    }
    return discard(kIn, h.data_len) ? Data::kTooBig : Data::kGone;
}

}  // namespace

void run_document_process(const DocumentProcess &p) {
    settle(p);
    Shared *shared = p.shared;
    rp_request_header h;
    if (!read_full(kIn, &h, sizeof h)) _exit(0);  // the backend closed the socket
    shared->request = h;
    shared->progress = kReading;
    if (h.magic != RP_REQUEST_MAGIC || h.data_len > RP_MAX_MESSAGE_BYTES) _exit(2);

    rp::sandbox::enter_child(h);
    std::string data;
    const Data got = read_data(h, data);
    if (got == Data::kGone) _exit(0);  // the backend went away mid-request
    shared->progress = kWorking;
    // The whole request is read: the zygote may fork the process for the next one, which
    // starts reading the socket at once.
    close(3);
    const Response r = got == Data::kRead ? run_request(h, data) : out_of_memory(h);

    shared->progress = kSending;
    bool sent = false;
    try {
        sent = send_response(kOut, r);
    } catch (...) {
    }
    if (!sent) _exit(1);
    shared->progress = kSent;
    // Closing stderr tells the zygote the answer is out before this process is torn down.
    close(2);
    _exit(0);
}

}  // namespace rp::helper
