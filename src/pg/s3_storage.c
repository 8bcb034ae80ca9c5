/*
 * S3-compatible storage (Supabase Storage's S3 endpoint, MinIO, AWS) with
 * resume_pipeline.storage_backend = 's3'. Two kinds of objects:
 *   - the pipeline's own (upload(), ZIP entries): write-once, named by object id,
 *     <database oid>/objects/<2 hex>/<object id> in the one bucket the superuser configured
 *     (resume_pipeline.s3_bucket): nothing a user passes chooses a host, bucket or key;
 *   - objects registered from Supabase's storage.objects: <bucket>/<object key> as Supabase
 *     stored them, only ever read (_s3_read), and only through a files row the hook made.
 * A missing object is that document's permanent failure (58P01); anything else is the storage's,
 * transient (58030), so the storage circuit sees it. Query cancel and termination stop a
 * transfer at once. Every S3 request of the C layer goes through s3_request() below, so a
 * non-blocking client can take them over in one place.
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "s3_bridge.h"
#include "settings.h"
#include "shmem.h"
#include "storage.h"

PG_FUNCTION_INFO_V1(rp_sql_s3_read);

/* At a transaction's end a removal must not hold the session long: what fails is swept later. */
#define END_TIMEOUT_MS 5000

static bool
interrupted(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

static bool
configured(void)
{
	return rp_s3_endpoint != NULL && rp_s3_endpoint[0] != '\0';
}

static void
require_configuration(void)
{
	if (!configured())
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("resume_pipeline.s3_endpoint is not set"),
				 errhint("Set the S3 settings in postgresql.conf or with ALTER SYSTEM, then reload.")));
}

/* Fills in the connection from the settings and runs one request; never raises. */
static void
s3_request(RpS3Call *call, long timeout_ms)
{
	call->endpoint = rp_s3_endpoint ? rp_s3_endpoint : "";
	call->region = rp_s3_region ? rp_s3_region : "";
	call->access_key = rp_s3_access_key ? rp_s3_access_key : "";
	call->secret_key = rp_s3_secret_key ? rp_s3_secret_key : "";
	call->timeout_ms = timeout_ms;
	if (call->max_bytes == 0)
		call->max_bytes = (unsigned long long) rp_max_file_size_kb * 1024;
	call->should_abort = interrupted;
	rp_s3_call(call);
}

/* What a failed request says, for errdetail: an invalid key is named as the thing to check. */
static int
credentials_hint(const RpS3Call *call)
{
	if (strcmp(call->error_code, "SignatureDoesNotMatch") == 0 || strcmp(call->error_code, "InvalidAccessKeyId") == 0 ||
		call->http_status == 403)
		return errhint("Check resume_pipeline.s3_access_key and resume_pipeline.s3_secret_key.");
	return 0;
}

/* <database oid>/objects/<2 hex>/<object id>, palloc'd. */
char *
rp_s3_object_key(const pg_uuid_t *id)
{
	char	   *hex = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));

	return psprintf("%u/objects/%.2s/%s", MyDatabaseId, hex, hex);
}

bytea *
rp_s3_read(const char *bucket, const char *key, const char *display)
{
	RpS3Call	call;
	bytea	   *result = NULL;
	TimestampTz start = GetCurrentTimestamp();

	require_configuration();
	memset(&call, 0, sizeof(call));
	call.method = RP_S3_GET;
	call.bucket = bucket;
	call.key = key;
	s3_request(&call, rp_request_timeout_ms);
	if (call.ok)
	{
		/* into palloc'd memory before anything can raise and leak the malloc'd copy */
		result = palloc(VARHDRSZ + call.len);
		SET_VARSIZE(result, VARHDRSZ + call.len);
		memcpy(VARDATA(result), call.data, call.len);
		rp_s3_call_free(&call);
	}
	CHECK_FOR_INTERRUPTS();
	if (!call.ok)
	{
		if (call.not_found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("storage object \"%s\" is registered but S3 has no such object", display)));
		if (call.too_large)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("storage object \"%s\" exceeds resume_pipeline.max_file_size (%d kB)",
							display, rp_max_file_size_kb)));
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not read storage object \"%s\" from S3: %s", display, call.message),
				 errdetail("S3 object \"%s/%s\".", bucket, key),
				 credentials_hint(&call)));
	}
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	return result;
}

