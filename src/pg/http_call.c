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
 *
 * Ashby's keys are each user's own (users.ashby_api_key), not settings: a request with
 * "auth": "ashby" names whose key in "auth_user", and the key is read here from the table (in a
 * short transaction of its own in a worker, in the caller's in a session), never by SQL, so no
 * job row, error, log line or NOTIFY can hold it. It is sent as HTTP Basic (the key as the user
 * name, an empty password) and only to URLs under resume_pipeline.ashby_base_url.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

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

/* ---- Ashby: the user's own key --------------------------------------------------------- */

/* A top-level string field of a JSON object, or NULL. */
static char *
json_string_field(Jsonb *j, const char *name)
{
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(j) ||
		getKeyJsonValueFromContainer(&j->root, name, strlen(name), &v) == NULL || v.type != jbvString)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

/* The URL is the base URL or below it (as net_client.cpp's under_base). */
static bool
url_under_base(const char *url, const char *base)
{
	size_t		n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(url, base, n) != 0)
		return false;
	return url[n] == '\0' || strchr("/?#", url[n]) != NULL;
}

static bool
has_authorization_header(Jsonb *j)
{
	JsonbValue	v;
	JsonbIterator *it;
	JsonbIteratorToken t;

	if (getKeyJsonValueFromContainer(&j->root, "headers", 7, &v) == NULL || v.type != jbvBinary)
		return false;
	it = JsonbIteratorInit(v.val.binary.data);
	while ((t = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (t == WJB_KEY && v.val.string.len == 13 && pg_strncasecmp(v.val.string.val, "authorization", 13) == 0)
			return true;
	return false;
}

/* users.ashby_api_key of a user, in CurrentMemoryContext; NULL when none is stored. */
static char *
ashby_key_lookup(const char *user_id)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(user_id);
	char	   *key = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT u.ashby_api_key FROM resume_pipeline.users u WHERE u.id = $1::uuid",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the user's Ashby key");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			text	   *t = DatumGetTextPP(d);

			key = MemoryContextAlloc(cxt, VARSIZE_ANY_EXHDR(t) + 1);
			memcpy(key, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			key[VARSIZE_ANY_EXHDR(t)] = '\0';
		}
	}
	SPI_finish();
	return key;
}

typedef struct AshbyRewrite
{
	const char *request_text;
	char	   *result;			/* the request to send, with the key; NULL: refused */
	char	   *why;			/* why it was refused */
} AshbyRewrite;

/*
 * {"auth": "ashby", "auth_user": id, …} into the request net_client.cpp sends: without those two
 * fields, with Authorization: Basic base64("<key>:"). Refused (why set) when the URL is not
 * under resume_pipeline.ashby_base_url, the request brings its own Authorization, or the user
 * has no key. Every message names the user at most, never the key.
 */
