// resume_pipeline_parser: the process that reads untrusted documents for a backend.
//
// A backend starts one with its end of a socket pair on stdin/stdout and sends requests
// (src/protocol/parser_protocol.h) until it closes the socket. This process is a zygote: it
// warms up the libraries once, locks itself into a sandbox (sandbox.cpp), and then for each
// request reads the document and forks a fresh child that applies hard limits and a tighter
// system-call filter, answers the request on the socket and exits. No document is ever read in
// a process that read another one, so one tenant's upload cannot see the next tenant's.
//
// If the child dies before answering, the zygote answers for it: SIGXCPU is the CPU limit,
// SIGSYS a sandbox violation, any other signal a crash. The child's stderr is a pipe the zygote
// drains (keeping the last few kB for the error detail of a crash); the zygote's own stderr is
// /dev/null, never the server log.
//
// The zygote never leaves a child behind: when the backend closes the socket (end of session,
// cancel, its wall-clock limit) it kills and reaps the child before it exits. An orphan would
// be reaped by whatever adopts it, and where that is the postmaster (PostgreSQL as PID 1 in a
// container) a child that died of a signal reads as a crashed backend and restarts every
// session. If the zygote itself is killed outright, the child's PR_SET_PDEATHSIG makes it exit
// at once, with status 1 rather than by a signal.
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
#include <new>
#include <string>

#include "../protocol/parser_protocol.h"
#include "request.h"
#include "sandbox.h"

namespace {

using rp::helper::failure;
using rp::helper::Response;

constexpr int kIn = 0;
constexpr int kOut = 1;
constexpr size_t kKeptOutput = 2048;  // bytes of a child's stderr kept for the error detail

// How far a child got with its answer, in a page shared with the zygote: a child that dies
// before it starts writing is answered for; one that dies halfway has broken the stream.
enum Progress : int { kNotStarted, kSending, kSent };
volatile int *progress = nullptr;

pid_t zygote_pid;

// Children not reaped yet: the one at work, and those that answered and are still exiting
// (the zygote takes the next request without waiting for them).
constexpr int kMaxPending = 8;
pid_t pending[kMaxPending];
int pending_count = 0;

void forget(int i) { pending[i] = pending[--pending_count]; }

void reap_finished() {
    for (int i = pending_count - 1; i >= 0; i--)
        if (waitpid(pending[i], nullptr, WNOHANG) == pending[i]) forget(i);
}

int pending_index(pid_t pid) {
    for (int i = 0; i < pending_count; i++)
        if (pending[i] == pid) return i;
    return -1;
}

void reap(int i, int *status, struct rusage *ru) {
    while (wait4(pending[i], status, 0, ru) < 0 && errno == EINTR) {
    }
    forget(i);
}

// Kills and reaps every child, then exits: never an orphan (see above).
void reap_all() {
    for (int i = 0; i < pending_count; i++) kill(pending[i], SIGKILL);
    while (pending_count > 0) reap(pending_count - 1, nullptr, nullptr);
}

[[noreturn]] void leave(int code) {
    reap_all();
    _exit(code);
}

bool read_full(int fd, void *buf, size_t len) {
    auto *p = static_cast<char *>(buf);
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        len -= static_cast<size_t>(r);
    }
    return true;
}

void discard_input(uint64_t len) {
    char buf[65536];
    while (len > 0) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        if (!read_full(kIn, buf, n)) leave(0);
        len -= n;
    }
}

void answer(const Response &r) {
    if (!rp::helper::send_response(kOut, r)) leave(0);  // the backend went away
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
    void *page = mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) _exit(2);
    progress = static_cast<volatile int *>(page);
}

void orphaned(int) { _exit(1); }

[[noreturn]] void run_child(const rp_request_header &h, const std::string &data, int err_pipe) {
    // If the zygote is killed outright, this process ends at once, and with an exit status,
    // not a signal: whoever adopts and reaps it (the postmaster, as PID 1 in a container) must
    // not take it for a crashed backend. The filter below forbids changing this handler.
    struct sigaction on_orphan {};
    on_orphan.sa_handler = orphaned;
    sigaction(SIGHUP, &on_orphan, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGHUP);
    if (getppid() != zygote_pid) _exit(0);
    if (dup2(err_pipe, 2) != 2) _exit(70);
    close_range(3, ~0U, 0);
    rp::sandbox::enter_child(h);
    Response r = rp::helper::run_request(h, data);
    *progress = kSending;
    bool sent = false;
    try {
        sent = rp::helper::send_response(kOut, r);
    } catch (...) {
    }
    if (!sent) _exit(1);
    *progress = kSent;
    // Closing stderr tells the zygote the answer is out, so it takes the next request while
    // this process is still being torn down.
    close(2);
    _exit(0);
}

