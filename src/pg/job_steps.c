/*
 * The steps of résumé, CV and call jobs, and the plans that string them together (see job.h).
 * Which plan a job follows is data: its kind and the model provider pick a row of `plans` below.
 *
 *   begin    (transaction) mark the row processing; the document's bytes, or where on S3 they are
 *   fetch    (network)     GET the document from S3, when it is there
 *   parse    (parser)      text and JSON Resume by the built-in parser, in a sandboxed process
 *   extract  (parser)      the text only, for the model
 *   cached   (transaction) the model's earlier answer for the same text, model and schema
 *   model    (network)     ask the model (rate limiter and circuit breaker first)
 *   store    (transaction) write the result or the failure; always the last step
 *
 * A step that fails records its SQLSTATE and message in the job and the plan skips to store,
 * which decides between retry and failure (_job_outcome). Everything from the network or a
 * parser is untrusted: the model's answer was validated against the schema by net_client.cpp
 * before it gets here, and the SQL side converts and checks every text again.
 *
 * Call jobs (ai, gh, li, analysis, step, embed) follow the plan "call", whatever their kind:
 *
 *   call     (transaction) _start_call_job: the first request, or the job is over
 *   http     (network)     send it, after the dependency's pause, the model rate limiter and the
 *                          circuit breaker; the answer goes to the circuit and the rate limiter
 *   answer   (transaction) _finish_call_job: what the answer means is SQL's; another request
 *                          goes back to http, anything else ends the job
 *
 * A request the worker cannot send (not JSON, a bad field or dependency name) is answered with
 * outcome "refused" and SQL decides; waits for a dependency give the attempt back (_job_wait).
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "circuit.h"
#include "http_call.h"
#include "job.h"
#include "net_loop.h"
#include "rate_limit.h"
#include "settings.h"

/* Largest completion the model may write (the request's max_completion_tokens). */
#define RP_MAX_COMPLETION_TOKENS 4000

/* A rate-limit wait longer than this gives the slot back and queues the job again. */
#define RP_MAX_SLOT_WAIT_MS 10000

/* Requests one call job may send in one run: a loop that never ends is a bug in its SQL. */
#define RP_MAX_CALLS_PER_RUN 1000

static bytea *
bytes_datum(const char *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

/* A diagnostic from a parser or a server: ASCII, so no database encoding can refuse it. */
static char *
ascii_message(const char *s)
{
	char	   *m = pstrdup(s ? s : "");

	for (char *c = m; *c; c++)
		if ((unsigned char) *c >= 0x80 || (unsigned char) *c < 0x20)
			*c = '?';
	return m;
}

void
rp_job_fail(Job *job, int code, const char *message)
{
	MemoryContext old = MemoryContextSwitchTo(job->cxt);

	job->code = code;
	job->message = ascii_message(message);
	MemoryContextSwitchTo(old);
}

/* ---- begin ---------------------------------------------------------------------------- */

StepResult
rp_step_begin(Job *job)
{
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(job->id);
	SqlResult	r;

	if (!rp_job_sql(job->id, "SELECT kind, data, s3_bucket, s3_key FROM resume_pipeline._start_parse_job($1::uuid)",
					1, &type, &arg, NULL, job->cxt, &r) || r.nulls[0])
		return STEP_END;
	job->kind = TextDatumGetCString(r.values[0]);
	if (strcmp(job->kind, "zip") == 0)
	{
		/* ZIP expansions run whole in one transaction (they write many rows at once). */
		(void) rp_job_sql(job->id, "SELECT resume_pipeline._execute_job($1::uuid)", 1, &type, &arg, NULL,
						  job->cxt, &r);
		return STEP_END;
	}
	job->plan = rp_plan_for(job->kind);
	if (job->plan == NULL)
		return STEP_END;		/* nothing to do: done, skipped, waiting, retried or failed */
	if (!job->plan->document)
		return STEP_NEXT;
	if (!r.nulls[1])
	{
		bytea	   *doc = DatumGetByteaPP(r.values[1]);

		job->data = VARDATA_ANY(doc);
		job->len = VARSIZE_ANY_EXHDR(doc);
	}
	else if (!r.nulls[2] && !r.nulls[3])
	{
		job->s3_bucket = TextDatumGetCString(r.values[2]);
		job->s3_key = TextDatumGetCString(r.values[3]);
	}
	else
		return STEP_END;
	return STEP_NEXT;
}

/* ---- fetch ---------------------------------------------------------------------------- */

static StepResult
fetch_start(Job *job)
{
	RpS3Target target;
	RpS3Call	call;
	char		message[512];

	if (job->data != NULL)
		return STEP_NEXT;
	rp_s3_target_from_settings(&target);
	target.max_response_bytes = (uint64) rp_max_file_size_kb * 1024;
	memset(&call, 0, sizeof(call));
	call.op = RP_S3_GET;
	call.bucket = job->s3_bucket;
	call.key = job->s3_key;
	if (!rp_net_start_s3(rp_job_net(), &target, &call, job, message, sizeof(message)))
	{
		rp_job_fail(job, ERRCODE_IO_ERROR, psprintf("could not read storage object \"%s/%s\" from S3: %s",
													 job->s3_bucket, job->s3_key, message));
		return STEP_NEXT;
	}
	job->wait = WAIT_NET;
	return STEP_WAIT;
}

/* One call into libcrypto: the backend's own pg_cryptohash needs a resource owner, which a
 * worker has only inside a transaction. */
static char *
sha256_hex(const char *data, size_t len)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	char	   *hex;

	if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
		elog(ERROR, "could not compute a SHA-256 digest");
	hex = palloc(digest_len * 2 + 1);
	hex_encode((const char *) digest, digest_len, hex);
	hex[digest_len * 2] = '\0';
	return hex;
}

