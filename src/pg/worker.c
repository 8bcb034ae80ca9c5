/*
 * A pipeline worker: a background worker connected to resume_pipeline.database that claims
 * jobs from resume_pipeline.jobs and runs them one at a time: a short transaction claims a few
 * (state running, a lease, attempts + 1) and commits, then each step runs in its own
 * transaction and records its outcome. A worker that dies in between leaves running jobs
 * whose lease or dead claimant lets the next claim take them again. It sleeps on its latch; a committing
 * transaction that queued work sets that latch (shmem.c), so no polling interval stands
 * between COMMIT and the job starting.
 *
 * No job can take a worker down: every transaction a job runs in is guarded, and an ERROR that
 * escapes a step's own handling (a failure while recording the outcome, at COMMIT, or in the
 * parser client) is caught here, rolled back, logged, and charged to that job alone
 * (_job_error). Only FATAL (shutdown, postmaster death) ends a worker; the launcher starts
 * another, and the leases of its jobs let the next claim take them again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

#include "identity.h"
#include "parser_client.h"
#include "settings.h"
#include "shmem.h"
#include "worker.h"

PGDLLEXPORT void rp_worker_main(Datum arg);

/*
 * Claims up to RP_CLAIM_BATCH due jobs in one transaction (one commit instead of one per job);
 * their ids go into ids[] (palloc'd in TopMemoryContext). Returns how many.
 */
#define RP_CLAIM_BATCH RP_MAX_BATCH

/* Most jobs one user may have running: all the pool's slots but one, kept for everyone else. */
static int
max_user_running(void)
{
	return Max(1, rp_workers * Min(rp_max_concurrent_tasks, RP_MAX_BATCH) - 1);
}

typedef struct Claim
{
	char	  **ids;
	int			n;
	bool		extension_missing;
} Claim;

