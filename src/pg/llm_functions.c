/*
 * _llm_call(text) → (result jsonb, model, schema_version, tokens, milliseconds): one résumé
 * text read by the OpenAI-compatible model at
 * resume_pipeline.openai_base_url with a strict structured-output schema, in the calling
 * session. The call goes through the backend's HTTP client (net_loop.c: one curl multi handle)
 * and this session waits for it in an event loop that wakes on the latch, so query cancel,
 * statement_timeout and termination stop it at once. The answer is untrusted input: it is read
 * and validated against the schema by the core before anything is returned. Every failure is an
 * ERROR whose SQLSTATE says whether a retry can help; no message ever holds the key.
 * llm_parse_resume() (SQL) puts the answer cache in front of it.
 *
 * _chat_request(schema, name, system prompt, text) and _chat_answer(schema, response, body) are
 * the same model protocol for any task the SQL side asks of it (call jobs send the request with
 * _http_call or the worker's call plan): the Chat Completions body with a strict structured
 * output, and the answer read as untrusted input and validated against the schema SQL gave.
 */
#include "postgres.h"

#include <stdlib.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "net_loop.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(rp_llm_call);
PG_FUNCTION_INFO_V1(rp_sql_llm_schema_version);
PG_FUNCTION_INFO_V1(rp_chat_request);
PG_FUNCTION_INFO_V1(rp_chat_answer);

/* An argument's text in UTF-8 (NUL-terminated; the length in *len). */
static char *
utf8_arg(text *t, size_t *len)
{
	char	   *server = text_to_cstring(t);
	char	   *utf8 = pg_server_to_any(server, strlen(server), PG_UTF8);

	*len = strlen(utf8);
	return utf8;
}

static char *
jsonb_utf8_arg(Jsonb *j, size_t *len)
{
	char	   *server = JsonbToCString(NULL, &j->root, VARSIZE(j));
	char	   *utf8 = pg_server_to_any(server, strlen(server), PG_UTF8);

	*len = strlen(utf8);
	return utf8;
}

/* UTF-8 JSON from the core (malloc'd, freed here) as jsonb. */
static Datum
jsonb_from_utf8(char *json)
{
	volatile Datum result = (Datum) 0;

	PG_TRY();
	{
		char	   *server = pg_any_to_server(json, strlen(json), PG_UTF8);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(server));
	}
	PG_FINALLY();
	{
		free(json);
	}
	PG_END_TRY();
	return result;
}

static void
require_arg(FunctionCallInfo fcinfo, int i, const char *name)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * _chat_request(schema jsonb, schema_name text, system_prompt text, user_text text,
 * max_completion_tokens int DEFAULT 2000) → jsonb: the Chat Completions body for the model of
 * resume_pipeline.openai_model, temperature 0, response_format json_schema strict with the
 * schema (22023 when the validator cannot enforce it whole); a null system prompt sends none.
 */