static StepResult
fetch_done(Job *job)
{
	RpNetDone  *d = &job->net;
	const char *where = psprintf("%s/%s", job->s3_bucket, job->s3_key);

	if (d->ok)
	{
		char	   *copy = palloc(d->len + 1);

		memcpy(copy, d->data ? d->data : "", d->len);
		job->data = copy;
		job->len = d->len;
		job->fetched_json = psprintf("{\"size\": %zu, \"checksum\": \"%s\"}", d->len, sha256_hex(copy, d->len));
		rp_circuit_report(RP_DEP_STORAGE, true);
	}
	else if (strcmp(d->outcome, "not_found") == 0)
	{
		/* That document's permanent failure, not the storage's. */
		rp_circuit_report(RP_DEP_STORAGE, true);
		rp_job_fail(job, ERRCODE_UNDEFINED_FILE,
					psprintf("storage object \"%s\" is registered but S3 has no such object", where));
	}
	else if (strcmp(d->outcome, "too_large") == 0)
		rp_job_fail(job, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
					psprintf("storage object \"%s\" exceeds resume_pipeline.max_file_size (%d kB)", where,
							 rp_max_file_size_kb));
	else
	{
		if (d->retryable)
			rp_circuit_report(RP_DEP_STORAGE, false);
		rp_job_fail(job, ERRCODE_IO_ERROR, psprintf("could not read storage object \"%s\" from S3: %s", where,
													 d->message));
	}
	rp_net_done_free(d);
	return STEP_NEXT;
}

/* ---- parse, extract ------------------------------------------------------------------- */

static StepResult
parser_start(Job *job, rp_op op, uint32 arg)
{
	memset(&job->item, 0, sizeof(job->item));
	job->item.op = op;
	job->item.arg = arg;
	job->item.data = job->data;
	job->item.len = job->len;
	job->item.mcxt = job->cxt;
	rp_parse_start(&job->item, job->slot);
	job->wait = WAIT_PARSER;
	return STEP_WAIT;
}

static StepResult
parse_start(Job *job)
{
	return parser_start(job, RP_OP_EXTRACT_AND_PARSE, 0);
}

static StepResult
extract_start(Job *job)
{
	return parser_start(job, RP_OP_DOCUMENT_TEXT, 0);
}

/* Test hook (see _start_parse_job): the parser hangs until its wall-clock limit. */
static StepResult
hang_start(Job *job)
{
	return parser_start(job, RP_OP_DEBUG_MISBEHAVE, RP_DEBUG_HANG);
}

static StepResult
parser_done(Job *job)
{
	RpBatchItem *item = &job->item;

	if (item->status != RP_STATUS_OK)
	{
		/*
		 * The wall-clock limit passed before the CPU limit did: the document waited for a CPU
		 * (other work on the machine), which is no fault of its own. Retried, not final.
		 */
		rp_job_fail(job, item->status == RP_STATUS_TIME_LIMIT ? ERRCODE_INSUFFICIENT_RESOURCES
					: rp_sqlstate_of(item->status), item->message);
		return STEP_NEXT;
	}
	job->text = item->payload;
	job->text_len = strnlen(item->payload, item->payload_len);
	if (item->op == RP_OP_EXTRACT_AND_PARSE)
	{
		/* payload: text, NUL, JSON. */
		size_t		json_off = Min(job->text_len + 1, item->payload_len);

		job->json = item->payload + json_off;
		job->json_len = item->payload_len - json_off;
	}
	return STEP_NEXT;
}

