/*
 * The backend's side of crash isolation: resume_pipeline_parser processes, started on first
 * use and talked to over socket pairs. Slot 0 serves the SQL functions; a worker running
 * several jobs at once uses one slot per job, so their documents are parsed in parallel
 * (rp_parse_stream).
 *
 * Each helper is a sandboxed zygote (src/helper/): it lives as long as its slot, but reads no
 * document itself; every request is read and parsed by a fresh process it forked in advance,
 * under hard limits and a seccomp filter, and one that dies is answered for by the zygote
 * (crash, CPU limit, sandbox violation). The helper starts in "/" with an environment of LC_ALL=C
 * and OMP_THREAD_LIMIT=1 only, no descriptor of the backend but the socket, and /dev/null as
 * stderr: nothing it prints reaches the server log.
 *
 * Every wait goes through a WaitEventSet with the latch, so query cancel, statement_timeout
 * and backend termination interrupt a slow parse; an error in the middle of a request stops
 * the helpers involved (their state is unknown; a zygote kills its child before it exits) and
 * the next call starts fresh ones. Past the wall-clock deadline the helper is stopped and the
 * document fails with the time limit; if the zygote itself dies, how it died decides the
 * outcome: SIGXCPU is the CPU limit, any other signal a crash. None of this touches the
 * postmaster, so other sessions never notice.
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
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "event_loop.h"
#include "parser_client.h"
#include "settings.h"

#define HELPER_NAME "resume_pipeline_parser"
#define MAX_TEXT_FIELD (1024 * 1024)
#define RP_MAX_HELPERS (1 + RP_MAX_BATCH)

typedef struct RpHelper
{
	pid_t		pid;			/* 0 when not running */
	int			fd;
} RpHelper;

static RpHelper helpers[RP_MAX_HELPERS];
static bool exit_callback_registered = false;

/* Where a request stands in its exchange with the helper. */
typedef enum Phase
{
	SEND_HEADER,
	SEND_DATA,
	RECV_HEADER,
	RECV_MESSAGE,
	RECV_DETAIL,
	RECV_PAYLOAD,
	FINISHED
} Phase;

/*
 * Closes the socket and reaps the helper; returns its wait status. Closing is how a helper is
 * told to stop: the zygote then kills and reaps the document process it is running before it
 * exits, so none is orphaned (an orphan that died of a signal and was reaped by the postmaster,
 * PID 1 in a container, would look like a crashed backend). Tearing down a child takes about
 * 0.1 s per GB it holds; a helper that has not exited after 5 s is killed outright.
 */
