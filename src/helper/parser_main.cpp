// resume_pipeline_parser: the process that reads untrusted documents for a backend.
//
// A backend starts one with its end of a socket pair on stdin/stdout and sends requests
// (src/protocol/parser_protocol.h) until it closes the socket. This process is a zygote: it
// warms up the libraries once, locks itself into a sandbox (sandbox.cpp) and never reads a
// request itself. It keeps one document process (document_process.cpp) forked in advance,
// waiting on the socket; that process takes the next request, sandboxes itself further, answers
// and exits, and as soon as it has read the whole request the zygote forks the next one. No document
// is read in a process that read another, so one tenant's upload cannot see the next tenant's,
// and the fork happens while the previous document is still being parsed.
//
// If a document process dies before answering, the zygote answers for it: SIGXCPU is the CPU
// limit, SIGSYS a sandbox violation, any other signal a crash. A document process's stderr is
// a pipe the zygote drains (keeping the last few kB for the error detail of a crash); the
// zygote's own stderr is /dev/null, never the server log.
//
// The zygote never leaves a process behind: when the backend closes the socket (end of session,
// cancel, its wall-clock limit) it kills and reaps its processes before it exits. An orphan
// would be reaped by whatever adopts it, and where that is the postmaster (PostgreSQL as PID 1
// in a container) one that died of a signal reads as a crashed backend and restarts every
// session. If the zygote itself is killed outright, its processes exit at once (status 1, not a
// signal) by PR_SET_PDEATHSIG.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../protocol/parser_protocol.h"
#include "document_process.h"
#include "heavy_client.h"
#include "request.h"
#include "sandbox.h"

namespace {

using rp::helper::failure;
using rp::helper::Response;
using rp::helper::Shared;

constexpr int kIn = 0;
constexpr int kOut = 1;
constexpr size_t kKeptOutput = 2048;  // bytes of a process's stderr kept for the error detail

pid_t zygote_pid;

// ---- Reaping: nothing is left to be adopted --------------------------------------------------

// Processes not reaped yet: those that answered and are still exiting (the zygote goes on
// without waiting for them), and those it had to kill.
constexpr int kMaxPending = 8;
pid_t pending[kMaxPending];
int pending_count = 0;

void forget(int i) {
    pending[i] = pending[--pending_count];
}

void reap_finished() {
    for (int i = pending_count - 1; i >= 0; i--)
        if (waitpid(pending[i], nullptr, WNOHANG) == pending[i]) forget(i);
}

void reap(pid_t pid, int *status, struct rusage *ru) {
    while (wait4(pid, status, 0, ru) < 0 && errno == EINTR) {
    }
}

void set_aside(pid_t pid) {
    if (pending_count == kMaxPending) {
        kill(pending[0], SIGKILL);  // answered long ago and still there
        reap(pending[0], nullptr, nullptr);
        forget(0);
    }
    pending[pending_count++] = pid;
}

// ---- The document processes ------------------------------------------------------------------

struct Process {
    pid_t pid = 0;
    Shared *shared = nullptr;
    int took = -1;  // read end of the "took a request" pipe (spare only): EOF once it is read
    int err = -1;   // read end of its stderr
    std::string output;
};

void release(Process &p) {
    if (p.took >= 0) close(p.took);
    if (p.err >= 0) close(p.err);
    if (p.shared) munmap(p.shared, sizeof(Shared));
    p = Process();
}

// Kills and reaps every process: the zygote is about to exit.
void kill_all(Process &spare, Process &current) {
    for (Process *p : {&spare, &current})
        if (p->pid) {
            set_aside(p->pid);
            p->pid = 0;
        }
    for (int i = 0; i < pending_count; i++) kill(pending[i], SIGKILL);
    while (pending_count > 0) {
        reap(pending[0], nullptr, nullptr);
        forget(0);
    }
}

// Forks the process that will take the next request. False (errno set) if it cannot.
bool start_spare(Process &spare, const Process &current) {
    int took[2], err[2];
    if (pipe2(took, O_CLOEXEC) != 0) return false;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(took[0]);
        close(took[1]);
        return false;
    }
    void *page = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid = page == MAP_FAILED ? -1 : fork();
    if (pid == 0) {
        static_cast<Shared *>(page)->progress = rp::helper::kWaiting;
        rp::helper::run_document_process({static_cast<Shared *>(page), err[1], took[1], current.shared, zygote_pid});
    }
    const int saved = errno;
    close(took[1]);
    close(err[1]);
    if (pid < 0) {
        close(took[0]);
        close(err[0]);
        if (page != MAP_FAILED) munmap(page, sizeof(Shared));
        errno = saved;
        return false;
    }
    spare.pid = pid;
    spare.shared = static_cast<Shared *>(page);
    spare.took = took[0];
    spare.err = err[0];
    return true;
}