/* A PUT to resume_pipeline.s3_bucket; raises 58030 when S3 does not take it. */
void
rp_s3_write(const char *key, const char *data, size_t len, const char *content_type,
			int nmeta, const char *const *names, const char *const *values)
{
	RpS3Call	call;

	require_configuration();
	memset(&call, 0, sizeof(call));
	call.method = RP_S3_PUT;
	call.bucket = rp_s3_bucket;
	call.key = key;
	call.body = data;
	call.body_len = len;
	call.content_type = content_type;
	call.nmeta = nmeta;
	call.meta_names = names;
	call.meta_values = values;
	call.max_bytes = 1024 * 1024;	/* the answer: headers and perhaps an error document */
	s3_request(&call, rp_request_timeout_ms);
	CHECK_FOR_INTERRUPTS();
	if (!call.ok)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not write storage object to S3 bucket \"%s\": %s", rp_s3_bucket, call.message),
				 errdetail("S3 object \"%s/%s\".", rp_s3_bucket, key),
				 credentials_hint(&call)));
	rp_s3_call_free(&call);
}

/*
 * A DELETE; never raises, so it can run where a transaction has ended. There it waits at most
 * END_TIMEOUT_MS and not at all in a backend that is exiting. S3 answers 204 for a key it does
 * not have, so true means only that the object is not there now.
 */
bool
rp_s3_remove(const char *bucket, const char *key, bool at_transaction_end, char *message, size_t size)
{
	RpS3Call	call;
	long		timeout = rp_request_timeout_ms;

	if (!configured())
	{
		strlcpy(message, "resume_pipeline.s3_endpoint is not set", size);
		return false;
	}
	if (at_transaction_end)
	{
		if (proc_exit_inprogress)
		{
			strlcpy(message, "the session is exiting", size);
			return false;
		}
		timeout = Min(timeout, END_TIMEOUT_MS);
	}
	memset(&call, 0, sizeof(call));
	call.method = RP_S3_DELETE;
	call.bucket = bucket;
	call.key = key;
	call.connect_timeout_ms = Min(timeout, END_TIMEOUT_MS);
	call.max_bytes = 1024 * 1024;
	s3_request(&call, timeout);
	if (!call.ok && !call.not_found)
	{
		strlcpy(message, call.message, size);
		return false;
	}
	rp_s3_call_free(&call);
	return true;
}

/*
 * Every object under <database oid>/objects/ in resume_pipeline.s3_bucket (ListObjectsV2, page by
 * page), with its LastModified. Keys of any other shape are not the pipeline's and are skipped;
 * a LastModified that cannot be read counts as now (too recent for the sweep).
 */
void
rp_s3_list(RpObjectSeen seen, void *arg)
{
	char	   *prefix = psprintf("%u/objects/", MyDatabaseId);
	char	   *token = NULL;
	int			pages = 0;

	require_configuration();
	for (;;)
	{
		RpS3Call	call;
		pg_uuid_t  *ids;
		TimestampTz *times;
		int			n = 0;

		memset(&call, 0, sizeof(call));
		call.method = RP_S3_LIST;
		call.bucket = rp_s3_bucket;
		call.prefix = prefix;
		call.continuation_token = token;
		call.max_bytes = 16 * 1024 * 1024;	/* one page of at most 1000 keys */
		s3_request(&call, rp_request_timeout_ms);
		CHECK_FOR_INTERRUPTS();	/* a failed call holds no memory */
		if (!call.ok)
			ereport(ERROR,
					(errcode(ERRCODE_IO_ERROR),
					 errmsg("could not list S3 bucket \"%s\": %s", rp_s3_bucket, call.message),
					 credentials_hint(&call)));
		/* The page into palloc'd memory first: the callback may raise. */
		ids = palloc(sizeof(pg_uuid_t) * (call.nlisted + 1));
		times = palloc(sizeof(TimestampTz) * (call.nlisted + 1));
		for (int i = 0; i < call.nlisted; i++)
		{
			const char *key = call.listed[i].key;
			const char *name = strrchr(key, '/');

			/* <prefix><2 hex>/<object id>, the shard being the id's first two characters */
			if (name == NULL || name - key != (ptrdiff_t) strlen(prefix) + 2 ||
				strncmp(key, prefix, strlen(prefix)) != 0 ||
				strncmp(key + strlen(prefix), name + 1, 2) != 0 || !rp_parse_object_id(name + 1, &ids[n]))
				continue;
			times[n++] = call.listed[i].modified < 0 ? GetCurrentTimestamp()
				: time_t_to_timestamptz((pg_time_t) call.listed[i].modified);
		}
		if (token)
			pfree(token);
		token = NULL;
		/* A server that repeats itself or never ends a listing does not keep the sweep forever. */
		if (call.truncated && call.next_token != NULL && ++pages < 100000)
			token = pstrdup(call.next_token);
		rp_s3_call_free(&call);
		for (int i = 0; i < n; i++)
			seen(&ids[i], times[i], arg);
		pfree(ids);
		pfree(times);
		if (token == NULL)
			break;
	}
	pfree(prefix);
}

/* _s3_read(bucket text, name text) returns bytea: an object registered from storage.objects */
Datum
rp_sql_s3_read(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_BYTEA_P(rp_s3_read(bucket, key, psprintf("%s/%s", bucket, key)));
}
