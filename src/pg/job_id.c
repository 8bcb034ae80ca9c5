/*
 * Job ids: UUIDs laid out as version 7 of RFC 9562 (48-bit Unix milliseconds, then random
 * bits), which PostgreSQL 15 does not generate itself. Ids that grow with time land at the
 * right edge of the primary-key index, so queuing a job touches one hot leaf page instead of
 * a random one, and ids sort by creation. They are not secrets (rows are guarded by RLS), so
 * the backend's fast PRNG fills the random bits rather than the kernel's.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "fmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "job_id.h"

PG_FUNCTION_INFO_V1(rp_new_job_id);

pg_uuid_t *
rp_job_id(void)
{
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	uint64		ms = (uint64) (GetCurrentTimestamp() / 1000) +
		(uint64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
	uint64		a = pg_prng_uint64(&pg_global_prng_state);
	uint64		b = pg_prng_uint64(&pg_global_prng_state);

	for (int i = 0; i < 6; i++)
		id->data[i] = (unsigned char) (ms >> (8 * (5 - i)));
	for (int i = 6; i < 16; i++)
		id->data[i] = (unsigned char) ((i < 8 ? a : b) >> (8 * (i % 8)));
	id->data[6] = 0x70 | (id->data[6] & 0x0f);	/* version 7 */
	id->data[8] = 0x80 | (id->data[8] & 0x3f);	/* variant 10 */
	return id;
}

/* resume_pipeline._new_job_id(), the default of jobs.id. */
Datum
rp_new_job_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_UUID_P(rp_job_id());
}
