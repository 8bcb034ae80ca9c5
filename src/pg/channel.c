/*
 * Status changes are announced on a channel of each user's own, never on one shared by all:
 * PostgreSQL delivers a notification to every session listening on its channel, whatever its
 * role, and anyone may NOTIFY any channel. The name is "resume_pipeline_" and the first 32 hex
 * digits of SHA-256(secret || user id), with a random secret made at CREATE EXTENSION and
 * readable by no user (resume_pipeline._secrets). A user learns their own channel from
 * notification_channel(); nobody can work out another user's, so nobody can listen to it or
 * forge events on it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "channel.h"

PG_FUNCTION_INFO_V1(rp_channel_of);

#define RP_SECRET_MAX 64

/* The secret, per backend; reloaded when the table is another (the extension was recreated). */
static Oid	secret_relid = InvalidOid;
static uint8 secret[RP_SECRET_MAX];
static int	secret_len;

static void
load_secret(Oid nsp)
{
	Oid			relid = get_relname_relid("_secrets", nsp);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	if (!OidIsValid(relid))
		elog(ERROR, "resume_pipeline: table \"_secrets\" is missing from the extension's schema");
	if (relid == secret_relid)
		return;
	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (!found && (tuple = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		name = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);
		Datum		value;

		if (isnull || strcmp(TextDatumGetCString(name), "notify") != 0)
			continue;
		value = heap_getattr(tuple, 2, RelationGetDescr(rel), &isnull);
		if (!isnull)
		{
			bytea	   *b = DatumGetByteaPP(value);

			secret_len = Min(VARSIZE_ANY_EXHDR(b), RP_SECRET_MAX);
			memcpy(secret, VARDATA_ANY(b), secret_len);
			found = true;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!found)
		elog(ERROR, "resume_pipeline: the notification secret is missing");
	secret_relid = relid;
}

void
rp_user_channel(Oid nsp, const pg_uuid_t *user_id, char *out)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx;
	/* The last answer: a session usually writes one user's rows. */
	static Oid	last_relid = InvalidOid;
	static pg_uuid_t last_user;
	static char last_channel[NAMEDATALEN];

	load_secret(nsp);
	if (last_relid == secret_relid && memcmp(&last_user, user_id, sizeof(last_user)) == 0)
	{
		strcpy(out, last_channel);
		return;
	}
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, secret, secret_len) < 0 ||
		pg_cryptohash_update(ctx, user_id->data, UUID_LEN) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "resume_pipeline: could not compute a channel name: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	strcpy(out, "resume_pipeline_");
	for (int i = 0; i < 16; i++)
		sprintf(out + 16 + 2 * i, "%02x", digest[i]);
	last_relid = secret_relid;
	memcpy(&last_user, user_id, sizeof(last_user));
	strcpy(last_channel, out);
}

/* _channel_of(user_id uuid) returns text */
Datum
rp_channel_of(PG_FUNCTION_ARGS)
{
	char		channel[NAMEDATALEN];

	rp_user_channel(get_func_namespace(fcinfo->flinfo->fn_oid), PG_GETARG_UUID_P(0), channel);
	PG_RETURN_TEXT_P(cstring_to_text(channel));
}
