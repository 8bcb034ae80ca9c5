/* Shared memory of the worker pool (see shmem.c). */
#ifndef RP_SHMEM_H
#define RP_SHMEM_H

#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#define RP_MAX_WORKERS 64

typedef struct RpWorkerSlot
{
	pid_t		pid;			/* 0 when free */
	Latch	   *latch;
	TimestampTz started_at;
} RpWorkerSlot;

typedef struct RpShared
{
	slock_t		mutex;			/* protects slots */
	RpWorkerSlot slots[RP_MAX_WORKERS];
	pg_atomic_uint64 wakeups;	/* commits that woke the pool */
} RpShared;

extern RpShared *rp_shared;

extern void rp_shmem_init(void);
extern void rp_wake_init(void);
extern int	rp_claim_worker_slot(void);
extern void rp_wake_workers(void);
extern int	rp_live_workers(void);

#endif
