/*
 * _llm_call(text) → (result jsonb, model, schema_version, tokens, milliseconds): one résumé
 * text read by the OpenAI-compatible model at
 * resume_pipeline.openai_base_url with a strict structured-output schema, in the calling
 * session. The answer is untrusted input: it is read and validated against the schema by the
 * core (llm_bridge.cpp) before anything is returned. Query cancel and termination interrupt the
 * call (libcurl's progress callback polls for them at least once a second). Every failure is an
 * ERROR whose SQLSTATE says whether a retry can help; no message ever holds the key.
 * llm_parse_resume() (SQL) puts the answer cache in front of it.
 */
#include "postgres.h"

#include <stdlib.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "llm_bridge.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(rp_llm_call);
PG_FUNCTION_INFO_V1(rp_sql_llm_schema_version);

static void
schema_path(char *path, size_t size)
{
	char		share[MAXPGPATH];

	get_share_path(my_exec_path, share);
	snprintf(path, size, "%s/extension/resume_pipeline_schema.json", share);
}

/* _llm_schema_version() returns text: the installed schema's version, e.g. "resume-v1" */
Datum
rp_sql_llm_schema_version(PG_FUNCTION_ARGS)
{
	char		path[MAXPGPATH];
	char		version[64];
	char		message[512];

	schema_path(path, sizeof(path));
	rp_llm_schema_version(path, version, sizeof(version), message, sizeof(message));
	if (version[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("%s", message)));
	PG_RETURN_TEXT_P(cstring_to_text(version));
}

static bool
interrupted(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

/* The SQLSTATE of an outcome: transient ones (08, 53, 58) are retried by the pipeline. */
static int
outcome_sqlstate(const RpLlmCall *call)
{
	const char *o = call->outcome;

	if (strcmp(o, "transport") == 0 || strcmp(o, "timeout") == 0)
		return ERRCODE_CONNECTION_FAILURE;
	if (strcmp(o, "rate_limited") == 0)
		return ERRCODE_INSUFFICIENT_RESOURCES;
	if (strcmp(o, "server_error") == 0)
		return ERRCODE_SYSTEM_ERROR;
	if (strcmp(o, "insufficient_quota") == 0)
		return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	if (strcmp(o, "client_error") == 0)
		return (call->http_status == 401 || call->http_status == 403) ? ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION
			: ERRCODE_INVALID_PARAMETER_VALUE;
	if (strcmp(o, "setup") == 0)
		return ERRCODE_CONFIG_FILE_ERROR;
	return ERRCODE_DATA_EXCEPTION;	/* refusal, truncated, content_filter, not_json, schema_violation, malformed */
}

Datum
rp_llm_call(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char		path[MAXPGPATH];
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	TimestampTz start = GetCurrentTimestamp();
	char	   *base = pstrdup(rp_openai_base_url ? rp_openai_base_url : "");
	size_t		base_len = strlen(base);
	RpLlmCall	call;
	Datum		result;
	char	   *server_text;
	char	   *utf8;

	if (rp_openai_api_key == NULL || rp_openai_api_key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("resume_pipeline.openai_api_key is not set"),
				 errhint("Set it in postgresql.conf or with ALTER SYSTEM, then reload.")));
	while (base_len > 0 && base[base_len - 1] == '/')
		base[--base_len] = '\0';
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_llm_call must return a record");
	schema_path(path, sizeof(path));
	/* NUL-terminated first: the conversion returns its input as is when nothing changes. */
	server_text = text_to_cstring(t);
	utf8 = pg_server_to_any(server_text, strlen(server_text), PG_UTF8);

	memset(&call, 0, sizeof(call));
	call.text = utf8;
	call.text_len = strlen(utf8);
	call.schema_path = path;
	call.url = psprintf("%s/chat/completions", base);
	call.api_key = rp_openai_api_key;
	call.model = rp_openai_model ? rp_openai_model : "";
	call.timeout_ms = rp_request_timeout_ms;
	call.should_abort = interrupted;
	rp_llm_parse_resume_call(&call);
	CHECK_FOR_INTERRUPTS();		/* a cancel that stopped the transfer raises its own error */

	if (strcmp(call.outcome, "ok") != 0)
	{
		char		message[sizeof(call.message)];

		strlcpy(message, call.message, sizeof(message));
		ereport(ERROR,
				(errcode(outcome_sqlstate(&call)),
				 errmsg("model call failed (%s): %s", call.outcome, message),
				 call.retry_after_ms >= 0 ? errdetail("The server asked to retry after %lld ms.", call.retry_after_ms) : 0));
	}
	PG_TRY();
	{
		char	   *server = pg_any_to_server(call.json, strlen(call.json), PG_UTF8);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(server));
	}
	PG_FINALLY();
	{
		free(call.json);
	}
	PG_END_TRY();
	values[0] = result;
	values[1] = CStringGetTextDatum(call.model_answered[0] ? call.model_answered : call.model);
	values[2] = CStringGetTextDatum(call.schema_version);
	values[3] = Int64GetDatum(call.prompt_tokens);
	nulls[3] = call.prompt_tokens < 0;
	values[4] = Int64GetDatum(call.completion_tokens);
	nulls[4] = call.completion_tokens < 0;
	values[5] = Int32GetDatum((int32) ((GetCurrentTimestamp() - start) / 1000));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
