/*
 * The HTTP requests of call jobs, as Postgres sees them. SQL writes a request in JSON
 * (sql/install/52_calls.sql: method, url, headers, body, "auth", "dependency", timeout_ms,
 * max_bytes); net_client.cpp reads and checks it, adds the key its "auth" names (from the
 * settings here, sent only under that service's base URL: SQL never sees a key) and runs it on
 * the backend's HTTP client; the answer comes back as the contract's response jsonb
 * ({"status", "outcome", "message", "headers", "milliseconds"}) and the body as bytea, whatever
 * its status: what an answer means is SQL's to decide.
 *
 * _http_call(request) runs one such request in the calling session, for sessions without
 * workers: it waits in an event loop that wakes on the latch (net_loop.c), so query cancel,
 * statement_timeout and termination stop it at once. A session does not report to circuits or
 * the rate limiter; only the workers' call plan does (job_steps.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "http_call.h"
#include "net_loop.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(rp_http_call);

static const char *
setting(const char *s)
{
	return s ? s : "";
}

void
rp_request_defaults_from_settings(RpRequestDefaults *defaults)
{
	memset(defaults, 0, sizeof(*defaults));
	defaults->openai.base_url = setting(rp_openai_base_url);
	defaults->openai.key = setting(rp_openai_api_key);
	defaults->github.base_url = setting(rp_github_base_url);
	defaults->github.key = setting(rp_github_token);
	defaults->linkedin.base_url = setting(rp_linkedin_provider_url);
	defaults->linkedin.key = setting(rp_linkedin_provider_key);
	defaults->timeout_ms = rp_request_timeout_ms;
	defaults->max_response_bytes = (uint64) rp_max_response_size_kb * 1024;
}

bool
rp_http_start(RpNet *net, const char *request_text, void *tag, char *message, size_t message_size)
{
	RpRequestDefaults defaults;
	char	   *utf8 = pg_server_to_any(request_text, strlen(request_text), PG_UTF8);

	rp_request_defaults_from_settings(&defaults);
	return rp_net_start_request(net, utf8, strlen(utf8), &defaults, tag, message, message_size);
}

/* A diagnostic as a JSON string: ASCII, so no database encoding can refuse it. */
static void
append_message(StringInfo buf, const char *message)
{
	char	   *m = pstrdup(message ? message : "");

	for (char *c = m; *c; c++)
		if ((unsigned char) *c >= 0x80 || (unsigned char) *c < 0x20)
			*c = '?';
	escape_json(buf, m);
	pfree(m);
}

char *
rp_http_response_text(const RpNetDone *done)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"status\": %ld, \"outcome\": ", done->http_status);
	escape_json(&buf, done->outcome);
	appendStringInfoString(&buf, ", \"message\": ");
	append_message(&buf, done->message);
	/* ASCII JSON from net_client.cpp (non-ASCII as \u escapes). */
	appendStringInfo(&buf, ", \"headers\": %s, \"milliseconds\": %.0f}",
					 done->headers_json ? done->headers_json : "{}", done->milliseconds);
	return buf.data;
}

char *
rp_http_refused_text(const char *message)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"status\": 0, \"outcome\": \"refused\", \"message\": ");
	append_message(&buf, message);
	appendStringInfoString(&buf, ", \"headers\": {}, \"milliseconds\": 0}");
	return buf.data;
}

bytea *
rp_http_body(const RpNetDone *done)
{
	size_t		len = done->data ? done->len : 0;
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	if (len > 0)
		memcpy(VARDATA(b), done->data, len);
	return b;
}

/* _http_call(request jsonb, OUT response jsonb, OUT body bytea) */
Datum
rp_http_call(PG_FUNCTION_ARGS)
{
	Jsonb	   *request = PG_GETARG_JSONB_P(0);
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	RpNet	   *net = rp_backend_net();
	RpNetDone	done;
	char		message[1024];
	int			tag;			/* its address tells this call from any other in flight */
	char	   *text;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_http_call must return a record");
	text = JsonbToCString(NULL, &request->root, VARSIZE(request));
	if (!rp_http_start(net, text, &tag, message, sizeof(message)))
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("HTTP request failed: %s", message)));
	rp_net_wait_done(net, &tag, &done);
	PG_TRY();
	{
		values[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(rp_http_response_text(&done)));
		values[1] = PointerGetDatum(rp_http_body(&done));
	}
	PG_FINALLY();
	{
		rp_net_done_free(&done);
	}
	PG_END_TRY();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