static void
claim_jobs_xact(void *arg)
{
	Claim	   *c = (Claim *) arg;
	char	  **ids = c->ids;
	bool	   *extension_missing = &c->extension_missing;
	int			n = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	*extension_missing = !OidIsValid(get_namespace_oid("resume_pipeline", true));
	if (!*extension_missing)
	{
		SPI_connect();
		pgstat_report_activity(STATE_RUNNING, "resume_pipeline: claiming jobs");
		while (n < Min(rp_max_concurrent_tasks, RP_CLAIM_BATCH))
		{
			bool		isnull = true;
			Datum		d = 0;
			Oid			type = INT4OID;
			Datum		cap = Int32GetDatum(max_user_running());

			if (SPI_execute_with_args("SELECT resume_pipeline._claim_job(NULL, false, $1)", 1, &type, &cap, NULL,
									  false, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not claim a job");
			if (SPI_processed == 1)
				d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (isnull)
				break;
			ids[n++] = MemoryContextStrdup(TopMemoryContext,
										   DatumGetCString(DirectFunctionCall1(uuid_out, d)));
			c->n = n;
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Runs fn(arg). An ERROR it raises is caught: whatever transaction is open is rolled back, the
 * error is logged, and its SQLSTATE and message are returned (allocated in cxt). True when fn
 * finished normally.
 */
static bool
guarded(void (*fn) (void *), void *arg, MemoryContext cxt, int *code, char **message)
{
	volatile bool ok = true;

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		*code = e->sqlerrcode;
		*message = pstrdup(e->message ? e->message : "unknown error");
		ereport(LOG,
				(errmsg("resume_pipeline worker: a job's step failed outside its own error handling: %s",
						*message)));
		FreeErrorData(e);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Claims up to a batch of jobs; a failed claim (it is logged) claims nothing this round. */
static int
claim_jobs(char **ids, bool *extension_missing)
{
	Claim		c = {ids, 0, false};
	int			code;
	char	   *message;
	int			i;

	if (!guarded(claim_jobs_xact, &c, TopMemoryContext, &code, &message))
	{
		/* The claims rolled back with their transaction. */
		for (i = 0; i < c.n; i++)
			pfree(ids[i]);
		pfree(message);
		*extension_missing = false;
		return 0;
	}
	*extension_missing = c.extension_missing;
	return c.n;
}

static void
execute_job_xact(void *arg)
{
	const char *id = (const char *) arg;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, "resume_pipeline: running a job");
	values[0] = CStringGetTextDatum(id);
	if (SPI_execute_with_args("SELECT resume_pipeline._execute_job($1::uuid)", 1, types, values,
							  NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run job %s", id);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

static bytea *
bytes_datum(const char *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

typedef struct SqlCall
{
	const char *sql;
	int			nargs;
	Oid		   *types;
	Datum	   *values;
	const char *nulls;
	MemoryContext cxt;
	Datum		result;
	bool		isnull;
	Datum		second;
	bool		second_isnull;
	bool		want_second;
} SqlCall;

/* One SQL call in its own transaction; the first (and second) column of its one row, copied into cxt. */
static void
run_sql_xact(void *arg)
{
	SqlCall    *call = (SqlCall *) arg;
	const char *sql = call->sql;
	MemoryContext cxt = call->cxt;
	bool	   *isnull = &call->isnull;
	Datum		result = (Datum) 0;

	*isnull = true;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, sql);
	if (SPI_execute_with_args(sql, call->nargs, call->types, call->values, call->nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "resume_pipeline worker: \"%s\" failed", sql);
	else
	{
		TupleDesc	desc = SPI_tuptable->tupdesc;
		HeapTuple	row = SPI_tuptable->vals[0];
		MemoryContext old = MemoryContextSwitchTo(cxt);

		result = SPI_getbinval(row, desc, 1, isnull);
		if (!*isnull)
			result = datumCopy(result, TupleDescAttr(desc, 0)->attbyval, TupleDescAttr(desc, 0)->attlen);
		if (call->want_second)
		{
			call->second = SPI_getbinval(row, desc, 2, &call->second_isnull);
			if (!call->second_isnull)
				call->second = datumCopy(call->second, TupleDescAttr(desc, 1)->attbyval, TupleDescAttr(desc, 1)->attlen);
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	call->result = result;
}

/*
 * A step's ERROR that its own handling did not catch: charged to that job alone, in a
 * transaction of its own (_job_error retries or fails it like any other failure). If even that
 * cannot be recorded, the job keeps running until its lease expires and is claimed again.
 */
static void
job_error(const char *id, int code, const char *message, MemoryContext cxt)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	SqlCall		call = {0};
	int			code2;
	char	   *message2;

	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(unpack_sql_state(code));
	values[2] = CStringGetTextDatum(message);
	call.sql = "SELECT resume_pipeline._job_error($1::uuid, $2, $3)";
	call.nargs = 3;
	call.types = types;
	call.values = values;
	call.cxt = cxt;
	if (!guarded(run_sql_xact, &call, cxt, &code2, &message2))
		ereport(LOG, (errmsg("resume_pipeline worker: could not record the failure of job %s: %s", id, message2)));
}

/* One SQL call for a job in its own transaction; an ERROR is charged to the job. */
static Datum
run_sql(const char *job_id, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		MemoryContext cxt, bool *isnull, Datum *second, bool *second_isnull)
{
	SqlCall		call = {sql, nargs, types, values, nulls, cxt, (Datum) 0, true, (Datum) 0, true, second != NULL};
	int			code;
	char	   *message;

	if (!guarded(run_sql_xact, &call, cxt, &code, &message))
	{
		job_error(job_id, code, message, cxt);
		call.isnull = call.second_isnull = true;
	}
	*isnull = call.isnull;
	if (second)
	{
		*second = call.second;
		*second_isnull = call.second_isnull;
	}
	return call.result;
}

static void
execute_job(const char *id, MemoryContext cxt)
{
	int			code;
	char	   *message;

	if (!guarded(execute_job_xact, (void *) id, cxt, &code, &message))
		job_error(id, code, message, cxt);
}

typedef struct Batch
{
	RpBatchItem *items;
	int			n;
	char	  **ids;			/* the job of each item */
	int		   *codes;			/* the parser client's own failure, if any */
	MemoryContext cxt;
	MemoryContext *slot_cxt;	/* each item's document and answer, reset when it takes a new one */
	TimestampTz started;
} Batch;

/* Writes one parsed document (or its failure) in its own transaction, as soon as it is done. */
static void
finish_item(RpBatchItem *item, int index, void *arg)
{
	Batch	   *b = (Batch *) arg;
	Oid			types[5] = {TEXTOID, BYTEAOID, BYTEAOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', 'n', 'n', 'n', 'n'};
	bool		isnull;

	values[0] = CStringGetTextDatum(b->ids[index]);
	if (item->status == RP_STATUS_OK)
	{
		/* payload: text, NUL, JSON; both UTF-8, converted by the SQL side. */
		size_t		text_len = strnlen(item->payload, item->payload_len);
		size_t		json_off = Min(text_len + 1, item->payload_len);

		values[1] = PointerGetDatum(bytes_datum(item->payload, text_len));
		values[2] = PointerGetDatum(bytes_datum(item->payload + json_off, item->payload_len - json_off));
		nulls[1] = nulls[2] = ' ';
	}
	else
	{
		char	   *message = pstrdup(item->message);
		char	   *c;

		/*
		 * The wall-clock limit passed before the CPU limit did: the document waited for a CPU
		 * (other work on the machine), which is no fault of its own. Retried, not final.
		 */
		int			code = b->codes[index] ? b->codes[index]
			: item->status == RP_STATUS_TIME_LIMIT ? ERRCODE_INSUFFICIENT_RESOURCES
			: rp_sqlstate_of(item->status);

		/* A diagnostic: keep it ASCII so no database encoding can refuse it. */
		for (c = message; *c; c++)
			if ((unsigned char) *c >= 0x80)
				*c = '?';
		values[3] = CStringGetTextDatum(unpack_sql_state(code));
		values[4] = CStringGetTextDatum(message);
		nulls[3] = nulls[4] = ' ';
	}
	(void) run_sql(b->ids[index], "SELECT resume_pipeline._finish_parse_job($1::uuid, $2, $3, $4, $5)",
				   5, types, values, nulls, b->cxt, &isnull, NULL, NULL);
}

/*
 * Begins a claimed job for item index: marks its row processing and reads its document
 * (_start_parse_job). A ZIP job runs whole here. True when the item now holds a document to
 * parse.
 */
static bool
load_job(Batch *b, int index, const char *id)
{
	RpBatchItem *item = &b->items[index];
	MemoryContext cxt = b->slot_cxt[index];
	Oid			type = TEXTOID;
	Datum		arg = CStringGetTextDatum(id);
	bool		kind_null,
				data_null;
	Datum		data;
	Datum		kind = run_sql(id, "SELECT kind, data FROM resume_pipeline._start_parse_job($1::uuid)",
							   1, &type, &arg, NULL, cxt, &kind_null, &data, &data_null);
	char	   *k = kind_null ? "" : TextDatumGetCString(kind);
	bytea	   *doc;

	if (strcmp(k, "zip") == 0)
	{
		execute_job(id, cxt);
		return false;
	}
	if (data_null || !(strcmp(k, "resume") == 0 || strcmp(k, "cv") == 0 || strcmp(k, "debug_hang") == 0))
		return false;			/* nothing to parse: done, skipped, waiting, retried or failed */
	doc = DatumGetByteaPP(data);
	item->op = RP_OP_EXTRACT_AND_PARSE;
	item->arg = 0;
	if (strcmp(k, "debug_hang") == 0)
	{
		/* Test hook (see _start_parse_job): the parser hangs until the wall-clock limit. */
		item->op = RP_OP_DEBUG_MISBEHAVE;
		item->arg = RP_DEBUG_HANG;
	}
	item->data = VARDATA_ANY(doc);
	item->len = VARSIZE_ANY_EXHDR(doc);
	item->mcxt = cxt;
	b->ids[index] = MemoryContextStrdup(cxt, id);
	b->codes[index] = 0;
	return true;
}

typedef struct ClaimOne
{
	char	   *id;
	MemoryContext cxt;
} ClaimOne;

static void
claim_one_xact(void *arg)
{
	ClaimOne   *c = (ClaimOne *) arg;
	Oid			type = INT4OID;
	Datum		cap = Int32GetDatum(max_user_running());
	bool		isnull = true;
	Datum		d = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, "resume_pipeline: claiming a job");
	if (SPI_execute_with_args("SELECT resume_pipeline._claim_job(NULL, true, $1)", 1, &type, &cap, NULL,
							  false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not claim a job");
	if (SPI_processed == 1)
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		c->id = MemoryContextStrdup(c->cxt, DatumGetCString(DirectFunctionCall1(uuid_out, d)));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * The stream's callback: writes a finished document, then gives its helper the next due
 * document job in fair order, if any (ZIP jobs wait for the main loop). A worker leaves the
 * stream to reload its configuration or sweep now and then.
 */
static bool
next_item(RpBatchItem *item, int index, bool done, void *arg)
{
	Batch	   *b = (Batch *) arg;

	if (done)
		finish_item(item, index, b);
	if (ConfigReloadPending || TimestampDifferenceExceeds(b->started, GetCurrentTimestamp(), 60000))
		return false;
	for (int tries = 0; tries < 4; tries++)
	{
		ClaimOne	c = {NULL, b->cxt};
		int			code;
		char	   *message;
		bool		loaded;

		if (!guarded(claim_one_xact, &c, b->cxt, &code, &message) || c.id == NULL)
			return false;
		MemoryContextReset(b->slot_cxt[index]);
		loaded = load_job(b, index, c.id);
		pfree(c.id);
		if (loaded)
			return true;
		CHECK_FOR_INTERRUPTS();
	}
	return false;
}

static void
parse_stream(void *arg)
{
	Batch	   *b = (Batch *) arg;

	rp_parse_stream(b->items, b->n, 1, next_item, b);
}

/*
 * Runs the claimed jobs, up to resume_pipeline.max_concurrent_tasks at once: each résumé or CV
 * job is begun in its own short transaction (row marked processing, document read), then their
 * documents are parsed side by side, each in its own parser process and outside any
 * transaction. Each result is written in its own transaction as soon as it is ready, and the
 * freed helper takes the next due document job at once, in fair order, so one slow document
 * holds back neither the others of its batch nor new work. ZIP expansions run whole.
 */
static void
run_jobs(char **ids, int n)
{
	int			slots = Min(rp_max_concurrent_tasks, RP_MAX_BATCH);
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "resume_pipeline jobs", ALLOCSET_DEFAULT_SIZES);
	Batch		b;
	int			loaded = 0,
				i;

	b.n = Max(slots, n);
	b.items = MemoryContextAllocZero(cxt, sizeof(RpBatchItem) * b.n);
	b.ids = MemoryContextAllocZero(cxt, sizeof(char *) * b.n);
	b.codes = MemoryContextAllocZero(cxt, sizeof(int) * b.n);
	b.slot_cxt = MemoryContextAllocZero(cxt, sizeof(MemoryContext) * b.n);
	b.cxt = cxt;
	b.started = GetCurrentTimestamp();
	for (i = 0; i < b.n; i++)
		b.slot_cxt[i] = AllocSetContextCreate(cxt, "resume_pipeline job", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < n; i++)
	{
		if (load_job(&b, loaded, ids[i]))
			loaded++;
		CHECK_FOR_INTERRUPTS();
	}
	if (loaded > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		int			code;
		char	   *message;

		pgstat_report_activity(STATE_RUNNING, "resume_pipeline: parsing documents");
		if (!guarded(parse_stream, &b, cxt, &code, &message))
		{
			/* The parser client itself failed (e.g. could not start a helper): every document
			 * not yet written fails with that error, retried if it is transient. */
			for (i = 0; i < b.n; i++)
				if (b.items[i].data != NULL && !b.items[i].reported)
				{
					b.items[i].status = RP_STATUS_INTERNAL;
					b.items[i].message = message;
					b.codes[i] = code;
					finish_item(&b.items[i], i, &b);
				}
		}
		MemoryContextSwitchTo(old);
	}
	MemoryContextDelete(cxt);
}

/* A user holding a row lock (their own résumé FOR UPDATE, an open upload) must not stall a
 * worker: a step waits at most this long, then the job is retried later (_job_outcome). */
static void
set_lock_timeout(void)
{
	char		value[32];

	snprintf(value, sizeof(value), "%d", rp_worker_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_OVERRIDE);
}

/* Objects no row names (a crash between write and commit) are removed by the first worker. */
static void
sweep_xact(void *arg)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, "resume_pipeline: sweeping storage");
	if (OidIsValid(get_namespace_oid("resume_pipeline", true)))
		(void) SPI_execute("SELECT resume_pipeline.sweep_storage()", false, 0);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

#define RP_SWEEP_INTERVAL_MS (3600 * 1000L)

void
rp_worker_main(Datum arg)
{
	int			slot;
	TimestampTz last_sweep = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(MyBgworkerEntry->bgw_extra, NULL, 0);
	pgstat_report_appname("resume_pipeline worker");
	/* The parser has its own limits; a server-wide statement_timeout meant for clients must
	 * not cancel a step halfway. */
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	rp_am_worker = true;
	/* Only the catalog's names: no schema a user may create in is searched. */
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	set_lock_timeout();
	slot = rp_claim_worker_slot();

	for (;;)
	{
		bool		extension_missing = false;
		char	   *ids[RP_CLAIM_BATCH];
		int			n,
					i;

		/* Reset before looking for work, so a wake-up during the look is not lost. */
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (slot == 0 && TimestampDifferenceExceeds(last_sweep, GetCurrentTimestamp(), RP_SWEEP_INTERVAL_MS))
		{
			int			code;
			char	   *message;

			last_sweep = GetCurrentTimestamp();
			if (!guarded(sweep_xact, NULL, TopMemoryContext, &code, &message))
				pfree(message);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			set_lock_timeout();
			rp_parse_pool_trim(1 + rp_max_concurrent_tasks);
		}
		while ((n = claim_jobs(ids, &extension_missing)) > 0)
		{
			run_jobs(ids, n);
			for (i = 0; i < n; i++)
				pfree(ids[i]);
		}
		/*
		 * Asleep until a commit wakes us. The timeout only serves retries whose backoff has
		 * run out and leases that expire; new work always sets the latch.
		 */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 extension_missing ? 10000L : 1000L, PG_WAIT_EXTENSION);
	}
}
