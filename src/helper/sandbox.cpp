// The parser's sandbox. Untrusted documents reach poppler, libzip, libxml2 and RE2 only in a
// child process that can do little more than read and write the descriptors it was given and
// manage its memory, so a memory bug those libraries might have is not code execution as the
// database's OS user.
//
// Layers, from the outside in:
//   - the zygote (once): Landlock, where the kernel has it, lets the zygote and its children
//     open only the read-only system files a document may need (poppler's encoding data,
//     Tesseract's language data, iconv modules) and, from Landlock ABI 6, signal no process outside the sandbox;
//     no_new_privs; a system-call filter that allows what the zygote does (fork, wait, pipes, poll) on top of what a
//     child does;
//   - each document's child: hard rlimits (memory, CPU, no core, no file writes, few
//     descriptors, no processes) and a second, tighter filter stacked on the first: no fork,
//     no exec, no socket, no signal to another process, open() only read-only.
// Anything a filter does not allow kills the process (SECCOMP_RET_KILL_PROCESS, SIGSYS), which
// the zygote reports as a crash of that document.
//
// Files: the libraries open files lazily (a CJK CMap from /usr/share/poppler, an iconv
// module), so openat stays allowed in the child, but only without O_WRONLY, O_RDWR, O_CREAT,
// O_TRUNC, O_APPEND or O_TMPFILE; Landlock then decides which paths. Everything the libraries
// would open for every document is opened by the zygote before the filters (see
// warm_up_libraries).
#include "sandbox.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <iconv.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../core/ocr.h"
#include "heavy_client.h"

namespace rp::sandbox {
namespace {

// ---- Landlock (raw system calls; constants newer than Debian 12's <linux/landlock.h>) ----

constexpr uint64_t kFsAbi1 = (1ULL << 13) - 1;  // EXECUTE ... MAKE_SYM
constexpr uint64_t kFsRefer = 1ULL << 13;       // ABI 2
constexpr uint64_t kFsTruncate = 1ULL << 14;    // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;    // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0;     // ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;
constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

struct RulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct __attribute__((packed)) PathBeneath {
    uint64_t allowed_access;
    int32_t parent_fd;
};

// Directories a child may read: poppler's encoding data (CMaps, cidToUnicode), Tesseract's
// language data (loaded by the document process that needs OCR) and the system's library
// directory, the one the C library was loaded from: glibc's iconv modules (its gconv
// subdirectory) and the shared libraries of the heavy plugin (heavy_client.cpp), which the
// document process that needs OCR or reads a .doc loads. Nothing of the database is under any of
// them; the libraries are public files, read-only here as everywhere.
std::vector<std::string> readable_dirs() {
    std::vector<std::string> dirs = {"/usr/share/poppler", "/usr/local/share/poppler", rp::ocr_data_dir()};
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&iconv_open), &info) && info.dli_fname) {
        std::string libc = info.dli_fname;
        size_t slash = libc.rfind('/');
        if (slash != std::string::npos) dirs.push_back(libc.substr(0, slash));
    }
    return dirs;
}

// Single files a child may read: the heavy plugin itself (next to the parser, whose directory
// holds PostgreSQL's programs and is not opened to it) and the dynamic loader's cache, which
// finds the plugin's libraries.
std::vector<std::string> readable_files() {
    std::vector<std::string> files = {"/etc/ld.so.cache"};
    if (*rp::heavy::plugin_path()) files.push_back(rp::heavy::plugin_path());
    return files;
}

void allow_reading(int ruleset, const std::string &path, uint64_t access) {
    PathBeneath rule{};
    rule.allowed_access = access;
    rule.parent_fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (rule.parent_fd < 0) return;
    syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    close(rule.parent_fd);
}

// Best effort: a kernel without Landlock (before 5.13, or not enabled) leaves the filesystem
// as the database user sees it, read-only through the filters.
void restrict_filesystem() {
    long abi = syscall(__NR_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) return;
    RulesetAttr attr{};
    attr.handled_access_fs =
        kFsAbi1 | (abi >= 2 ? kFsRefer : 0) | (abi >= 3 ? kFsTruncate : 0) | (abi >= 5 ? kFsIoctlDev : 0);
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
        attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
        size += sizeof attr.handled_access_net;
    }
    if (abi >= 6) {
        attr.scoped = kScopeAbstractUnix | kScopeSignal;
        size += sizeof attr.scoped;
    }
    int ruleset = static_cast<int>(syscall(__NR_landlock_create_ruleset, &attr, size, 0));
    if (ruleset < 0) return;
    for (const std::string &dir : readable_dirs()) allow_reading(ruleset, dir, kRead);
    for (const std::string &file : readable_files()) allow_reading(ruleset, file, LANDLOCK_ACCESS_FS_READ_FILE);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) syscall(__NR_landlock_restrict_self, ruleset, 0);
    close(ruleset);
}

