/*
 * S3-compatible storage (Supabase Storage's S3 endpoint, MinIO, AWS) with
 * resume_pipeline.storage_backend = 's3', and the S3 locations the pipeline's owner defines for
 * storage migrations (storage_locations). Two kinds of objects:
 *   - the pipeline's own (upload(), ZIP entries): write-once, named by object id,
 *     <database oid>/objects/<2 hex>/<object id> in the one bucket the superuser configured
 *     (resume_pipeline.s3_bucket) or the bucket of a location: nothing a user passes chooses a
 *     host, bucket or key;
 *   - objects registered from Supabase's storage.objects: <bucket>/<object key> as Supabase
 *     stored them, only ever read (_s3_read), and only through a files row the hook made.
 * A missing object is that document's permanent failure (58P01); anything else is the storage's,
 * transient (58030), so the storage circuit sees it. Every request goes through the backend's
 * curl multi client (net_client.h) and is waited for in the event loop, so query cancel,
 * statement_timeout and termination stop a transfer at once; only a removal at a transaction's
 * end waits quietly (nothing may raise there) and briefly.
 */
#include "postgres.h"

#include <stdlib.h>
#include <time.h>

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "net_loop.h"
#include "settings.h"
#include "shmem.h"
#include "storage.h"

PG_FUNCTION_INFO_V1(rp_sql_s3_read);

/* At a transaction's end a removal must not hold the session long: what fails is swept later. */
#define END_TIMEOUT_MS 5000

void
rp_s3_settings_place(RpPlace *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = RP_STORAGE_S3;
	strlcpy(out->name, "s3", sizeof(out->name));
	out->endpoint = pstrdup(rp_s3_endpoint ? rp_s3_endpoint : "");
	out->region = pstrdup(rp_s3_region ? rp_s3_region : "");
	out->access_key = pstrdup(rp_s3_access_key ? rp_s3_access_key : "");
	out->secret_key = pstrdup(rp_s3_secret_key ? rp_s3_secret_key : "");
	out->bucket = pstrdup(rp_s3_bucket ? rp_s3_bucket : "");
}

static bool
is_settings(const RpPlace *place)
{
	return strcmp(place->name, "s3") == 0;
}

static bool
configured(const RpPlace *place)
{
	return place->endpoint != NULL && place->endpoint[0] != '\0';
}

static void
require_configuration(const RpPlace *place)
{
	if (configured(place))
		return;
	if (is_settings(place))
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("resume_pipeline.s3_endpoint is not set"),
				 errhint("Set the S3 settings in postgresql.conf or with ALTER SYSTEM, then reload.")));
	ereport(ERROR,
			(errcode(ERRCODE_IO_ERROR),
			 errmsg("storage location \"%s\" has no endpoint", place->name)));
}

static void
target_of(const RpPlace *place, RpS3Target *target)
{
	memset(target, 0, sizeof(*target));
	target->endpoint = place->endpoint ? place->endpoint : "";
	target->region = place->region ? place->region : "";
	target->access_key = place->access_key ? place->access_key : "";
	target->secret_key = place->secret_key ? place->secret_key : "";
	target->timeout_ms = rp_request_timeout_ms;
}

/*
 * One request to the place's endpoint, waited for in the event loop (cancel and termination
 * raise their ERROR from the wait; the transfer is dropped). A request that cannot start comes
 * back with outcome "refused". The result's malloc'd parts are the caller's (rp_net_done_free).
 */
static void
s3_request(const RpPlace *place, RpS3Call *call, uint64 max_bytes, RpNetDone *done)
{
	RpNet	   *net = rp_backend_net();
	RpS3Target	target;
	int			tag;			/* its address names the transfer */

	target_of(place, &target);
	target.max_response_bytes = max_bytes;
	memset(done, 0, sizeof(*done));
	if (!rp_net_start_s3(net, &target, call, &tag, done->message, sizeof(done->message)))
	{
		strlcpy(done->outcome, "refused", sizeof(done->outcome));
		return;
	}
	rp_net_wait_done(net, &tag, done);
}

/* What a failed request says, for errhint: an invalid key is named as the thing to check. */
static int
credentials_hint(const RpPlace *place, const RpNetDone *done)
{
	if (strcmp(done->error_code, "SignatureDoesNotMatch") == 0 || strcmp(done->error_code, "InvalidAccessKeyId") == 0 ||
		done->http_status == 403)
	{
		if (is_settings(place))
			return errhint("Check resume_pipeline.s3_access_key and resume_pipeline.s3_secret_key.");
		return errhint("Check the keys of storage location \"%s\" (define_storage_location).", place->name);
	}
	return 0;
}

