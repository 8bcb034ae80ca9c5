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

#include "net_loop.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(rp_llm_call);
PG_FUNCTION_INFO_V1(rp_sql_llm_schema_version);

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