// ---- System-call filters (libseccomp) ----

// Flags that would let openat create, truncate or write a file.
constexpr uint64_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE;

// Stands for the child's own pid in the document filter, patched in after fork.
constexpr uint32_t kOwnPid = 0x5eca1d00u;

// glibc's fork(): a new process, never a thread or a namespace.
constexpr uint64_t kForkFlags = CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD;

class Filter {
public:
    Filter() : ctx_(seccomp_init(SCMP_ACT_KILL_PROCESS)) {
        if (!ctx_)
            error_ = "seccomp_init failed";
        else
            check(seccomp_attr_set(ctx_, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "bad-arch action");
    }
    ~Filter() {
        if (ctx_) seccomp_release(ctx_);
    }
    Filter(const Filter &) = delete;
    Filter &operator=(const Filter &) = delete;

    // A name this architecture does not have (poll, dup2 on arm64) needs no rule.
    void allow(const char *name) {
        if (ctx_ && nr(name) != __NR_SCMP_ERROR) check(seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr(name), 0), name);
    }
    void allow_if(const char *name, scmp_arg_cmp cmp) {
        if (ctx_ && nr(name) != __NR_SCMP_ERROR) check(seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr(name), 1, cmp), name);
    }
    // The call fails with `error` instead of killing the process.
    void refuse(const char *name, int error) {
        if (ctx_ && nr(name) != __NR_SCMP_ERROR) check(seccomp_rule_add(ctx_, SCMP_ACT_ERRNO(error), nr(name), 0), name);
    }
    const std::string &error() const { return error_; }
    scmp_filter_ctx ctx() const { return ctx_; }

private:
    static int nr(const char *name) { return seccomp_syscall_resolve_name(name); }
    void check(int rc, const char *what) {
        if (rc < 0 && error_.empty()) error_ = std::string("seccomp rule for ") + what + ": " + std::strerror(-rc);
    }
    scmp_filter_ctx ctx_;
    std::string error_;
};