static void
ashby_rewrite(AshbyRewrite *r)
{
	Jsonb	   *req = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(r->request_text)));
	char	   *url = json_string_field(req, "url");
	char	   *user = json_string_field(req, "auth_user");
	const char *base = rp_ashby_base_url ? rp_ashby_base_url : "";
	char	   *key;
	char	   *plain;
	char	   *encoded;
	int			plain_len,
				encoded_len;
	StringInfoData value;
	Datum		path[2];
	Jsonb	   *out;

	r->result = NULL;
	if (base[0] == '\0')
	{
		r->why = "resume_pipeline.ashby_base_url is not set";
		return;
	}
	if (url == NULL || !url_under_base(url, base))
	{
		r->why = "the key of \"auth\": \"ashby\" is sent only to URLs under resume_pipeline.ashby_base_url";
		return;
	}
	if (user == NULL)
	{
		r->why = "\"auth\": \"ashby\" needs \"auth_user\", the user whose key it sends";
		return;
	}
	if (has_authorization_header(req))
	{
		r->why = "\"auth\" and an Authorization header together";
		return;
	}
	(void) DirectFunctionCall1(uuid_in, CStringGetDatum(user));	/* a uuid, or an ERROR */
	key = ashby_key_lookup(user);
	if (key == NULL)
	{
		r->why = psprintf("the user %s has no Ashby API key (users.ashby_api_key)", user);
		return;
	}
	plain = psprintf("%s:", key);
	plain_len = strlen(plain);
	encoded = palloc(pg_b64_enc_len(plain_len) + 1);
	encoded_len = pg_b64_encode(plain, plain_len, encoded, pg_b64_enc_len(plain_len));
	if (encoded_len < 0)
		elog(ERROR, "could not encode the Ashby credentials");
	encoded[encoded_len] = '\0';
	initStringInfo(&value);
	appendStringInfoString(&value, "\"Basic ");
	appendStringInfoString(&value, encoded);	/* base64: nothing to escape */
	appendStringInfoChar(&value, '"');

	out = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(req), CStringGetTextDatum("auth")));
	out = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(out), CStringGetTextDatum("auth_user")));
	if (!JB_ROOT_IS_OBJECT(out) || getKeyJsonValueFromContainer(&out->root, "headers", 7, &(JsonbValue) {0}) == NULL)
		out = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(out),
												 DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"headers\": {}}"))));
	path[0] = CStringGetTextDatum("headers");
	path[1] = CStringGetTextDatum("Authorization");
	out = DatumGetJsonbP(DirectFunctionCall4(jsonb_set, JsonbPGetDatum(out),
											 PointerGetDatum(construct_array(path, 2, TEXTOID, -1, false, TYPALIGN_INT)),
											 DirectFunctionCall1(jsonb_in, CStringGetDatum(value.data)),
											 BoolGetDatum(true)));
	r->result = JsonbToCString(NULL, &out->root, VARSIZE(out));
	explicit_bzero(key, strlen(key));
	explicit_bzero(plain, plain_len);
	explicit_bzero(encoded, encoded_len);
	explicit_bzero(value.data, value.len);
}

/*
 * In a worker (no transaction open), the lookup runs in a transaction of its own and any ERROR
 * becomes a refusal; in a session it runs in the caller's transaction and an ERROR is the
 * caller's.
 */
static bool
ashby_request(AshbyRewrite *r)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool own = !IsTransactionState();

	if (!own)
	{
		ashby_rewrite(r);
		return r->result != NULL;
	}
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		MemoryContextSwitchTo(cxt);
		ashby_rewrite(r);
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		MemoryContextSwitchTo(cxt);
		r->result = NULL;
		r->why = psprintf("could not read the Ashby key: %s", e->message ? e->message : "unknown error");
		FreeErrorData(e);
	}
	PG_END_TRY();
	return r->result != NULL;
}

/* Whether a request names "auth": "ashby" (a cheap look first: most requests do not). */
static bool
is_ashby_request(const char *request_text)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ashby = false;

	if (strstr(request_text, "\"ashby\"") == NULL)
		return false;
	PG_TRY();
	{
		Jsonb	   *req = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(request_text)));
		char	   *auth = json_string_field(req, "auth");

		ashby = auth != NULL && strcmp(auth, "ashby") == 0;
	}
	PG_CATCH();
	{
		/* Not JSON: net_client.cpp refuses it and says why. */
		if (IsTransactionState())
			PG_RE_THROW();
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
	}
	PG_END_TRY();
	return ashby;
}

bool
rp_http_start(RpNet *net, const char *request_text, void *tag, char *message, size_t message_size)
{
	RpRequestDefaults defaults;
	char	   *utf8;
	bool		started;

	rp_request_defaults_from_settings(&defaults);
	if (is_ashby_request(request_text))
	{
		AshbyRewrite r = {request_text, NULL, NULL};

		if (!ashby_request(&r))
		{
			strlcpy(message, r.why, message_size);
			return false;
		}
		utf8 = pg_server_to_any(r.result, strlen(r.result), PG_UTF8);
		started = rp_net_start_request(net, utf8, strlen(utf8), &defaults, tag, message, message_size);
		explicit_bzero(r.result, strlen(r.result));
		if (utf8 != r.result)
			explicit_bzero(utf8, strlen(utf8));
		return started;
	}
	utf8 = pg_server_to_any(request_text, strlen(request_text), PG_UTF8);
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
