/*
 * Shared state of the worker pool: one slot per worker with its latch, so that a backend
 * committing new jobs can wake an idle worker at once, and counters health() reports.
 * Exists only when the library is in shared_preload_libraries; without it the pipeline still
 * runs through process_pending() and waking is a no-op.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "shmem.h"

RpShared   *rp_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool wake_at_commit = false;

PG_FUNCTION_INFO_V1(rp_wake_workers_at_commit);

static void
rp_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RpShared)));
}

static void
rp_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rp_shared = ShmemInitStruct("resume_pipeline", sizeof(RpShared), &found);
	if (!found)
	{
		memset(rp_shared, 0, sizeof(RpShared));
		SpinLockInit(&rp_shared->mutex);
		SpinLockInit(&rp_shared->circuit_mutex);
		SpinLockInit(&rp_shared->latency_mutex);
		pg_atomic_init_u64(&rp_shared->wakeups, 0);
		rp_rate_limit_init(&rp_shared->rate_limit);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
rp_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rp_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rp_shmem_startup;
}

/* A worker announces itself; its slot is cleared again when it exits, however it exits. */
static void
release_slot(int code, Datum arg)
{
	int			i = DatumGetInt32(arg);

	SpinLockAcquire(&rp_shared->mutex);
	if (rp_shared->slots[i].pid == MyProcPid)
	{
		rp_shared->slots[i].pid = 0;
		rp_shared->slots[i].latch = NULL;
	}
	SpinLockRelease(&rp_shared->mutex);
}

int
rp_claim_worker_slot(void)
{
	int			i;

	SpinLockAcquire(&rp_shared->mutex);
	for (i = 0; i < RP_MAX_WORKERS; i++)
	{
		if (rp_shared->slots[i].pid == 0)
		{
			rp_shared->slots[i].pid = MyProcPid;
			rp_shared->slots[i].latch = MyLatch;
			rp_shared->slots[i].started_at = GetCurrentTimestamp();
			break;
		}
	}
	SpinLockRelease(&rp_shared->mutex);
	if (i == RP_MAX_WORKERS)
		ereport(ERROR, (errmsg("no free resume_pipeline worker slot")));
	before_shmem_exit(release_slot, Int32GetDatum(i));
	return i;
}

/* Sets the latch of every live worker: each claims what it can with SKIP LOCKED. */
void
rp_wake_workers(void)
{
	int			i;

	if (rp_shared == NULL)
		return;
	pg_atomic_fetch_add_u64(&rp_shared->wakeups, 1);
	SpinLockAcquire(&rp_shared->mutex);
	for (i = 0; i < RP_MAX_WORKERS; i++)
		if (rp_shared->slots[i].pid != 0 && rp_shared->slots[i].latch != NULL)
			SetLatch(rp_shared->slots[i].latch);
	SpinLockRelease(&rp_shared->mutex);
}

int
rp_live_workers(void)
{
	int			i,
				n = 0;

	if (rp_shared == NULL)
		return 0;
	SpinLockAcquire(&rp_shared->mutex);
	for (i = 0; i < RP_MAX_WORKERS; i++)
		if (rp_shared->slots[i].pid != 0)
			n++;
	SpinLockRelease(&rp_shared->mutex);
	return n;
}

/* Wake only once the transaction that queued work has committed: before, nothing is visible. */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		if (wake_at_commit)
			rp_wake_workers();
		wake_at_commit = false;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

void
rp_wake_init(void)
{
	RegisterXactCallback(wake_xact_callback, NULL);
}

/* Remember to wake the workers when this transaction commits. */
void
rp_wake_at_commit(void)
{
	wake_at_commit = true;
}

/* Statement trigger on jobs: the same, for every statement that queues or requeues work. */
Datum
rp_wake_workers_at_commit(PG_FUNCTION_ARGS)
{
	rp_wake_at_commit();
	return PointerGetDatum(NULL);
}