/* ---- cached, model -------------------------------------------------------------------- */

static StepResult
cached_start(Job *job)
{
	Oid			type = BYTEAOID;
	Datum		arg = PointerGetDatum(bytes_datum(job->text, job->text_len));
	SqlResult	r;

	if (!rp_job_sql(job->id, "SELECT cache_key, result::text, usage::text FROM resume_pipeline._llm_cached($1)",
					1, &type, &arg, NULL, job->cxt, &r))
		return STEP_END;
	if (!r.nulls[0])
		job->cache_key = TextDatumGetCString(r.values[0]);
	if (!r.nulls[1] && !r.nulls[2])
	{
		job->json = TextDatumGetCString(r.values[1]);
		job->json_len = strlen(job->json);
		job->usage_json = TextDatumGetCString(r.values[2]);
	}
	return STEP_NEXT;
}

static StepResult
model_start(Job *job)
{
	RpLlmTarget target;
	char		message[512];
	long		wait_ms;
	Oid			type = TEXTOID;
	Datum		args[2];
	Oid			types[2] = {TEXTOID, TEXTOID};
	SqlResult	r;

	if (job->json != NULL)
		return STEP_NEXT;		/* the same text was read before */
	if (!rp_circuit_allows(RP_DEP_MODEL))
	{
		args[0] = CStringGetTextDatum(job->id);
		args[1] = CStringGetTextDatum("model");
		(void) rp_job_sql(job->id, "SELECT resume_pipeline._job_wait($1::uuid, $2)", 2, types, args, NULL,
						  job->cxt, &r);
		return STEP_END;
	}
	(void) type;
	job->estimated_tokens = rp_rate_estimate_tokens(job->text_len, RP_MAX_COMPLETION_TOKENS);
	wait_ms = rp_rate_acquire(job->estimated_tokens);
	if (wait_ms > 0)
	{
		if (wait_ms > RP_MAX_SLOT_WAIT_MS)
		{
			/* A long wait: the slot goes to other work, the job comes back when it is due. */
			rp_job_fail(job, ERRCODE_INSUFFICIENT_RESOURCES,
						"waiting: resume_pipeline.openai_requests_per_minute or openai_tokens_per_minute reached");
			job->retry_after_ms = wait_ms;
			job->charge = false;
			return STEP_NEXT;
		}
		job->wait = WAIT_TIMER;
		job->wake_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);
		return STEP_WAIT;
	}
	rp_llm_target_from_settings(&target);
	if (!rp_net_start_llm(rp_job_net(), &target, job->text, job->text_len, job, message, sizeof(message)))
	{
		rp_rate_settle(job->estimated_tokens, 0, -1, -1, -1, -1);
		rp_job_fail(job, ERRCODE_CONFIG_FILE_ERROR, psprintf("model call failed: %s", message));
		return STEP_NEXT;
	}
	job->wait = WAIT_NET;
	return STEP_WAIT;
}

