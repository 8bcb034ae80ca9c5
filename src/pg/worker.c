/*
 * A pipeline worker: a background worker connected to resume_pipeline.database. Its main loop
 * does the housekeeping (configuration reloads, the periodic tasks), claims a batch of due jobs
 * in one short transaction (state running, a lease, attempts + 1) and hands them to the job
 * loop (job_loop.c), which runs them side by side as steps, each SQL step in its own
 * transaction. A worker that dies in between leaves running jobs whose lease or dead claimant
 * lets the next claim take them again. It sleeps on its latch; a committing transaction that
 * queued work sets that latch (shmem.c), so no polling interval stands between COMMIT and the
 * job starting.
 *
 * No job can take a worker down: every transaction is guarded (worker_xact.c), and an ERROR
 * that escapes a step's own handling is rolled back, logged, and charged to that job alone
 * (_job_error). Only FATAL (shutdown, postmaster death) ends a worker; the launcher starts
 * another.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
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
#include "job.h"
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

/*
 * Whether the installed extension is the version this module was built for (inside a
 * transaction, SPI connected). Between a package upgrade and ALTER EXTENSION UPDATE the schema
 * is older than the code: the workers wait, once saying why, and jobs stay queued.
 */
static bool
schema_current(void)
{
	static bool said = false;
	char	   *version = NULL;

	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'resume_pipeline'",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		version = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (version != NULL && strcmp(version, RP_EXTVERSION) == 0)
	{
		said = false;
		return true;
	}
	if (version != NULL && !said)
		ereport(LOG,
				(errmsg("resume_pipeline worker waits: the database has version %s of the extension, this module is %s",
						version, RP_EXTVERSION),
				 errhint("Run ALTER EXTENSION resume_pipeline UPDATE in database \"%s\".",
						 get_database_name(MyDatabaseId))));
	said = version != NULL;
	return false;
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
		*extension_missing = !schema_current();
	}
	if (!*extension_missing)
	{
		pgstat_report_activity(STATE_RUNNING, "resume_pipeline: claiming jobs");
		while (n < Min(rp_max_concurrent_tasks, RP_CLAIM_BATCH))
		{
			bool		isnull = true;
			Datum		d = 0;
			Oid			type = INT4OID;
			Datum		cap = Int32GetDatum(rp_max_user_running());

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
	}
	if (OidIsValid(get_namespace_oid("resume_pipeline", true)))
		SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* Claims up to a batch of jobs; a failed claim (it is logged) claims nothing this round. */
static int
claim_jobs(char **ids, bool *extension_missing)
{
	Claim		c = {ids, 0, false};
	int			code;
	char	   *message;
	int			i;

	if (!rp_guarded(claim_jobs_xact, &c, TopMemoryContext, &code, &message))
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

/* A user holding a row lock (their own résumé FOR UPDATE, an open upload) must not stall a
 * worker: a step waits at most this long, then the job is retried later (_job_outcome). */
static void
set_lock_timeout(void)
{
	char		value[32];

	snprintf(value, sizeof(value), "%d", rp_worker_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * The database's periodic tasks (resume_pipeline.housekeeping: the storage sweep, job history
 * retention, …): _housekeeping() runs those whose interval has passed and no other session is
 * running, each in its own subtransaction.
 */
static void
housekeeping_xact(void *arg)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	pgstat_report_activity(STATE_RUNNING, "resume_pipeline: housekeeping");
	if (OidIsValid(get_namespace_oid("resume_pipeline", true)) && schema_current())
		(void) SPI_execute("SELECT resume_pipeline._housekeeping()", false, 0);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

#define RP_HOUSEKEEPING_INTERVAL_MS (5 * 1000L)

/*
 * The periodic tasks, looked at every few seconds: also between batches of a queue that never
 * empties, so retention and counter folding keep up with a sustained backlog. Every worker looks
 * (not only slot 0: a worker started while its predecessor still held slot 0 would leave them to
 * nobody); each due task runs in one of them, its row locked while it runs.
 */
static void
housekeeping_when_due(TimestampTz *last)
{
	int			code;
	char	   *message;

	if (!TimestampDifferenceExceeds(*last, GetCurrentTimestamp(), RP_HOUSEKEEPING_INTERVAL_MS))
		return;
	*last = GetCurrentTimestamp();
	if (!rp_guarded(housekeeping_xact, NULL, TopMemoryContext, &code, &message))
		pfree(message);
}

void
rp_worker_main(Datum arg)
{
	TimestampTz last_housekeeping = 0;

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
	(void) rp_claim_worker_slot();

	for (;;)
	{
		bool		extension_missing = false;
		char	   *ids[RP_CLAIM_BATCH];
		int			n,
					i;

		/* Reset before looking for work, so a wake-up during the look is not lost. */
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		housekeeping_when_due(&last_housekeeping);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			set_lock_timeout();
			rp_parse_pool_trim(1 + rp_max_concurrent_tasks);
		}
		while ((n = claim_jobs(ids, &extension_missing)) > 0)
		{
			rp_run_jobs(ids, n);
			for (i = 0; i < n; i++)
				pfree(ids[i]);
			housekeeping_when_due(&last_housekeeping);
		}
		/*
		 * Asleep until a commit wakes us. The timeout only serves retries whose backoff has
		 * run out and leases that expire; new work always sets the latch.
		 */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 extension_missing ? 10000L : 1000L, PG_WAIT_EXTENSION);
	}
}
