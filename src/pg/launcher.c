/*
 * The launcher: a background worker registered at server start (shared_preload_libraries)
 * that keeps resume_pipeline.workers workers running for resume_pipeline.database. It starts
 * them as dynamic background workers, starts another when one dies, stops the extra ones
 * when the setting shrinks, and restarts them all when the database changes (SIGHUP).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

#include "settings.h"
#include "shmem.h"
#include "worker.h"

PGDLLEXPORT void rp_launcher_main(Datum arg);

static BackgroundWorkerHandle *handles[RP_MAX_WORKERS];
static char handle_db[RP_MAX_WORKERS][BGW_EXTRALEN];

void
rp_launcher_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "resume_pipeline");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "rp_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "resume_pipeline launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "resume_pipeline launcher");
	RegisterBackgroundWorker(&w);
}

static bool
running(int i)
{
	pid_t		pid;

	return handles[i] != NULL && GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED;
}

static void
stop(int i)
{
	if (handles[i] != NULL)
	{
		TerminateBackgroundWorker(handles[i]);
		pfree(handles[i]);
		handles[i] = NULL;
	}
}

static void
start(int i)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;	/* the launcher restarts it */
	snprintf(w.bgw_library_name, BGW_MAXLEN, "resume_pipeline");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "rp_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "resume_pipeline worker %d", i);
	snprintf(w.bgw_type, BGW_MAXLEN, "resume_pipeline worker");
	strlcpy(w.bgw_extra, rp_database, BGW_EXTRALEN);
	w.bgw_notify_pid = MyProcPid;	/* our latch is set when it starts or stops */
	if (handles[i] != NULL)
		pfree(handles[i]);
	handles[i] = NULL;
	if (!RegisterDynamicBackgroundWorker(&w, &handles[i]))
	{
		handles[i] = NULL;
		ereport(WARNING,
				(errmsg("resume_pipeline: could not start worker %d", i),
				 errhint("Raise max_worker_processes.")));
		return;
	}
	strlcpy(handle_db[i], rp_database, BGW_EXTRALEN);
}

void
rp_launcher_main(Datum arg)
{
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	for (;;)
	{
		ResetLatch(MyLatch);
		if (ShutdownRequestPending)
		{
			for (i = 0; i < RP_MAX_WORKERS; i++)
				stop(i);
			proc_exit(0);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		for (i = 0; i < RP_MAX_WORKERS; i++)
		{
			bool		wanted = i < rp_workers && rp_database[0] != '\0';

			if (handles[i] != NULL && (!wanted || strcmp(handle_db[i], rp_database) != 0))
				stop(i);		/* fewer workers now, or another database */
			else if (wanted && !running(i))
				start(i);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
						 PG_WAIT_EXTENSION);
	}
}