static StepResult
model_done(Job *job)
{
	RpNetDone  *d = &job->net;
	bool		server_trouble = strcmp(d->outcome, "server_error") == 0 || strcmp(d->outcome, "transport") == 0 ||
		strcmp(d->outcome, "timeout") == 0;
	long long	used = (d->prompt_tokens >= 0 && d->completion_tokens >= 0) ? d->prompt_tokens + d->completion_tokens : -1;

	/*
	 * A 429 says when to come back (retry-after); its x-ratelimit-reset-* say when the whole
	 * window is replenished, which is far later than one more request needs.
	 */
	if (strcmp(d->outcome, "rate_limited") == 0)
		rp_rate_settle(job->estimated_tokens, used, -1, -1, -1, -1);
	else
		rp_rate_settle(job->estimated_tokens, used, d->remaining_requests, d->remaining_tokens,
					   d->reset_requests_ms, d->reset_tokens_ms);
	/* The provider pacing us is not the model failing: it neither opens nor closes the circuit. */
	if (strcmp(d->outcome, "rate_limited") != 0)
		rp_circuit_report(RP_DEP_MODEL, !server_trouble);
	if (d->ok)
	{
		StringInfoData usage;

		job->json = pnstrdup(d->data ? d->data : "", d->len);
		job->json_len = strlen(job->json);
		initStringInfo(&usage);
		appendStringInfoString(&usage, "{\"model\": ");
		escape_json(&usage, d->model[0] ? d->model : rp_openai_model);
		appendStringInfoString(&usage, ", \"schema_version\": ");
		escape_json(&usage, d->schema_version);
		appendStringInfo(&usage, ", \"prompt_tokens\": %lld, \"completion_tokens\": %lld, \"milliseconds\": %.0f, \"cached\": false",
						 d->prompt_tokens, d->completion_tokens, d->milliseconds);
		if (job->cache_key)
		{
			appendStringInfoString(&usage, ", \"cache_key\": ");
			escape_json(&usage, job->cache_key);
		}
		appendStringInfoChar(&usage, '}');
		job->usage_json = usage.data;
	}
	else
	{
		rp_job_fail(job, rp_model_sqlstate(d), psprintf("model call failed (%s): %s", d->outcome, d->message));
		if (strcmp(d->outcome, "rate_limited") == 0)
		{
			/* Everyone holds off as long as the server asked; this job is not charged for it. */
			rp_rate_pause(d->retry_after_ms >= 0 ? d->retry_after_ms : 1000);
			job->charge = false;
		}
		job->retry_after_ms = d->retry_after_ms;
	}
	rp_net_done_free(d);
	return STEP_NEXT;
}

/* ---- store ---------------------------------------------------------------------------- */

static StepResult
store_start(Job *job)
{
	Oid			types[10] = {TEXTOID, BYTEAOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, BOOLOID, TEXTOID, TEXTOID};
	Datum		values[10];
	char		nulls[10] = {' ', 'n', 'n', 'n', 'n', 'n', 'n', ' ', 'n', 'n'};
	SqlResult	r;

	values[0] = CStringGetTextDatum(job->id);
	if (job->code == 0)
	{
		values[1] = PointerGetDatum(bytes_datum(job->text, job->text_len));
		values[2] = PointerGetDatum(bytes_datum(job->json, job->json_len));
		nulls[1] = nulls[2] = ' ';
		/* The parser step's answer says whether the text was read by OCR. */
		values[9] = CStringGetTextDatum((job->item.flags & RP_RESPONSE_OCR) ? "ocr" : "text");
		nulls[9] = ' ';
		if (job->usage_json)
		{
			values[5] = CStringGetTextDatum(job->usage_json);
			nulls[5] = ' ';
		}
	}
	else
	{
		values[3] = CStringGetTextDatum(unpack_sql_state(job->code));
		values[4] = CStringGetTextDatum(job->message);
		nulls[3] = nulls[4] = ' ';
		if (job->retry_after_ms >= 0)
		{
			values[6] = Int64GetDatum(job->retry_after_ms);
			nulls[6] = ' ';
		}
	}
	values[7] = BoolGetDatum(job->charge);
	if (job->fetched_json)
	{
		values[8] = CStringGetTextDatum(job->fetched_json);
		nulls[8] = ' ';
	}
	(void) rp_job_sql(job->id,
					  "SELECT resume_pipeline._finish_parse_job($1::uuid, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10)",
					  10, types, values, nulls, job->cxt, &r);
	return STEP_END;
}

/* ---- call, http, answer --------------------------------------------------------------- */

/* Where a call job's plan goes after an answer that asks for another request. */
#define CALL_HTTP_STEP 1

/*
 * A call job's directive: 'call' with the next request (and its dependency and token estimate,
 * read by SQL from the request), or the job is over (done, retry, failed, skipped: recorded).
 */
static StepResult
call_directive(Job *job, SqlResult *r)
{
	MemoryContext old;

	if (r->nulls[0] || strcmp(TextDatumGetCString(r->values[0]), "call") != 0)
		return STEP_END;
	if (++job->calls > RP_MAX_CALLS_PER_RUN)
	{
		rp_job_error(job->id, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
					 psprintf("a call job asked for more than %d requests in one run", RP_MAX_CALLS_PER_RUN),
					 job->cxt);
		return STEP_END;
	}
	old = MemoryContextSwitchTo(job->cxt);
	job->request = r->nulls[1] ? pstrdup("null") : TextDatumGetCString(r->values[1]);
	job->dependency = r->nulls[2] ? NULL : TextDatumGetCString(r->values[2]);
	job->estimated_tokens = -1;
	if (!r->nulls[3])
	{
		char	   *s = TextDatumGetCString(r->values[3]);
		char	   *end;
		double		tokens = strtod(s, &end);

		if (end != s && *end == '\0' && tokens >= 0 && tokens < 1e12)
			job->estimated_tokens = (int64) tokens;
	}
	job->response = NULL;
	job->body = NULL;
	MemoryContextSwitchTo(old);
	return STEP_NEXT;
}

