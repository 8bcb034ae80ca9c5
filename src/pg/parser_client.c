/*
 * The backend's side of crash isolation: one long-lived resume_pipeline_parser process per
 * backend, started on first use, talked to over a socket pair, and reused across documents.
 *
 * Every wait goes through WaitLatchOrSocket, so query cancel, statement_timeout and backend
 * termination interrupt a slow parse; an error in the middle of a request kills the helper
 * (its state is unknown) and the next call starts a fresh one. How the helper died decides the
 * error: SIGXCPU is the CPU limit, our own SIGKILL after the deadline is the time limit, any
 * other signal is a crash. None of this touches the postmaster, so other sessions never notice.
 */
#include "postgres.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "parser_client.h"
#include "settings.h"

#define HELPER_NAME "resume_pipeline_parser"
#define MAX_TEXT_FIELD (1024 * 1024)

static pid_t helper_pid = 0;
static int	helper_fd = -1;
static bool exit_callback_registered = false;
static bool request_complete = true;	/* whole response read */

/* How the current request ended when the helper died; set before raising. */
typedef struct Deadline
{
	TimestampTz at;
	bool		expired;
} Deadline;

static void
helper_kill(void)
{
	if (helper_fd >= 0)
		close(helper_fd);
	helper_fd = -1;
	if (helper_pid > 0)
	{
		int			status;

		kill(helper_pid, SIGKILL);
		while (waitpid(helper_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	helper_pid = 0;
}

static void
helper_at_exit(int code, Datum arg)
{
	helper_kill();
}

static void
helper_path(char *path, size_t size)
{
	char		dir[MAXPGPATH];
	char	   *slash;

	strlcpy(dir, my_exec_path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, size, "%s/%s", dir, HELPER_NAME);
}

static void
helper_start(void)
{
	char		path[MAXPGPATH];
	char		parent[32];
	char	   *argv[3];
	char	   *envp[] = {"LC_ALL=C", NULL};
	int			sv[2];
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t	none,
				all;
	pid_t		pid;
	int			rc;

	helper_path(path, sizeof(path));
	if (access(path, X_OK) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("document parser helper \"%s\" is missing or not executable", path),
				 errhint("Reinstall the resume_pipeline extension (make install installs the helper next to postgres).")));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		ereport(ERROR,
				(errcode_for_socket_access(),
				 errmsg("could not create socket pair for the document parser: %m")));

	snprintf(parent, sizeof(parent), "%d", (int) getpid());
	argv[0] = path;
	argv[1] = parent;
	argv[2] = NULL;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
	posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/*
	 * Its own process group: cancel and terminate signal the backend's whole group
	 * (kill(-pid)), and the helper must learn of them from us, not die of a stray SIGINT.
	 */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0)
	{
		close(sv[0]);
		errno = rc;
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not start document parser \"%s\": %m", path)));
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
	{
		helper_pid = pid;
		helper_fd = sv[0];
		helper_kill();
		ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR), errmsg("could not configure parser socket: %m")));
	}
	helper_pid = pid;
	helper_fd = sv[0];
	if (!exit_callback_registered)
	{
		on_proc_exit(helper_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
}

/* The helper closed the socket: reap it and report why it ended. Never returns. */
pg_attribute_noreturn()
static void
helper_died(const Deadline *deadline)
{
	int			status = 0;
	pid_t		pid = helper_pid;
	int			i;

	close(helper_fd);
	helper_fd = -1;
	/* The socket closes as the process exits; give the kernel a moment to finish. */
	for (i = 0; i < 1000; i++)
	{
		pid_t		r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		pg_usleep(1000);
	}
	if (i == 1000)
	{
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	helper_pid = 0;

	if (deadline->expired)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document parser exceeded its time limit and was stopped"),
				 errdetail("The wall-clock limit is three times resume_pipeline.parser_cpu_time_limit (%d s).",
						   rp_parser_cpu_time_limit_s)));
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document parser exceeded resume_pipeline.parser_cpu_time_limit (%d s) and was stopped",
						rp_parser_cpu_time_limit_s)));
	if (WIFSIGNALED(status))
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("document parser crashed (signal %d: %s) while reading the document",
						WTERMSIG(status), strsignal(WTERMSIG(status))),
				 errdetail("Only the parser process ended; this session is unaffected."),
				 errhint("The document is probably malformed, or needed more memory than resume_pipeline.parser_memory_limit (%d MB) allows.",
						 rp_parser_memory_limit_mb)));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("document parser exited unexpectedly with status %d",
					WIFEXITED(status) ? WEXITSTATUS(status) : -1)));
}

/*
 * Waits until the socket is ready for `event`, serving interrupts meanwhile. Past the
 * deadline the helper is killed and helper_died() reports the time limit.
 */