/* " (storage location "s3:x")" for a location, nothing for the settings. */
static const char *
where(const RpPlace *place)
{
	return is_settings(place) ? "" : psprintf(" (storage location \"%s\")", place->name);
}

/* <database oid>/objects/<2 hex>/<object id>, palloc'd. */
char *
rp_s3_object_key(const pg_uuid_t *id)
{
	char	   *hex = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));

	return psprintf("%u/objects/%.2s/%s", MyDatabaseId, hex, hex);
}

/* An object registered from storage.objects, or any object of the settings' endpoint. */
bytea *
rp_s3_read(const char *bucket, const char *key, const char *display)
{
	RpPlace		place;

	rp_s3_settings_place(&place);
	place.bucket = pstrdup(bucket);
	return rp_s3_read_at(&place, key, display, false);
}

bytea *
rp_s3_read_at(const RpPlace *place, const char *key, const char *display, bool missing_ok)
{
	RpS3Call	call = {0};
	RpNetDone	done;
	bytea	   *result = NULL;
	TimestampTz start = GetCurrentTimestamp();

	require_configuration(place);
	call.op = RP_S3_GET;
	call.bucket = place->bucket;
	call.key = key;
	s3_request(place, &call, (uint64) rp_max_file_size_kb * 1024, &done);
	if (done.ok)
	{
		/* into palloc'd memory before anything can raise and leak the malloc'd copy */
		result = palloc(VARHDRSZ + done.len);
		SET_VARSIZE(result, VARHDRSZ + done.len);
		if (done.len > 0)
			memcpy(VARDATA(result), done.data, done.len);
	}
	rp_net_done_free(&done);
	if (!done.ok)
	{
		if (strcmp(done.outcome, "not_found") == 0)
		{
			if (missing_ok)
				return NULL;
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("storage object \"%s\" is registered but S3 has no such object%s", display, where(place))));
		}
		if (strcmp(done.outcome, "too_large") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("storage object \"%s\" exceeds resume_pipeline.max_file_size (%d kB)",
							display, rp_max_file_size_kb)));
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not read storage object \"%s\" from S3%s: %s", display, where(place), done.message),
				 errdetail("S3 object \"%s/%s\".", place->bucket, key),
				 credentials_hint(place, &done)));
	}
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	return result;
}

/* A PUT to the place's bucket; raises 58030 when S3 does not take it. */
void
rp_s3_write(const RpPlace *place, const char *key, const char *data, size_t len, const char *content_type,
			int nmeta, const char *const *names, const char *const *values)
{
	RpS3Call	call = {0};
	RpNetDone	done;

	require_configuration(place);
	call.op = RP_S3_PUT;
	call.bucket = place->bucket;
	call.key = key;
	call.body = data;
	call.body_len = len;
	call.content_type = content_type;
	call.n_metadata = nmeta;
	call.metadata_names = names;
	call.metadata_values = values;
	/* the answer: headers and perhaps an error document */
	s3_request(place, &call, 1024 * 1024, &done);
	rp_net_done_free(&done);
	if (!done.ok)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not write storage object to S3 bucket \"%s\"%s: %s", place->bucket, where(place), done.message),
				 errdetail("S3 object \"%s/%s\".", place->bucket, key),
				 credentials_hint(place, &done)));
}

/*
 * A DELETE; never raises, so it can run where a transaction has ended. There it waits at most
 * END_TIMEOUT_MS, quietly, and not at all in a backend that is exiting. S3 answers 204 for a key
 * it does not have, so true means only that the object is not there now.
 */