static StepResult
call_start(Job *job)
{
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(job->id);
	SqlResult	r;

	if (!rp_job_sql(job->id,
					"SELECT outcome, request::text, request ->> 'dependency', request ->> 'tokens' "
					"FROM resume_pipeline._start_call_job($1::uuid)",
					1, &type, &arg, NULL, job->cxt, &r))
		return STEP_END;
	return call_directive(job, &r);
}

/* A request that never went out: SQL hears why, as an answer with outcome "refused". */
static StepResult
call_refused(Job *job, const char *why)
{
	MemoryContext old = MemoryContextSwitchTo(job->cxt);

	job->response = rp_http_refused_text(why);
	job->body = (bytea *) palloc(VARHDRSZ);
	SET_VARSIZE(job->body, VARHDRSZ);
	MemoryContextSwitchTo(old);
	return STEP_NEXT;
}

/* The job waits for its dependency, attempt given back: ms of a pause, or -1 (an open circuit). */
static StepResult
call_wait(Job *job, int64 ms)
{
	Oid			types[3] = {TEXTOID, TEXTOID, FLOAT8OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ms < 0 ? 'n' : ' '};
	SqlResult	r;

	args[0] = CStringGetTextDatum(job->id);
	args[1] = CStringGetTextDatum(job->dependency);
	args[2] = Float8GetDatum((double) ms);
	(void) rp_job_sql(job->id, "SELECT resume_pipeline._job_wait($1::uuid, $2, $3)", 3, types, args, nulls,
					  job->cxt, &r);
	return STEP_END;
}

static bool
is_model(Job *job)
{
	return job->dependency != NULL && strcmp(job->dependency, "model") == 0;
}

/* The model rate limiter's reservation given back: the request did not go. */
static void
call_unreserve(Job *job)
{
	if (job->reserved)
		rp_rate_settle(job->estimated_tokens, 0, -1, -1, -1, -1);
	job->reserved = false;
}

static StepResult
http_start(Job *job)
{
	char		message[512];

	if (job->dependency != NULL)
	{
		const char *problem = rp_dependency_name_problem(job->dependency);
		int64		paused;

		if (problem != NULL)
			return call_refused(job, psprintf("\"dependency\": %s", problem));
		if (is_model(job))
		{
			/* The model's pause is the rate limiter's: short waits here, long ones queued. */
			if (!job->reserved)
			{
				long		wait_ms;

				if (job->estimated_tokens < 0)
					job->estimated_tokens = rp_rate_estimate_tokens(strlen(job->request), 0);
				wait_ms = rp_rate_acquire(job->estimated_tokens);
				if (wait_ms > RP_MAX_SLOT_WAIT_MS)
					return call_wait(job, wait_ms);
				if (wait_ms > 0)
				{
					job->wait = WAIT_TIMER;
					job->wake_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);
					return STEP_WAIT;
				}
				job->reserved = true;
			}
		}
		else if ((paused = rp_dependency_paused_ms(job->dependency)) > 0)
			return call_wait(job, paused);
		if (!rp_circuit_allows_name(job->dependency))
		{
			call_unreserve(job);
			return call_wait(job, -1);
		}
	}
	if (!rp_http_start(rp_job_net(), job->request, job, message, sizeof(message)))
	{
		call_unreserve(job);
		return call_refused(job, message);
	}
	job->wait = WAIT_NET;
	return STEP_WAIT;
}