Datum
rp_chat_request(PG_FUNCTION_ARGS)
{
	size_t		schema_len,
				system_len = 0,
				user_len;
	char	   *schema,
			   *name,
			   *system = NULL,
			   *user;
	int32		max_tokens;
	char	   *body = NULL;
	bool		invalid = false;
	char		message[1024];

	require_arg(fcinfo, 0, "schema");
	require_arg(fcinfo, 1, "schema_name");
	require_arg(fcinfo, 3, "user_text");
	require_arg(fcinfo, 4, "max_completion_tokens");
	schema = jsonb_utf8_arg(PG_GETARG_JSONB_P(0), &schema_len);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		system = utf8_arg(PG_GETARG_TEXT_PP(2), &system_len);
	user = utf8_arg(PG_GETARG_TEXT_PP(3), &user_len);
	max_tokens = PG_GETARG_INT32(4);
	if (max_tokens < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_completion_tokens must be at least 1")));
	if (!rp_chat_request_build(schema, schema_len, name, rp_openai_model ? rp_openai_model : "", system,
							   system_len, user, user_len, max_tokens, &body, &invalid, message, sizeof(message)))
		ereport(ERROR,
				(errcode(invalid ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_OUT_OF_MEMORY),
				 errmsg("cannot build the model request: %s", message)));
	PG_RETURN_DATUM(jsonb_from_utf8(body));
}

/*
 * _chat_answer(schema jsonb, response jsonb, body bytea) → (outcome, content jsonb, message,
 * retryable, retry_after_ms, usage jsonb): a Chat Completions answer (the call jobs' response and
 * body) read against the schema. outcome: ok, refusal, truncated, content_filter, not_json,
 * schema_violation, rate_limited, insufficient_quota, server_error, client_error,
 * malformed_answer, or the transfer's own (transport, timeout, too_large, refused, aborted)
 * when no answer came. content only when ok; usage {"model", "prompt_tokens",
 * "completion_tokens"} when the answer said.
 */
Datum
rp_chat_answer(PG_FUNCTION_ARGS)
{
	size_t		schema_len,
				response_len;
	char	   *schema,
			   *response;
	bytea	   *body;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, true, false, false, true, true};
	RpChatAnswer a;
	bool		invalid = false;
	char		message[1024];
	uint64		cap = (uint64) rp_max_response_size_kb * 1024;

	require_arg(fcinfo, 0, "schema");
	require_arg(fcinfo, 1, "response");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_chat_answer must return a record");
	schema = jsonb_utf8_arg(PG_GETARG_JSONB_P(0), &schema_len);
	response = jsonb_utf8_arg(PG_GETARG_JSONB_P(1), &response_len);
	body = PG_ARGISNULL(2) ? NULL : PG_GETARG_BYTEA_PP(2);
	/* The body already passed its request's cap: only the default bounds a larger one. */
	if (body != NULL && VARSIZE_ANY_EXHDR(body) > cap)
		cap = VARSIZE_ANY_EXHDR(body);
	if (!rp_chat_answer_read(schema, schema_len, response, response_len, body ? VARDATA_ANY(body) : NULL,
							 body ? VARSIZE_ANY_EXHDR(body) : 0, cap, &a, &invalid, message, sizeof(message)))
		ereport(ERROR,
				(errcode(invalid ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_OUT_OF_MEMORY),
				 errmsg("cannot read the model answer: %s", message)));
	values[0] = CStringGetTextDatum(a.outcome);
	if (a.content_json != NULL)
	{
		values[1] = jsonb_from_utf8(a.content_json);
		nulls[1] = false;
	}
	values[2] = CStringGetTextDatum(pg_any_to_server(a.message, strlen(a.message), PG_UTF8));
	values[3] = BoolGetDatum(a.retryable);
	if (a.retry_after_ms >= 0)
	{
		values[4] = Int64GetDatum(a.retry_after_ms);
		nulls[4] = false;
	}
	if (a.model[0] != '\0' || a.prompt_tokens >= 0 || a.completion_tokens >= 0)
	{
		StringInfoData usage;

		initStringInfo(&usage);
		appendStringInfoString(&usage, "{\"model\": ");
		if (a.model[0] != '\0')
			escape_json(&usage, pg_any_to_server(a.model, strlen(a.model), PG_UTF8));
		else
			appendStringInfoString(&usage, "null");
		appendStringInfoString(&usage, ", \"prompt_tokens\": ");
		if (a.prompt_tokens >= 0)
			appendStringInfo(&usage, "%lld", a.prompt_tokens);
		else
			appendStringInfoString(&usage, "null");
		appendStringInfoString(&usage, ", \"completion_tokens\": ");
		if (a.completion_tokens >= 0)
			appendStringInfo(&usage, "%lld}", a.completion_tokens);
		else
			appendStringInfoString(&usage, "null}");
		values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(usage.data));
		nulls[5] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* _llm_schema_version() returns text: the installed schema's version, e.g. "resume-v1" */
Datum
rp_sql_llm_schema_version(PG_FUNCTION_ARGS)
{
	char		path[MAXPGPATH];
	char		version[64];
	char		message[512];

	rp_llm_schema_path(path, sizeof(path));
	if (!rp_net_schema_version(rp_backend_net(), path, version, sizeof(version), message, sizeof(message)))
		ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("%s", message)));
	PG_RETURN_TEXT_P(cstring_to_text(version));
}

Datum
rp_llm_call(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	RpNet	   *net = rp_backend_net();
	RpLlmTarget target;
	RpNetDone	done;
	char		message[1024];
	int			tag;			/* its address tells this call from any other in flight */
	volatile Datum result = (Datum) 0;	/* set in PG_TRY */
	char	   *server_text;
	char	   *utf8;

	rp_llm_target_from_settings(&target);
	if (target.api_key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("resume_pipeline.openai_api_key is not set"),
				 errhint("Set it in postgresql.conf or with ALTER SYSTEM, then reload.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_llm_call must return a record");
	/* NUL-terminated first: the conversion returns its input as is when nothing changes. */
	server_text = text_to_cstring(t);
	utf8 = pg_server_to_any(server_text, strlen(server_text), PG_UTF8);

	if (!rp_net_start_llm(net, &target, utf8, strlen(utf8), &tag, message, sizeof(message)))
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("model call failed: %s", message)));
	rp_net_wait_done(net, &tag, &done);

	if (!done.ok)
	{
		int			sqlstate = rp_model_sqlstate(&done);
		long long	retry_after_ms = done.retry_after_ms;

		/* A timeout names the setting that bounds it. */
		if (strcmp(done.outcome, "timeout") == 0)
			snprintf(message, sizeof(message),
					 "the model did not answer within resume_pipeline.request_timeout_ms (%ld ms)", target.timeout_ms);
		else
			strlcpy(message, done.message, sizeof(message));
		rp_net_done_free(&done);
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("model call failed (%s): %s", done.outcome, message),
				 retry_after_ms >= 0 ? errdetail("The server asked to retry after %lld ms.", retry_after_ms) : 0));
	}
	PG_TRY();
	{
		char	   *server = pg_any_to_server(done.data, done.len, PG_UTF8);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(server));
	}
	PG_FINALLY();
	{
		rp_net_done_free(&done);
	}
	PG_END_TRY();
	values[0] = result;
	values[1] = CStringGetTextDatum(done.model);
	values[2] = CStringGetTextDatum(done.schema_version);
	values[3] = Int64GetDatum(done.prompt_tokens);
	nulls[3] = done.prompt_tokens < 0;
	values[4] = Int64GetDatum(done.completion_tokens);
	nulls[4] = done.completion_tokens < 0;
	values[5] = Int32GetDatum((int32) done.milliseconds);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
