/* Shared memory of the worker pool (see shmem.c). */
#ifndef RP_SHMEM_H
#define RP_SHMEM_H

#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "rate_limit.h"

#define RP_MAX_WORKERS 64

typedef struct RpWorkerSlot
{
	pid_t		pid;			/* 0 when free */
	Latch	   *latch;
	TimestampTz started_at;
} RpWorkerSlot;

/* Dependencies with a circuit breaker of their own; others have one by name (RpNamedCircuit). */
typedef enum RpDependency
{
	RP_DEP_STORAGE = 0,
	RP_DEP_MODEL = 1,
	RP_DEP_COUNT
} RpDependency;

typedef enum RpCircuitState
{
	RP_CIRCUIT_CLOSED = 0,
	RP_CIRCUIT_OPEN = 1,
	RP_CIRCUIT_HALF_OPEN = 2
} RpCircuitState;

typedef struct RpCircuit
{
	RpCircuitState state;
	int			consecutive_failures;
	TimestampTz opened_at;		/* when it last opened */
	TimestampTz trial_started_at;	/* half-open: when the trial call was let through */
	uint64		times_opened;
	TimestampTz paused_until;	/* nobody calls the dependency before (a service said so); 0: never */
} RpCircuit;

/*
 * Circuits by name ("github", "linkedin", "step:<name>"), in a small fixed table: a name takes a
 * free slot the first time it fails or is paused; when none is free the least recently used
 * closed one is reused (a closed circuit without a pause forgets nothing worth keeping).
 */
#define RP_MAX_NAMED_CIRCUITS 64
#define RP_CIRCUIT_NAME_SIZE 64	/* names of at most 63 bytes */

typedef struct RpNamedCircuit
{
	char		name[RP_CIRCUIT_NAME_SIZE]; /* "" when free */
	TimestampTz last_used;
	RpCircuit	circuit;
} RpNamedCircuit;

#define RP_LATENCY_SAMPLES 1024

typedef struct RpShared
{
	slock_t		mutex;			/* protects slots */
	RpWorkerSlot slots[RP_MAX_WORKERS];
	pg_atomic_uint64 wakeups;	/* commits that woke the pool */
	slock_t		circuit_mutex;	/* protects circuits and named_circuits */
	RpCircuit	circuits[RP_DEP_COUNT];
	RpNamedCircuit named_circuits[RP_MAX_NAMED_CIRCUITS];
	slock_t		latency_mutex;	/* protects the storage latency ring */
	float4		storage_read_ms[RP_LATENCY_SAMPLES];
	uint64		storage_reads;	/* total reads; the ring holds the last ones */
	RpRateLimit rate_limit;		/* the model provider's limit (rate_limit.c) */
} RpShared;

extern RpShared *rp_shared;

extern void rp_shmem_init(void);
extern void rp_wake_init(void);
extern int	rp_claim_worker_slot(void);
extern void rp_wake_workers(void);
extern void rp_wake_at_commit(void);
extern int	rp_live_workers(void);
extern void rp_observe_storage_read(double ms);

#endif