void keep_tail(std::string &kept, const char *buf, size_t n) {
    kept.append(buf, n);
    if (kept.size() > kKeptOutput) kept.erase(0, kept.size() - kKeptOutput);
}

// Drains the child's stderr until it closes (the child exited). True if the backend closed the
// socket meanwhile.
bool watch_child(int err_pipe, std::string &output) {
    struct pollfd fds[2] = {{err_pipe, POLLIN, 0}, {kIn, POLLRDHUP, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
        if (fds[0].revents) {
            char buf[4096];
            ssize_t n = read(err_pipe, buf, sizeof buf);
            if (n > 0) keep_tail(output, buf, static_cast<size_t>(n));
            else if (!(n < 0 && errno == EINTR)) return false;
        }
    }
}

// What the child wrote to stderr, as plain ASCII for an error detail.
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
        return failure(RP_STATUS_INTERNAL,
                       "document parser exited with status " + std::to_string(WEXITSTATUS(status)) +
                           " before answering",
                       detail);
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

// A child died halfway through its answer: the stream cannot be mended, so the zygote ends the
// same way and the backend reports that (and starts another zygote for the next document).
[[noreturn]] void die_like(int status) {
    reap_all();
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
}

// One document in one fresh child; the answer is the child's, or the zygote's if it died first.
void serve(const rp_request_header &h, const std::string &data) {
    reap_finished();
    if (pending_count == kMaxPending) reap(0, nullptr, nullptr);  // answered long ago; wait for it
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) {
        answer(failure(RP_STATUS_INTERNAL, std::string("document parser could not make a pipe: ") + strerror(errno)));
        return;
    }
    *progress = kNotStarted;
    pid_t child = fork();
    if (child == 0) run_child(h, data, err[1]);
    close(err[1]);
    if (child < 0) {
        close(err[0]);
        answer(failure(RP_STATUS_INTERNAL,
                       std::string("document parser could not start a process for the document: ") + strerror(errno)));
        return;
    }
    pending[pending_count++] = child;
    std::string output;
    const bool backend_gone = watch_child(err[0], output);
    close(err[0]);
    if (backend_gone) leave(0);
    if (*progress == kSent) return;  // reaped by reap_finished() later
    int status = 0;
    struct rusage ru {};
    reap(pending_index(child), &status, &ru);
    switch (*progress) {
        case kSent:
            return;
        case kSending:
            die_like(status);
        default:
            answer(describe_death(h, status, ru, output));
    }
}

}  // namespace

int main(int argc, char **argv) {
    detach_from_backend(argc > 1 ? argv[1] : nullptr);
    rp::helper::warm_up_libraries();
    std::string sandbox_error;
    const bool sandboxed = rp::sandbox::enter_zygote(sandbox_error);
    for (;;) {
        rp_request_header h;
        if (!read_full(kIn, &h, sizeof h)) leave(0);  // the backend closed the socket
        if (h.magic != RP_REQUEST_MAGIC || h.data_len > RP_MAX_MESSAGE_BYTES) leave(2);
        if (!sandboxed) {
            // Fail closed: no document is read outside the sandbox.
            discard_input(h.data_len);
            answer(failure(RP_STATUS_INTERNAL, "document parser could not enter its sandbox: " + sandbox_error,
                           "The kernel must allow seccomp filters (and no_new_privs) for the parser process."));
            continue;
        }
        if (h.memory_limit && h.data_len >= h.memory_limit) {
            discard_input(h.data_len);
            answer(rp::helper::out_of_memory(h));
            continue;
        }
        std::string data;
        try {
            data.resize(h.data_len);
        } catch (const std::bad_alloc &) {
            discard_input(h.data_len);
            answer(rp::helper::out_of_memory(h));
            continue;
        }
        if (!read_full(kIn, data.data(), data.size())) leave(0);
        serve(h, data);
    }
}