void keep_tail(std::string &kept, const char *buf, size_t n) {
    kept.append(buf, n);
    if (kept.size() > kKeptOutput) kept.erase(0, kept.size() - kKeptOutput);
}

// What a process wrote to stderr, as plain ASCII for an error detail.
std::string printable(const std::string &output) {
    std::string s;
    for (unsigned char c : output) s += (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? char(c) : '?';
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

Response describe_death(const rp_request_header &h, int status, const struct rusage &ru, const std::string &output) {
    std::string detail = "Only the parser process ended; this session is unaffected.";
    if (!output.empty()) detail += "\nParser output: " + printable(output);
    if (WIFEXITED(status))
        return failure(
            RP_STATUS_INTERNAL,
            "document parser exited with status " + std::to_string(WEXITSTATUS(status)) + " before answering", detail);
    const int sig = WTERMSIG(status);
    const long cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec;
    if (sig == SIGXCPU || (sig == SIGKILL && h.cpu_limit_s && cpu_s >= static_cast<long>(h.cpu_limit_s)))
        return failure(RP_STATUS_CPU_LIMIT, "document parser exceeded resume_pipeline.parser_cpu_time_limit (" +
                                                std::to_string(h.cpu_limit_s) + " s) and was stopped");
    const std::string what = "signal " + std::to_string(sig) + ": " + strsignal(sig);
    if (sig == SIGSYS)
        return failure(RP_STATUS_CRASHED,
                       "document parser crashed (" + what +
                           ") while reading the document: its sandbox stopped a system call the parser may not make",
                       detail,
                       "A document that drives the parser outside its sandbox may be an attack on it; keep it for "
                       "investigation.");
    return failure(RP_STATUS_CRASHED, "document parser crashed (" + what + ") while reading the document", detail,
                   "The document is probably malformed, or needed more memory than "
                   "resume_pipeline.parser_memory_limit (" +
                       std::to_string(h.memory_limit >> 20) + " MB) allows.");
}

// ---- The zygote's loop -----------------------------------------------------------------------

class Zygote {
public:
    [[noreturn]] void run() {
        for (;;) {
            reap_finished();
            if (!spare_.pid && !start_spare(spare_, current_)) {
                const std::string why = std::string("document parser could not start a process: ") + strerror(errno);
                if (!current_.pid) refuse_next_request(why);
            }
            wait_for_events();
        }
    }

private:
    void wait_for_events() {
        struct pollfd fds[3];
        int n = 0;
        fds[n++] = {kIn, POLLRDHUP, 0};
        const int current_at = current_.pid ? n++ : -1;
        if (current_at >= 0) fds[current_at] = {current_.err, POLLIN, 0};
        const int spare_at = spare_.pid ? n++ : -1;
        if (spare_at >= 0) fds[spare_at] = {spare_.took, POLLIN, 0};
        // While processes that answered are still exiting, wake up soon to reap them.
        if (poll(fds, static_cast<nfds_t>(n), pending_count ? 10 : -1) < 0) return;
        if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) leave(0);
        if (current_at >= 0 && fds[current_at].revents) drain_current();
        if (spare_at >= 0 && fds[spare_at].revents) spare_took();
    }

    // The process at work wrote to stderr or is done.
    void drain_current() {
        char buf[4096];
        ssize_t n = read(current_.err, buf, sizeof buf);
        if (n > 0) return keep_tail(current_.output, buf, static_cast<size_t>(n));
        if (n < 0 && errno == EINTR) return;
        finish_current();
    }

    void finish_current() {
        const int progress = current_.shared->progress;
        if (progress == rp::helper::kSent) {
            set_aside(current_.pid);  // reaped later; it only has to exit
            release(current_);
            return;
        }
        int status = 0;
        struct rusage ru {};
        reap(current_.pid, &status, &ru);
        const rp_request_header request = current_.shared->request;
        const std::string output = current_.output;
        current_.pid = 0;
        release(current_);
        if (progress == rp::helper::kWorking)
            answer(describe_death(request, status, ru, output));
        else
            die_like(status);  // it died reading the request or writing its answer
    }

    // The spare took a request (it becomes the process at work), or died waiting.
    void spare_took() {
        close(spare_.took);
        spare_.took = -1;
        if (spare_.shared->progress == rp::helper::kWaiting) {
            reap(spare_.pid, nullptr, nullptr);  // died before any request: nothing to answer
            spare_.pid = 0;
            release(spare_);
            return;
        }
        if (current_.pid) {
            // The backend sends a request only after the previous answer, so the process that
            // gave it should be exiting: make sure.
            kill(current_.pid, SIGKILL);
            set_aside(current_.pid);
            current_.pid = 0;
            release(current_);
        }
        current_ = spare_;
        spare_ = Process();
    }

    // No process can be started and none is at work: the zygote answers the next request
    // itself, without reading its document.
    void refuse_next_request(const std::string &why) {
        rp_request_header h;
        if (!rp::helper::read_full(kIn, &h, sizeof h)) leave(0);
        if (h.magic != RP_REQUEST_MAGIC || h.data_len > RP_MAX_MESSAGE_BYTES) leave(2);
        if (!rp::helper::discard(kIn, h.data_len)) leave(0);
        answer(failure(RP_STATUS_INTERNAL, why));
    }

    void answer(const Response &r) {
        if (!rp::helper::send_response(kOut, r)) leave(0);  // the backend went away
    }

    // A process died halfway through reading a request or writing its answer: the stream cannot
    // be mended, so the zygote ends the same way and the backend reports that (and starts
    // another zygote for the next document).
    [[noreturn]] void die_like(int status) {
        if (!WIFSIGNALED(status)) leave(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
        kill_all(spare_, current_);
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        _exit(4);
    }

    [[noreturn]] void leave(int code) {
        kill_all(spare_, current_);
        _exit(code);
    }

    Process spare_;    // waits on the socket for the next request
    Process current_;  // took a request and is working on it (or answered and is exiting)
};

// Fail closed: if the sandbox could not be had, every document is refused unread.
[[noreturn]] void refuse_everything(const std::string &why) {
    for (;;) {
        rp_request_header h;
        if (!rp::helper::read_full(kIn, &h, sizeof h)) _exit(0);
        if (h.magic != RP_REQUEST_MAGIC || h.data_len > RP_MAX_MESSAGE_BYTES) _exit(2);
        if (!rp::helper::discard(kIn, h.data_len)) _exit(0);
        if (!rp::helper::send_response(
                kOut, failure(RP_STATUS_INTERNAL, "document parser could not enter its sandbox: " + why,
                              "The kernel must allow seccomp filters (and no_new_privs) for the parser process.")))
            _exit(0);
    }
}

// Leave nothing of the backend behind: its client socket and data files were inherited, and
// its working directory is the data directory.
void detach_from_backend(const char *parent_pid) {
    close_range(3, ~0U, 0);
    if (chdir("/") != 0) _exit(2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent_pid && getppid() != static_cast<pid_t>(std::atol(parent_pid))) _exit(0);
    signal(SIGPIPE, SIG_IGN);  // a backend gone mid-answer is an error return, then leave()
    struct rlimit no_core {};
    setrlimit(RLIMIT_CORE, &no_core);
    // Other processes of the database user may not attach to it or read its memory.
    prctl(PR_SET_DUMPABLE, 0);
    zygote_pid = getpid();
}

}  // namespace

int main(int argc, char **argv) {
    detach_from_backend(argc > 1 ? argv[1] : nullptr);
    rp::heavy::locate_plugin();
    rp::helper::warm_up_libraries();
    std::string sandbox_error;
    if (!rp::sandbox::enter_zygote(sandbox_error)) refuse_everything(sandbox_error);
    Zygote zygote;
    zygote.run();
}
