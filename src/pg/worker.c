/*
 * A pipeline worker: a background worker connected to resume_pipeline.database that claims
 * jobs from resume_pipeline.jobs and runs them one at a time: a short transaction claims a few
 * (state running, a lease, attempts + 1) and commits, then each step runs in its own
 * transaction and records its outcome. A worker that dies in between leaves running jobs
 * whose lease or dead claimant lets the next claim take them again. It sleeps on its latch; a committing
 * transaction that queued work sets that latch (shmem.c), so no polling interval stands
 * between COMMIT and the job starting. Crash-only: on an error it exits and the launcher
 * starts another.
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
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "shmem.h"
#include "worker.h"

PGDLLEXPORT void rp_worker_main(Datum arg);

/*
 * Claims up to RP_CLAIM_BATCH due jobs in one transaction (one commit instead of one per job);
 * their ids go into ids[] (palloc'd in TopMemoryContext). Returns how many.
 */
#define RP_CLAIM_BATCH 4

static int
claim_jobs(char **ids, bool *extension_missing)
{
	int			n = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	*extension_missing = !OidIsValid(get_namespace_oid("resume_pipeline", true));
	if (!*extension_missing)
	{
		SPI_connect();
		pgstat_report_activity(STATE_RUNNING, "resume_pipeline: claiming jobs");
		while (n < RP_CLAIM_BATCH)
		{
			bool		isnull = true;
			Datum		d = 0;

			if (SPI_execute("SELECT resume_pipeline._claim_job()", false, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not claim a job");
			if (SPI_processed == 1)
				d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (isnull)
				break;
			ids[n++] = MemoryContextStrdup(TopMemoryContext,
										   DatumGetCString(DirectFunctionCall1(uuid_out, d)));
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return n;
}

static void
execute_job(const char *id)
{
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

void
rp_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(MyBgworkerEntry->bgw_extra, NULL, 0);
	pgstat_report_appname("resume_pipeline worker");
	/* The parser has its own limits; a server-wide statement_timeout meant for clients must
	 * not cancel a step halfway. */
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	rp_claim_worker_slot();

	for (;;)
	{
		bool		extension_missing = false;
		char	   *ids[RP_CLAIM_BATCH];
		int			n,
					i;

		/* Reset before looking for work, so a wake-up during the look is not lost. */
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		while ((n = claim_jobs(ids, &extension_missing)) > 0)
		{
			for (i = 0; i < n; i++)
			{
				execute_job(ids[i]);
				pfree(ids[i]);
				CHECK_FOR_INTERRUPTS();
			}
		}
		/*
		 * Asleep until a commit wakes us. The timeout only serves retries whose backoff has
		 * run out and leases that expire; new work always sets the latch.
		 */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 extension_missing ? 10000L : 1000L, PG_WAIT_EXTENSION);
	}
}