// What every document process may do, and therefore (filters stack) the zygote too. Found by
// tracing the document processes over the résumé and hostile corpora, the project's samples and
// fixtures and every debug mode, with every operation of the protocol; README "Crash isolation"
// says why each is here.
void allow_document_work(Filter &f) {
    // I/O on descriptors it already holds: the socket to the backend (0, 1), the stderr pipe
    // (2) and files it opened read-only. writev: glibc's fatal messages (heap corruption), so
    // they end as the abort they are. No recvmsg/sendmsg: no descriptor passing.
    for (const char *name : {"read", "write", "writev", "close", "lseek", "fstat", "newfstatat"}) f.allow(name);
    // poppler's CMaps and cidToUnicode files, iconv modules: opened lazily, read-only.
    f.allow_if("openat", SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
    // Memory: malloc (brk, mmap, mremap for a growing large block, madvise when trimming),
    // mprotect for an iconv module being loaded.
    for (const char *name : {"brk", "mmap", "munmap", "mremap", "mprotect", "madvise"}) f.allow(name);
    // glibc's qsort() of more than a few hundred bytes asks how much memory the machine has
    // (sysconf(_SC_PHYS_PAGES)) before it picks a buffer: libtiff does, for Tesseract and
    // Leptonica. It reveals only totals (memory, load, uptime).
    f.allow("sysinfo");
    // Locks, time, leaving, what abort() needs to signal itself, and resuming a system call
    // after a stop (a debugger, SIGSTOP).
    for (const char *name : {"futex", "clock_gettime", "getrusage", "exit", "exit_group", "rt_sigreturn",
                             "rt_sigprocmask", "getpid", "gettid", "restart_syscall"})
        f.allow(name);
    // Loading the heavy plugin (OCR, .doc: heavy_client.cpp) runs its libraries' constructors,
    // which ask a few things as they load. GnuTLS seeds itself: getrandom reveals nothing and is
    // allowed. libselinux looks for selinuxfs and its configuration (statfs, access) and libgomp
    // for the CPUs it may use (sched_getaffinity): these fail with EACCES, as files Landlock hides
    // do, and the libraries go on without (no SELinux; one thread, which OMP_THREAD_LIMIT asks
    // anyway). newfstatat, allowed above, already tells more about a path than access or statfs.
    f.allow("getrandom");
    for (const char *name : {"statfs", "access", "faccessat", "faccessat2", "sched_getaffinity"})
        f.refuse(name, EACCES);
}

// The document filter as BPF, with the positions of kOwnPid in it.
sock_filter *document_bpf = nullptr;
unsigned short document_bpf_len = 0;
std::vector<size_t> *own_pid_slots = nullptr;

bool prepare_document_filter(std::string &error) {
    Filter f;
    allow_document_work(f);
    f.allow_if("tgkill", SCMP_A0_32(SCMP_CMP_EQ, kOwnPid));  // abort() signals itself, nobody else
    if (!f.error().empty()) {
        error = f.error();
        return false;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    int rc = seccomp_export_bpf(f.ctx(), pipefd[1]);
    close(pipefd[1]);
    std::vector<char> bytes;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
    close(pipefd[0]);
    if (rc < 0 || bytes.empty() || bytes.size() % sizeof(sock_filter) != 0 ||
        bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
        error = "could not export the document filter";
        return false;
    }
    document_bpf_len = static_cast<unsigned short>(bytes.size() / sizeof(sock_filter));
    document_bpf = new sock_filter[document_bpf_len];
    std::memcpy(document_bpf, bytes.data(), bytes.size());
    own_pid_slots = new std::vector<size_t>;
    for (size_t i = 0; i < document_bpf_len; i++)
        if (document_bpf[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && document_bpf[i].k == kOwnPid)
            own_pid_slots->push_back(i);
    if (own_pid_slots->empty()) {
        error = "the document filter has no place for the child's pid";
        return false;
    }
    return true;
}

bool load_zygote_filter(std::string &error) {
    Filter f;
    allow_document_work(f);
    f.allow_if("clone", SCMP_A0_64(SCMP_CMP_EQ, kForkFlags));  // one child per document
    // fork() (set_robust_list runs in the new child), a pipe for the child's stderr, waiting
    // on it and the socket (ppoll where there is no poll), reaping and killing the child,
    // ending like a child that broke the stream (rt_sigaction, tgkill), and the child's setup
    // before its own filter (its orphan handler, getppid, dup2 or dup3, close_range).
    for (const char *name : {"set_robust_list", "pipe2", "poll", "ppoll", "wait4", "kill", "tgkill", "rt_sigaction",
                             "getppid", "dup2", "dup3", "close_range"})
        f.allow(name);
    // A child's own setup: its death signal, its filter, its limits (prlimit64 on itself only).
    f.allow_if("prctl", SCMP_A0_32(SCMP_CMP_EQ, PR_SET_PDEATHSIG));
    f.allow_if("prctl", SCMP_A0_32(SCMP_CMP_EQ, PR_SET_SECCOMP));
    f.allow_if("prlimit64", SCMP_A0_32(SCMP_CMP_EQ, 0));
    if (f.error().empty()) {
        int rc = seccomp_load(f.ctx());
        if (rc < 0) error = std::string("seccomp_load: ") + std::strerror(-rc);
    } else {
        error = f.error();
    }
    return error.empty();
}

void hard_limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit now {};
    if (getrlimit(resource, &now) == 0 && now.rlim_max != RLIM_INFINITY) {
        if (hard > now.rlim_max) hard = now.rlim_max;
        if (soft > hard) soft = hard;
    }
    struct rlimit r {};
    r.rlim_cur = soft;
    r.rlim_max = hard;
    setrlimit(resource, &r);
}

}  // namespace

bool enter_zygote(std::string &error) {
    restrict_filesystem();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        error = std::string("no_new_privs: ") + std::strerror(errno);
        return false;
    }
    return prepare_document_filter(error) && load_zygote_filter(error);
}

void enter_child(const rp_request_header &h) {
    const rlim_t memory = h.memory_limit ? h.memory_limit : RLIM_INFINITY;
    hard_limit(RLIMIT_AS, memory, memory);
    // SIGXCPU at the limit (reported as the CPU limit); the kernel sends SIGKILL instead when
    // the soft limit equals the hard one, so the hard limit is one second later, as a backstop.
    if (h.cpu_limit_s) hard_limit(RLIMIT_CPU, h.cpu_limit_s, h.cpu_limit_s + 1);
    hard_limit(RLIMIT_CORE, 0, 0);
    hard_limit(RLIMIT_FSIZE, 0, 0);
    hard_limit(RLIMIT_NOFILE, 16, 16);
    hard_limit(RLIMIT_NPROC, 0, 0);
    hard_limit(RLIMIT_MEMLOCK, 0, 0);

    const uint32_t self = static_cast<uint32_t>(getpid());
    for (size_t i : *own_pid_slots) document_bpf[i].k = self;
    sock_fprog prog{};
    prog.len = document_bpf_len;
    prog.filter = document_bpf;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) _exit(70);
}

}  // namespace rp::sandbox
