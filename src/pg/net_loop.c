/*
 * The backend's HTTP client, as Postgres sees it. A backend has one curl multi handle
 * (net_client.cpp), created on first use and destroyed at process exit; every S3 request and
 * model call of the process goes through it, so connections are reused and any number of
 * transfers share one wait. The worker registers the client in its own event loop
 * (rp_net_watch, rp_net_after_wait); a SQL function waiting for one transfer uses
 * rp_net_wait_done, whose wait wakes on the latch, so a query cancel, statement_timeout or
 * pg_terminate_backend interrupts it at once instead of when the transfer ends.
 */
#include "postgres.h"

#include <poll.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "net_loop.h"
#include "settings.h"

static RpNet *backend_net = NULL;
static char schema_path_buf[MAXPGPATH];

static void
destroy_backend_net(int code, Datum arg)
{
	if (backend_net != NULL)
	{
		rp_net_destroy(backend_net);
		backend_net = NULL;
	}
}

RpNet *
rp_backend_net(void)
{
	if (backend_net == NULL)
	{
		char		message[256];

		backend_net = rp_net_create(message, sizeof(message));
		if (backend_net == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("cannot start the HTTP client: %s", message)));
		on_proc_exit(destroy_backend_net, (Datum) 0);
	}
	return backend_net;
}

RpNet *
rp_backend_net_if_ready(void)
{
	if (backend_net == NULL)
	{
		char		message[256];

		/* No exit callback (registering one may raise): the process's exit releases it. */
		backend_net = rp_net_create(message, sizeof(message));
	}
	return backend_net;
}

static void
net_ready(void *arg, pgsocket fd, uint32 events)
{
	rp_net_socket_ready((RpNet *) arg, fd, (events & WL_SOCKET_READABLE) != 0,
						(events & WL_SOCKET_WRITEABLE) != 0);
}

void
rp_net_watch(RpLoop *loop, RpNet *net)
{
	RpNetSocket local[32];
	RpNetSocket *sockets = local;
	int			n = rp_net_sockets(net, local, lengthof(local));
	long		timeout;

	if (n > lengthof(local))
	{
		sockets = palloc(sizeof(RpNetSocket) * n);
		n = rp_net_sockets(net, sockets, n);
	}
	for (int i = 0; i < n; i++)
	{
		uint32		events = 0;

		if (sockets[i].want & 1)
			events |= WL_SOCKET_READABLE;
		if (sockets[i].want & 2)
			events |= WL_SOCKET_WRITEABLE;
		if (events != 0)
			rp_loop_watch(loop, sockets[i].fd, events, net_ready, net);
	}
	if (sockets != local)
		pfree(sockets);
	timeout = rp_net_timeout_ms(net);
	/* A result already there (a request refused before sending) is taken without waiting. */
	if (rp_net_done_waiting(net) > 0)
		timeout = 0;
	if (timeout >= 0)
		rp_loop_wake_at(loop, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout));
}

void
rp_net_after_wait(RpNet *net)
{
	if (rp_net_timeout_ms(net) == 0)
		rp_net_timer_expired(net);
}

void
rp_s3_target_from_settings(RpS3Target *target)
{
	memset(target, 0, sizeof(*target));
	target->endpoint = rp_s3_endpoint ? rp_s3_endpoint : "";
	target->region = rp_s3_region ? rp_s3_region : "";
	target->access_key = rp_s3_access_key ? rp_s3_access_key : "";
	target->secret_key = rp_s3_secret_key ? rp_s3_secret_key : "";
	target->timeout_ms = rp_request_timeout_ms;
	/* A GET brings a document: no larger than any document accepted. */
	target->max_response_bytes = (uint64) rp_max_file_size_kb * 1024;
}

void
rp_llm_schema_path(char *path, size_t size)
{
	char		share[MAXPGPATH];

	get_share_path(my_exec_path, share);
	snprintf(path, size, "%s/extension/resume_pipeline_schema.json", share);
}