static StepResult
http_done(Job *job)
{
	RpNetDone  *d = &job->net;
	bool		sent = strcmp(d->outcome, "refused") != 0 && strcmp(d->outcome, "aborted") != 0;
	bool		trouble = strcmp(d->outcome, "transport") == 0 || strcmp(d->outcome, "timeout") == 0 ||
		d->http_status >= 500;
	MemoryContext old;

	/* A 429 is the service pacing us, not failing: it neither opens nor closes the circuit. */
	if (job->dependency != NULL && sent && d->http_status != 429)
		rp_circuit_report_name(job->dependency, !trouble);
	if (job->reserved)
	{
		long long	used = d->prompt_tokens >= 0 ? d->prompt_tokens + Max(d->completion_tokens, 0) : -1;

		if (!sent)
			rp_rate_settle(job->estimated_tokens, 0, -1, -1, -1, -1);
		else if (d->http_status == 429)
		{
			/* Everyone holds off as long as the server asked (its resets say when the window is full). */
			rp_rate_settle(job->estimated_tokens, used, -1, -1, -1, -1);
			rp_rate_pause(d->retry_after_ms >= 0 ? d->retry_after_ms : 1000);
		}
		else
			rp_rate_settle(job->estimated_tokens, used, d->remaining_requests, d->remaining_tokens,
						   d->reset_requests_ms, d->reset_tokens_ms);
		job->reserved = false;
	}
	old = MemoryContextSwitchTo(job->cxt);
	PG_TRY();
	{
		job->response = rp_http_response_text(d);
		job->body = rp_http_body(d);
	}
	PG_FINALLY();
	{
		rp_net_done_free(d);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return STEP_NEXT;
}

static StepResult
answer_start(Job *job)
{
	Oid			types[3] = {TEXTOID, TEXTOID, BYTEAOID};
	Datum		args[3];
	SqlResult	r;
	StepResult	next;

	args[0] = CStringGetTextDatum(job->id);
	args[1] = CStringGetTextDatum(job->response);
	args[2] = PointerGetDatum(job->body);
	if (!rp_job_sql(job->id,
					"SELECT outcome, request::text, request ->> 'dependency', request ->> 'tokens' "
					"FROM resume_pipeline._finish_call_job($1::uuid, $2::jsonb, $3)",
					3, types, args, NULL, job->cxt, &r))
		return STEP_END;
	next = call_directive(job, &r);
	if (next == STEP_NEXT)
		job->next_step = CALL_HTTP_STEP;
	return next;
}

/* ---- plans ---------------------------------------------------------------------------- */

static const JobStep builtin_steps[] = {
	{"fetch", fetch_start, fetch_done},
	{"parse", parse_start, parser_done},
	{"store", store_start, NULL},
};

static const JobStep model_steps[] = {
	{"fetch", fetch_start, fetch_done},
	{"extract", extract_start, parser_done},
	{"cached", cached_start, NULL},
	{"model", model_start, model_done},
	{"store", store_start, NULL},
};

static const JobStep hang_steps[] = {
	{"hang", hang_start, parser_done},
	{"store", store_start, NULL},
};

/* http is step CALL_HTTP_STEP: answer goes back to it for the next request. */
static const JobStep call_steps[] = {
	{"call", call_start, NULL},
	{"http", http_start, http_done},
	{"answer", answer_start, NULL},
};

#define PLAN(name, steps) {name, steps, lengthof(steps), true}
#define CALL_PLAN {"call", call_steps, lengthof(call_steps), false}

static const struct
{
	const char *kind;
	int			provider;		/* RpLlmProvider, or -1: any */
	JobPlan		plan;
}			plans[] = {
	{"resume", RP_LLM_BUILTIN, PLAN("builtin", builtin_steps)},
	{"cv", RP_LLM_BUILTIN, PLAN("builtin", builtin_steps)},
	{"resume", RP_LLM_OPENAI, PLAN("model", model_steps)},
	{"cv", RP_LLM_OPENAI, PLAN("model", model_steps)},
	{"debug_hang", -1, PLAN("debug_hang", hang_steps)},
	{"ai", -1, CALL_PLAN},
	{"gh", -1, CALL_PLAN},
	{"li", -1, CALL_PLAN},
	{"analysis", -1, CALL_PLAN},
	{"step", -1, CALL_PLAN},
	{"embed", -1, CALL_PLAN},
	{"ats_sync", -1, CALL_PLAN},
	{"ats_file", -1, CALL_PLAN},
	{"ats_push", -1, CALL_PLAN},
	{"migrate", -1, CALL_PLAN},
};

const JobPlan *
rp_plan_for(const char *kind)
{
	for (int i = 0; i < lengthof(plans); i++)
		if (strcmp(plans[i].kind, kind) == 0 && (plans[i].provider < 0 || plans[i].provider == rp_llm_provider))
			return &plans[i].plan;
	return NULL;
}