static int
helper_stop(RpHelper *h)
{
	int			status = 0;
	int			i;

	close(h->fd);
	h->fd = -1;
	for (i = 0; i < 5000; i++)
	{
		pid_t		r = waitpid(h->pid, &status, WNOHANG);

		if (r == h->pid || (r < 0 && errno != EINTR))
			break;
		pg_usleep(1000);
	}
	if (i == 5000)
	{
		kill(h->pid, SIGKILL);
		while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	h->pid = 0;
	return status;
}

/* fd is valid exactly while pid is set. */
static void
helper_kill(RpHelper *h)
{
	if (h->pid > 0)
		helper_stop(h);
	h->pid = 0;
	h->fd = -1;
}

static void
helpers_at_exit(int code, Datum arg)
{
	int			i;

	for (i = 0; i < RP_MAX_HELPERS; i++)
		helper_kill(&helpers[i]);
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
helper_start(RpHelper *h)
{
	char		path[MAXPGPATH];
	char		parent[32];
	char	   *argv[3];
	/*
	 * OMP_THREAD_LIMIT: Tesseract parallelises with OpenMP, read when libgomp loads; a document
	 * process may not create threads (its filter allows no clone), so OCR runs on one.
	 */
	char	   *envp[] = {"LC_ALL=C", "OMP_THREAD_LIMIT=1", NULL};
	int			sv[2];
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t	none,
				all;
	pid_t		pid;
	int			rc;

	if (!exit_callback_registered)
	{
		on_proc_exit(helpers_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
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
	/* Not the server log, not the data directory. */
	posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addchdir_np(&actions, "/");
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
	h->fd = sv[0];
	h->pid = pid;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
	{
		helper_kill(h);
		ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR), errmsg("could not configure parser socket: %m")));
	}
}

/*
 * Ready for a request: a helper that died while idle (OOM killer, an operator's kill) is not
 * the next document's fault, so it is reaped quietly and replaced.
 */
static void
helper_ensure(RpHelper *h)
{
	if (h->pid > 0)
	{
		int			status;

		if (waitpid(h->pid, &status, WNOHANG) == h->pid)
		{
			close(h->fd);
			h->fd = -1;
			h->pid = 0;
		}
	}
	if (h->pid == 0)
		helper_start(h);
}

/*
 * The helper closed its socket mid-request, or ran past the deadline (expired): stop and reap
 * it, and describe how it ended.
 */
static void
helper_died(RpHelper *h, bool expired, RpBatchItem *item)
{
	int			status = helper_stop(h);

	item->detail = "";
	item->hint = "";
	if (expired)
	{
		item->status = RP_STATUS_TIME_LIMIT;
		item->message = "document parser exceeded its time limit and was stopped";
		item->detail = psprintf("The wall-clock limit is three times resume_pipeline.parser_cpu_time_limit (%d s).",
								rp_parser_cpu_time_limit_s);
	}
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
	{
		item->status = RP_STATUS_CPU_LIMIT;
		item->message = psprintf("document parser exceeded resume_pipeline.parser_cpu_time_limit (%d s) and was stopped",
								 rp_parser_cpu_time_limit_s);
	}
	else if (WIFSIGNALED(status))
	{
		item->status = RP_STATUS_CRASHED;
		item->message = psprintf("document parser crashed (signal %d: %s) while reading the document",
								 WTERMSIG(status), strsignal(WTERMSIG(status)));
		item->detail = "Only the parser process ended; this session is unaffected.";
		item->hint = psprintf("The document is probably malformed, or needed more memory than resume_pipeline.parser_memory_limit (%d MB) allows.",
							  rp_parser_memory_limit_mb);
	}
	else
	{
		item->status = RP_STATUS_PROTOCOL;
		item->message = psprintf("document parser exited unexpectedly with status %d",
								 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	item->phase = FINISHED;
}

static void
fill_request(RpBatchItem *item)
{
	rp_request_header *req = &item->request;

	memset(req, 0, sizeof(*req));
	req->magic = RP_REQUEST_MAGIC;
	req->op = item->op;
	req->arg = item->arg;
	req->cpu_limit_s = rp_parser_cpu_time_limit_s;
	req->memory_limit = (uint64) rp_parser_memory_limit_mb * 1024 * 1024;
	req->max_file_size = (uint64) rp_max_file_size_kb * 1024;
	req->zip_max_entries = rp_zip_max_entries;
	req->zip_max_total_size = (uint64) rp_zip_max_total_size_kb * 1024;
	req->zip_max_ratio = rp_zip_max_ratio;
	req->data_len = item->len;
	req->ocr = rp_ocr ? 1 : 0;
	req->ocr_dpi = rp_ocr_dpi;
	req->ocr_max_pages = rp_ocr_max_pages;
	req->ocr_max_pixels = (uint64) rp_ocr_max_megapixels * 1000000;
}

/* The buffer of the item's current phase: where to send from or receive into, and how much. */
static void
phase_buffer(RpBatchItem *item, char **buf, size_t *size)
{
	switch ((Phase) item->phase)
	{
		case SEND_HEADER:
			*buf = (char *) &item->request;
			*size = sizeof(item->request);
			break;
		case SEND_DATA:
			*buf = (char *) item->data;
			*size = item->len;
			break;
		case RECV_HEADER:
			*buf = (char *) &item->response;
			*size = sizeof(item->response);
			break;
		case RECV_MESSAGE:
			*buf = item->message;
			*size = item->response.message_len;
			break;
		case RECV_DETAIL:
			*buf = item->detail;
			*size = item->response.detail_len;
			break;
		case RECV_PAYLOAD:
			*buf = item->payload;
			*size = item->response.payload_len;
			break;
		default:
			*buf = NULL;
			*size = 0;
	}
}

/* A complete response header: check it and make room for the rest. */
static bool
accept_header(RpBatchItem *item)
{
	rp_response_header *r = &item->response;
	MemoryContext cxt = item->mcxt ? item->mcxt : CurrentMemoryContext;

	if (r->magic != RP_RESPONSE_MAGIC || r->payload_len > RP_MAX_MESSAGE_BYTES ||
		r->message_len > MAX_TEXT_FIELD || r->detail_len > MAX_TEXT_FIELD ||
		(r->status != RP_STATUS_OK && r->payload_len > MAX_TEXT_FIELD))
		return false;
	item->message = MemoryContextAllocZero(cxt, r->message_len + 1);
	item->detail = MemoryContextAllocZero(cxt, r->detail_len + 1);
	item->payload = MemoryContextAllocHuge(cxt, r->payload_len + 1);
	item->payload[r->payload_len] = '\0';
	item->payload_len = r->payload_len;
	return true;
}

/*
 * Moves one item on as far as its socket allows. Returns false when the helper is gone or
 * broke the protocol (the item is then finished with the reason).
 */
static bool
advance(RpBatchItem *item)
{
	RpHelper   *h = &helpers[item->slot];

	while (item->phase != FINISHED)
	{
		char	   *buf;
		size_t		size;
		ssize_t		n;
		bool		sending = item->phase <= SEND_DATA;

		phase_buffer(item, &buf, &size);
		if (item->done < size)
		{
			n = sending ? send(h->fd, buf + item->done, size - item->done, MSG_NOSIGNAL)
				: recv(h->fd, buf + item->done, size - item->done, 0);
			if (n > 0)
			{
				item->done += n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return true;
			helper_died(h, false, item);
			return false;
		}
		/* Phase complete. */
		if (item->phase == RECV_HEADER && !accept_header(item))
		{
			helper_kill(h);
			item->status = RP_STATUS_PROTOCOL;
			item->message = "document parser sent a malformed response";
			item->detail = item->hint = "";
			item->phase = FINISHED;
			return false;
		}
		item->phase++;
		item->done = 0;
		if (item->phase == FINISHED)
		{
			item->status = item->response.status;
			item->flags = item->response.flags;
			item->hint = "";
			if (item->status != RP_STATUS_OK)
			{
				/* A failure's payload is its hint. */
				item->hint = item->payload;
				item->payload = NULL;
				item->payload_len = 0;
			}
		}
	}
	return true;
}

/* Starts an item's request on its helper; an oversized document is refused at once. */
static void
start_item(RpBatchItem *item)
{
	item->phase = SEND_HEADER;
	item->done = 0;
	item->status = RP_STATUS_OK;
	item->flags = 0;
	item->payload = NULL;
	item->payload_len = 0;
	item->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 (int64) rp_parser_cpu_time_limit_s * 3000 + 1000);
	if (item->len > (size_t) rp_max_file_size_kb * 1024)
	{
		/* Cheap refusal before shipping an oversized value to the helper. */
		item->status = RP_STATUS_LIMIT;
		item->message = psprintf("document of %zu bytes exceeds resume_pipeline.max_file_size (%d kB)",
								 item->len, rp_max_file_size_kb);
		item->detail = item->hint = "";
		item->phase = FINISHED;
		return;
	}
	helper_ensure(&helpers[item->slot]);
	fill_request(item);
}

static void
item_ready(void *arg, pgsocket fd, uint32 events)
{
	RpBatchItem *item = (RpBatchItem *) arg;

	if (item->phase != FINISHED)
		(void) advance(item);
}

void
rp_parse_start(RpBatchItem *item, int slot)
{
	Assert(slot >= 0 && slot < RP_MAX_HELPERS);
	item->slot = slot;
	start_item(item);
	if (item->phase != FINISHED)
		(void) advance(item);	/* most requests are sent at once */
}

void
rp_parse_watch(RpLoop *loop, RpBatchItem *item)
{
	if (item->phase == FINISHED)
		return;
	rp_loop_watch(loop, helpers[item->slot].fd,
				  item->phase <= SEND_DATA ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE, item_ready, item);
	rp_loop_wake_at(loop, item->deadline);
}

bool
rp_parse_poll(RpBatchItem *item)
{
	if (item->phase != FINISHED)
		(void) advance(item);
	/* Past its wall-clock limit: that document's helper is stopped, the others go on. */
	if (item->phase != FINISHED && GetCurrentTimestamp() >= item->deadline)
		helper_died(&helpers[item->slot], true, item);
	return item->phase == FINISHED;
}

void
rp_parse_abandon(RpBatchItem *item)
{
	if (item->phase == FINISHED)
		return;
	/* Whatever was mid-request is in an unknown state: the helper goes, the next request starts a new one. */
	helper_kill(&helpers[item->slot]);
	item->status = RP_STATUS_INTERNAL;
	item->message = "the request was abandoned";
	item->detail = item->hint = "";
	item->phase = FINISHED;
}

void
rp_parse_pool_trim(int keep)
{
	int			i;

	for (i = Max(keep, 1); i < RP_MAX_HELPERS; i++)
		helper_kill(&helpers[i]);
}

int
rp_sqlstate_of(uint32 status)
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
		case RP_STATUS_CPU_LIMIT:
		case RP_STATUS_TIME_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case RP_STATUS_BAD_ENCODING:
			return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
		case RP_STATUS_CRASHED:
			return ERRCODE_SYSTEM_ERROR;
		default:
			return ERRCODE_INTERNAL_ERROR;
	}
}

void
rp_parse(rp_op op, uint32 arg, const char *data, size_t len, RpParsed *out)
{
	RpBatchItem item;
	RpLoop	   *loop;

	memset(&item, 0, sizeof(item));
	item.op = op;
	item.arg = arg;
	item.data = data;
	item.len = len;
	loop = rp_loop_create(CurrentMemoryContext);
	PG_TRY();
	{
		rp_parse_start(&item, 0);
		while (!rp_parse_poll(&item))
		{
			rp_parse_watch(loop, &item);
			(void) rp_loop_wait(loop, PG_WAIT_EXTENSION);
		}
	}
	PG_CATCH();
	{
		/* Cancel, termination: the helper is stopped, the next call starts a new one. */
		rp_parse_abandon(&item);
		PG_RE_THROW();
	}
	PG_END_TRY();
	rp_loop_destroy(loop);
	if (item.status != RP_STATUS_OK)
		ereport(ERROR,
				(errcode(rp_sqlstate_of(item.status)),
				 errmsg("%s", item.message),
				 item.detail[0] ? errdetail("%s", item.detail) : 0,
				 item.hint[0] ? errhint("%s", item.hint) : 0));
	out->payload = item.payload;
	out->payload_len = item.payload_len;
	out->flags = item.flags;
}
