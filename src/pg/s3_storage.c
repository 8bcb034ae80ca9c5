/*
 * S3-compatible storage (Supabase Storage's S3 endpoint, MinIO, AWS), for now the reading side:
 * objects that Supabase's storage.objects hook registered are read with a SigV4-signed GET of
 * <bucket>/<object key> (resume_pipeline.storage_backend = 's3'). A missing object is that
 * document's permanent failure (58P01); anything else the storage's, transient (58030), so the
 * storage circuit sees it. Query cancel and termination stop a transfer at once.
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "s3_bridge.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_sql_s3_read);

static bool
interrupted(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

/* _s3_read(bucket text, name text) returns bytea */
Datum
rp_sql_s3_read(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	RpS3Get		req;
	bytea	   *result;
	TimestampTz start = GetCurrentTimestamp();

	if (rp_s3_endpoint == NULL || rp_s3_endpoint[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("resume_pipeline.s3_endpoint is not set"),
				 errhint("Set the S3 settings in postgresql.conf or with ALTER SYSTEM, then reload.")));
	memset(&req, 0, sizeof(req));
	req.endpoint = rp_s3_endpoint;
	req.region = rp_s3_region ? rp_s3_region : "";
	req.access_key = rp_s3_access_key ? rp_s3_access_key : "";
	req.secret_key = rp_s3_secret_key ? rp_s3_secret_key : "";
	req.bucket = bucket;
	req.key = key;
	req.timeout_ms = rp_request_timeout_ms;
	req.max_bytes = (unsigned long long) rp_max_file_size_kb * 1024;
	req.should_abort = interrupted;
	rp_s3_get(&req);
	CHECK_FOR_INTERRUPTS();
	if (!req.ok)
	{
		char		message[sizeof(req.message)];

		strlcpy(message, req.message, sizeof(message));
		if (req.not_found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("storage object \"%s/%s\" is registered but S3 has no such object", bucket, key)));
		if (req.too_large)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("storage object \"%s/%s\" exceeds resume_pipeline.max_file_size (%d kB)",
							bucket, key, rp_max_file_size_kb)));
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not read storage object \"%s/%s\" from S3: %s", bucket, key, message)));
	}
	result = palloc(VARHDRSZ + req.len);
	SET_VARSIZE(result, VARHDRSZ + req.len);
	memcpy(VARDATA(result), req.data, req.len);
	free(req.data);
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	PG_RETURN_BYTEA_P(result);
}