void
rp_llm_target_from_settings(RpLlmTarget *target)
{
	memset(target, 0, sizeof(*target));
	if (schema_path_buf[0] == '\0')
		rp_llm_schema_path(schema_path_buf, sizeof(schema_path_buf));
	target->base_url = rp_openai_base_url ? rp_openai_base_url : "";
	target->api_key = rp_openai_api_key ? rp_openai_api_key : "";
	target->model = rp_openai_model ? rp_openai_model : "";
	target->schema_path = schema_path_buf;
	target->timeout_ms = rp_request_timeout_ms;
	target->max_response_bytes = (uint64) rp_max_response_size_kb * 1024;
}

void
rp_net_wait_done(RpNet *net, void *tag, RpNetDone *out)
{
	RpLoop	   *loop;

	if (rp_net_take_done(net, tag, out))
		return;
	loop = rp_loop_create(CurrentMemoryContext);
	PG_TRY();
	{
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			rp_net_watch(loop, net);
			/* A transfer in flight always has a socket or libcurl's timer (its timeout). */
			if (!rp_loop_has_waits(loop))
				elog(ERROR, "the HTTP transfer waited for is not in flight");
			rp_loop_wait(loop, PG_WAIT_EXTENSION);
			rp_net_after_wait(net);
			if (rp_net_take_done(net, tag, out))
				break;
		}
	}
	PG_CATCH();
	{
		/* Cancel, timeout or an error: nothing of this call stays in flight. */
		rp_net_cancel(net, tag);
		rp_loop_destroy(loop);
		PG_RE_THROW();
	}
	PG_END_TRY();
	rp_loop_destroy(loop);
}

/*
 * As rp_net_wait_done, for places where nothing may raise (the end of a transaction): plain
 * poll() on libcurl's sockets, no latch, no interrupt processing, at most timeout_ms. False
 * (and the transfer cancelled) when it did not finish in time.
 */
bool
rp_net_wait_quietly(RpNet *net, void *tag, RpNetDone *out, long timeout_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	for (;;)
	{
		RpNetSocket socks[16];
		struct pollfd fds[16];
		int			n;
		long		wait_ms = rp_net_timeout_ms(net);
		long		left;

		if (rp_net_take_done(net, tag, out))
			return true;
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
			break;
		n = Min(rp_net_sockets(net, socks, lengthof(socks)), (int) lengthof(socks));
		for (int i = 0; i < n; i++)
		{
			fds[i].fd = socks[i].fd;
			fds[i].events = ((socks[i].want & 1) ? POLLIN : 0) | ((socks[i].want & 2) ? POLLOUT : 0);
			fds[i].revents = 0;
		}
		if (wait_ms < 0 || wait_ms > left)
			wait_ms = left;
		if (poll(fds, n, (int) Min(wait_ms, 1000)) > 0)
		{
			for (int i = 0; i < n; i++)
				if (fds[i].revents)
					rp_net_socket_ready(net, fds[i].fd, (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0,
										(fds[i].revents & (POLLOUT | POLLERR)) != 0);
		}
		rp_net_timer_expired(net);
	}
	rp_net_cancel(net, tag);
	return false;
}

/* The SQLSTATE of a model call's outcome: transient ones (08, 53, 58) are retried by the pipeline. */
int
rp_model_sqlstate(const RpNetDone *done)
{
	const char *o = done->outcome;

	if (strcmp(o, "transport") == 0 || strcmp(o, "timeout") == 0)
		return ERRCODE_CONNECTION_FAILURE;
	if (strcmp(o, "rate_limited") == 0)
		return ERRCODE_INSUFFICIENT_RESOURCES;
	if (strcmp(o, "server_error") == 0)
		return ERRCODE_SYSTEM_ERROR;
	if (strcmp(o, "insufficient_quota") == 0)
		return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	if (strcmp(o, "client_error") == 0)
		return (done->http_status == 401 || done->http_status == 403) ? ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION
			: ERRCODE_INVALID_PARAMETER_VALUE;
	if (strcmp(o, "setup") == 0)
		return ERRCODE_CONFIG_FILE_ERROR;
	return ERRCODE_DATA_EXCEPTION;	/* refusal, truncated, content_filter, not_json, schema_violation, malformed */
}