bool
rp_s3_remove(const RpPlace *place, const char *key, bool at_transaction_end, char *message, size_t size)
{
	RpS3Call	call = {0};
	RpNetDone	done;
	RpNet	   *net;
	RpS3Target	target;
	int			tag;
	bool		ok;

	if (!configured(place))
	{
		strlcpy(message, is_settings(place) ? "resume_pipeline.s3_endpoint is not set" : "the storage location has no endpoint", size);
		return false;
	}
	if (at_transaction_end && proc_exit_inprogress)
	{
		strlcpy(message, "the session is exiting", size);
		return false;
	}
	call.op = RP_S3_DELETE;
	call.bucket = place->bucket;
	call.key = key;
	if (!at_transaction_end)
	{
		s3_request(place, &call, 1024 * 1024, &done);
		ok = done.ok || strcmp(done.outcome, "not_found") == 0;
		if (!ok)
			strlcpy(message, done.message, size);
		rp_net_done_free(&done);
		return ok;
	}
	net = rp_backend_net_if_ready();
	if (net == NULL)
	{
		strlcpy(message, "the HTTP client is not available", size);
		return false;
	}
	target_of(place, &target);
	target.timeout_ms = Min(target.timeout_ms, END_TIMEOUT_MS);
	target.max_response_bytes = 1024 * 1024;
	if (!rp_net_start_s3(net, &target, &call, &tag, message, size))
		return false;
	if (!rp_net_wait_quietly(net, &tag, &done, END_TIMEOUT_MS))
	{
		strlcpy(message, "S3 did not answer in time", size);
		return false;
	}
	ok = done.ok || strcmp(done.outcome, "not_found") == 0;
	if (!ok)
		strlcpy(message, done.message, size);
	rp_net_done_free(&done);
	return ok;
}

/* LastModified ("2026-11-30T01:00:00.000Z") as a timestamp; now when it cannot be read. */
static TimestampTz
modified_time(const char *s)
{
	struct tm	tm = {0};

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return GetCurrentTimestamp();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return time_t_to_timestamptz((pg_time_t) timegm(&tm));
}

/*
 * Every object under <database oid>/objects/ in the place's bucket (ListObjectsV2, page by
 * page), with its LastModified. Keys of any other shape are not the pipeline's and are skipped;
 * a LastModified that cannot be read counts as now (too recent for the sweep).
 */
void
rp_s3_list(const RpPlace *place, RpObjectSeen seen, void *arg)
{
	char	   *prefix = psprintf("%u/objects/", MyDatabaseId);
	size_t		prefix_len = strlen(prefix);
	char	   *token = NULL;
	int			pages = 0;

	require_configuration(place);
	for (;;)
	{
		RpS3Call	call = {0};
		RpNetDone	done;
		char	   *page;
		char	   *line;
		char	   *save = NULL;
		List	   *ids = NIL;
		List	   *times = NIL;
		ListCell   *a,
				   *b;

		call.op = RP_S3_LIST;
		call.bucket = place->bucket;
		call.key = prefix;
		call.continuation_token = token;
		s3_request(place, &call, 16 * 1024 * 1024, &done);	/* one page of at most 1000 keys */
		if (!done.ok)
		{
			char		message[sizeof(done.message)];

			strlcpy(message, done.message, sizeof(message));
			rp_net_done_free(&done);
			ereport(ERROR,
					(errcode(ERRCODE_IO_ERROR),
					 errmsg("could not list S3 bucket \"%s\"%s: %s", place->bucket, where(place), message),
					 credentials_hint(place, &done)));
		}
		/* The page into palloc'd memory first: the callback may raise. */
		page = pnstrdup(done.data ? done.data : "", done.len);
		if (token)
			pfree(token);
		token = NULL;
		/* A server that repeats itself or never ends a listing does not keep the sweep forever. */
		if (done.list_truncated && done.next_token[0] != '\0' && ++pages < 100000)
			token = pstrdup(done.next_token);
		rp_net_done_free(&done);
		/* "key\tsize\tlast_modified\n" per object; the pipeline's keys need no unescaping */
		for (line = strtok_r(page, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		{
			char	   *tab = strchr(line, '\t');
			char	   *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
			char	   *name;
			pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
			TimestampTz *t = palloc(sizeof(TimestampTz));

			if (tab == NULL)
				continue;
			*tab = '\0';
			name = strrchr(line, '/');
			/* <prefix><2 hex>/<object id>, the shard being the id's first two characters */
			if (name == NULL || name - line != (ptrdiff_t) prefix_len + 2 || strncmp(line, prefix, prefix_len) != 0 ||
				strncmp(line + prefix_len, name + 1, 2) != 0 || !rp_parse_object_id(name + 1, id))
				continue;
			*t = tab2 ? modified_time(tab2 + 1) : GetCurrentTimestamp();
			ids = lappend(ids, id);
			times = lappend(times, t);
		}
		forboth(a, ids, b, times)
			seen((pg_uuid_t *) lfirst(a), *(TimestampTz *) lfirst(b), arg);
		list_free_deep(ids);
		list_free_deep(times);
		pfree(page);
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
