/*
 * Numbers that live only in shared memory, for health() and metrics(): live workers, wake-ups,
 * and the latency of the last storage reads (a ring of samples, summarised as quantiles).
 * Job counts and durations come from the jobs table itself, so they always match it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_workers_alive);
PG_FUNCTION_INFO_V1(rp_storage_read_latency);

void
rp_observe_storage_read(double ms)
{
	if (rp_shared == NULL)
		return;
	SpinLockAcquire(&rp_shared->latency_mutex);
	rp_shared->storage_read_ms[rp_shared->storage_reads % RP_LATENCY_SAMPLES] = (float4) ms;
	rp_shared->storage_reads++;
	SpinLockRelease(&rp_shared->latency_mutex);
}

Datum
rp_workers_alive(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(rp_live_workers());
}

static int
compare_float4(const void *a, const void *b)
{
	float4		x = *(const float4 *) a,
				y = *(const float4 *) b;

	return (x > y) - (x < y);
}

/* _storage_read_latency() → (quantile, milliseconds) for 0.5, 0.9, 0.99, plus the read count */
Datum
rp_storage_read_latency(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const double quantiles[] = {0.5, 0.9, 0.99};
	float4		samples[RP_LATENCY_SAMPLES];
	uint64		reads = 0;
	int			n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	if (rp_shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&rp_shared->latency_mutex);
	reads = rp_shared->storage_reads;
	n = reads < RP_LATENCY_SAMPLES ? (int) reads : RP_LATENCY_SAMPLES;
	memcpy(samples, rp_shared->storage_read_ms, n * sizeof(float4));
	SpinLockRelease(&rp_shared->latency_mutex);
	if (n == 0)
		return (Datum) 0;
	qsort(samples, n, sizeof(float4), compare_float4);
	for (i = 0; i < lengthof(quantiles); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int			k = (int) (quantiles[i] * (n - 1) + 0.5);

		values[0] = Float8GetDatum(quantiles[i]);
		values[1] = Float8GetDatum(samples[k]);
		values[2] = Int64GetDatum((int64) reads);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