static void
wait_socket(int event, Deadline *deadline)
{
	long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline->at);
	int			rc;

	if (timeout <= 0)
	{
		deadline->expired = true;
		kill(helper_pid, SIGKILL);
		helper_died(deadline);
	}
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | event,
						   helper_fd, timeout, PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
send_all(const char *buf, size_t len, Deadline *deadline)
{
	while (len > 0)
	{
		ssize_t		n = send(helper_fd, buf, len, MSG_NOSIGNAL);

		if (n > 0)
		{
			buf += n;
			len -= n;
		}
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			wait_socket(WL_SOCKET_WRITEABLE, deadline);
		else
			helper_died(deadline);
	}
}

static void
recv_all(char *buf, size_t len, Deadline *deadline)
{
	while (len > 0)
	{
		ssize_t		n = recv(helper_fd, buf, len, 0);

		if (n > 0)
		{
			buf += n;
			len -= n;
		}
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			wait_socket(WL_SOCKET_READABLE, deadline);
		else
			helper_died(deadline);
	}
}

static int
sqlstate_of(uint32 status)
{
	switch (status)
	{
		case RP_STATUS_EMPTY:
		case RP_STATUS_CORRUPT:
		case RP_STATUS_UNSAFE_NAME:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
		case RP_STATUS_ENCRYPTED:
		case RP_STATUS_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case RP_STATUS_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case RP_STATUS_BAD_ENCODING:
			return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
		default:
			return ERRCODE_INTERNAL_ERROR;
	}
}

static char *
recv_text_field(uint32 len, Deadline *deadline)
{
	char	   *s;

	if (len > MAX_TEXT_FIELD)
	{
		helper_kill();
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("document parser sent a malformed response")));
	}
	s = palloc(len + 1);
	recv_all(s, len, deadline);
	s[len] = '\0';
	return s;
}

static void
exchange(rp_op op, uint32 arg, const char *data, size_t len, RpParsed *out)
{
	rp_request_header req;
	rp_response_header resp;
	Deadline	deadline;
	char	   *message;
	char	   *detail;

	request_complete = false;
	memset(&req, 0, sizeof(req));
	req.magic = RP_REQUEST_MAGIC;
	req.op = op;
	req.arg = arg;
	req.cpu_limit_s = rp_parser_cpu_time_limit_s;
	req.memory_limit = (uint64) rp_parser_memory_limit_mb * 1024 * 1024;
	req.max_file_size = (uint64) rp_max_file_size_kb * 1024;
	req.zip_max_entries = rp_zip_max_entries;
	req.zip_max_total_size = (uint64) rp_zip_max_total_size_kb * 1024;
	req.zip_max_ratio = rp_zip_max_ratio;
	req.data_len = len;

	deadline.at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  (int64) rp_parser_cpu_time_limit_s * 3000 + 1000);
	deadline.expired = false;

	send_all((const char *) &req, sizeof(req), &deadline);
	send_all(data, len, &deadline);
	recv_all((char *) &resp, sizeof(resp), &deadline);
	if (resp.magic != RP_RESPONSE_MAGIC || resp.payload_len > RP_MAX_MESSAGE_BYTES)
	{
		helper_kill();
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("document parser sent a malformed response")));
	}
	message = recv_text_field(resp.message_len, &deadline);
	detail = recv_text_field(resp.detail_len, &deadline);
	out->payload = MemoryContextAllocHuge(CurrentMemoryContext, resp.payload_len + 1);
	recv_all(out->payload, resp.payload_len, &deadline);
	out->payload[resp.payload_len] = '\0';
	out->payload_len = resp.payload_len;
	request_complete = true;

	if (resp.status != RP_STATUS_OK)
		ereport(ERROR,
				(errcode(sqlstate_of(resp.status)),
				 errmsg("%s", message),
				 detail[0] ? errdetail("%s", detail) : 0));
}

void
rp_parse(rp_op op, uint32 arg, const char *data, size_t len, RpParsed *out)
{
	/* Cheap refusal before shipping an oversized value to the helper. */
	if (len > (size_t) rp_max_file_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("document of %zu bytes exceeds resume_pipeline.max_file_size (%d kB)",
						len, rp_max_file_size_kb)));
	/*
	 * A helper that died while idle (OOM killer, an operator's kill) is not this document's
	 * fault: reap it quietly and start another.
	 */
	if (helper_pid > 0)
	{
		int			status;

		if (waitpid(helper_pid, &status, WNOHANG) == helper_pid)
		{
			close(helper_fd);
			helper_fd = -1;
			helper_pid = 0;
		}
	}
	if (helper_pid == 0)
		helper_start();

	PG_TRY();
	{
		exchange(op, arg, data, len, out);
	}
	PG_CATCH();
	{
		/*
		 * An error the helper reported leaves it between requests, ready for the next one;
		 * anything else (cancel, timeout, death) leaves it mid-request, so it is replaced.
		 */
		if (!request_complete)
			helper_kill();
		PG_RE_THROW();
	}
	PG_END_TRY();
}
