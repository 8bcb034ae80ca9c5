/*
 * The worker's transactions: every SQL call a step makes runs in a transaction of its own,
 * guarded, so an ERROR that escapes a step's own handling (a failure while recording the
 * outcome, at COMMIT) is rolled back, logged and charged to that job alone (_job_error), and
 * never takes the worker down. Only FATAL (shutdown, postmaster death) ends a worker.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "job.h"
#include "settings.h"

/* Most jobs one user may have running: all the pool's slots but one, kept for everyone else. */
int
rp_max_user_running(void)
{
	return Max(1, rp_workers * Min(rp_max_concurrent_tasks, RP_MAX_BATCH) - 1);
}

bool
rp_guarded(void (*fn) (void *), void *arg, MemoryContext cxt, int *code, char **message)
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

/*
 * The worker runs the same few statements for every job: each is parsed and planned once and
 * kept (SPI_keepplan); the plan cache revalidates it if the extension is dropped and created
 * again.
 */
#define RP_MAX_KEPT_PLANS 16

typedef struct KeptPlan
{
	const char *sql;
	SPIPlanPtr	plan;
} KeptPlan;

static KeptPlan kept_plans[RP_MAX_KEPT_PLANS];

/* Runs sql with its arguments in the current SPI connection, through its kept plan. */
static int
execute_kept(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, long count)
{
	SPIPlanPtr	plan = NULL;
	int			i;

	for (i = 0; i < RP_MAX_KEPT_PLANS && kept_plans[i].sql != NULL; i++)
		if (strcmp(kept_plans[i].sql, sql) == 0)
		{
			plan = kept_plans[i].plan;
			break;
		}
	if (plan == NULL)
	{
		plan = SPI_prepare(sql, nargs, types);
		if (plan == NULL)
			elog(ERROR, "resume_pipeline worker: could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (i < RP_MAX_KEPT_PLANS && SPI_keepplan(plan) == 0)
			kept_plans[i] = (KeptPlan) {sql, plan};
	}
	return SPI_execute_plan(plan, values, nulls, false, count);
}

typedef struct SqlCall
{
	const char *sql;
	int			nargs;
	Oid		   *types;
	Datum	   *values;
	const char *nulls;
	MemoryContext cxt;
	SqlResult  *result;
} SqlCall;

/* One SQL call in its own transaction; the columns of its one row, copied into cxt. */
static void
sql_xact(void *arg)
{
	SqlCall    *call = (SqlCall *) arg;
	SqlResult  *r = call->result;

	r->ncols = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, call->sql);
	if (execute_kept(call->sql, call->nargs, call->types, call->values, call->nulls, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "resume_pipeline worker: \"%s\" failed", call->sql);
	else
	{
		TupleDesc	desc = SPI_tuptable->tupdesc;
		HeapTuple	row = SPI_tuptable->vals[0];
		MemoryContext old = MemoryContextSwitchTo(call->cxt);

		r->ncols = Min(desc->natts, (int) lengthof(r->values));
		for (int i = 0; i < r->ncols; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			r->values[i] = SPI_getbinval(row, desc, i + 1, &r->nulls[i]);
			if (!r->nulls[i])
				r->values[i] = datumCopy(r->values[i], att->attbyval, att->attlen);
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
rp_job_error(const char *id, int code, const char *message, MemoryContext cxt)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	SqlResult	r;
	SqlCall		call = {"SELECT resume_pipeline._job_error($1::uuid, $2, $3)", 3, types, values, NULL, cxt, &r};
	int			code2;
	char	   *message2;

	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(unpack_sql_state(code));
	values[2] = CStringGetTextDatum(message);
	/* If even this cannot be recorded, the job runs until its lease expires and is claimed again. */
	if (!rp_guarded(sql_xact, &call, cxt, &code2, &message2))
		ereport(LOG, (errmsg("resume_pipeline worker: could not record the failure of job %s: %s", id, message2)));
}

/*
 * One SQL call for a job in its own transaction. An ERROR is charged to the job and false
 * returned (every column null).
 */
bool
rp_job_sql(const char *job_id, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		   MemoryContext cxt, SqlResult *result)
{
	SqlCall		call = {sql, nargs, types, values, nulls, cxt, result};
	int			code;
	char	   *message;

	if (rp_guarded(sql_xact, &call, cxt, &code, &message))
		return true;
	rp_job_error(job_id, code, message, cxt);
	result->ncols = lengthof(result->values);
	for (int i = 0; i < result->ncols; i++)
		result->nulls[i] = true;
	return false;
}

typedef struct ClaimOne
{
	char	   *id;
	bool		documents_only;
	MemoryContext cxt;
} ClaimOne;

static void
claim_one_xact(void *arg)
{
	ClaimOne   *c = (ClaimOne *) arg;
	Oid			types[2] = {BOOLOID, INT4OID};
	Datum		values[2] = {BoolGetDatum(c->documents_only), Int32GetDatum(rp_max_user_running())};
	bool		isnull = true;
	Datum		d = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, "resume_pipeline: claiming a job");
	if (execute_kept("SELECT resume_pipeline._claim_job(NULL, $1, $2)", 2, types, values, NULL, 1) != SPI_OK_SELECT)
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

/* The next due job in fair order (committed as running), or NULL; a failed claim claims nothing. */
char *
rp_claim_one(MemoryContext cxt, bool documents_only)
{
	ClaimOne	c = {NULL, documents_only, cxt};
	int			code;
	char	   *message;

	if (!rp_guarded(claim_one_xact, &c, cxt, &code, &message))
		return NULL;
	return c.id;
}
