/*
 * Storage migration, the C half (sql/install/35_migration.sql is the other): copying one object
 * from one place to another with its SHA-256 verified on both sides, and what the storage layer
 * asks about an unfinished migration (storage.c writes new uploads to both places and removes
 * released objects from both while one is unfinished).
 *
 * A copy is: read from the source, SHA-256 against files.checksum (a mismatch is the object's
 * failure, 'XX001', and nothing is written), then the target: a copy already there that matches
 * (an upload written to both, or a run interrupted before it switched the row) is used as it is;
 * anything else there is replaced. What is written is read back and verified again. The copy
 * follows the transaction like any written object: removed if the (sub)transaction rolls back.
 * Switching the row, and removing the source's copy later, are the SQL's.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "storage.h"

PG_FUNCTION_INFO_V1(rp_sql_migrate_copy);
PG_FUNCTION_INFO_V1(rp_sql_migrate_remove);
PG_FUNCTION_INFO_V1(rp_sql_storage_place_check);
PG_FUNCTION_INFO_V1(rp_sql_storage_same_place);

/*
 * The unfinished migration (running or stopped), read as the owner of storage_migrations: the
 * storage layer asks on behalf of whoever uploads or deletes. None when the table does not exist
 * (a schema older than this module).
 */
void
rp_active_migration(RpActiveMigration *out)
{
	Oid			nsp = get_namespace_oid("resume_pipeline", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("storage_migrations", nsp) : InvalidOid;
	HeapTuple	tuple;
	Oid			owner;
	Oid			save_user;
	int			save_sec;

	memset(out, 0, sizeof(*out));
	if (!OidIsValid(relid))
		return;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		int			rc;

		SPI_connect();
		rc = SPI_execute("SELECT source, target, state OPERATOR(pg_catalog.=) 'running' AND phase OPERATOR(pg_catalog.=) 'copy'"
						 "  FROM resume_pipeline.storage_migrations"
						 " WHERE state OPERATOR(pg_catalog.=) ANY ('{running,stopped}'::pg_catalog.text[]) LIMIT 1",
						 true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not look up the storage migration: SPI error %d", rc);
		if (SPI_processed == 1)
		{
			HeapTuple	row = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *v;

			out->found = true;
			strlcpy(out->source, (v = SPI_getvalue(row, desc, 1)) ? v : "", sizeof(out->source));
			strlcpy(out->target, (v = SPI_getvalue(row, desc, 2)) ? v : "", sizeof(out->target));
			out->copying = (v = SPI_getvalue(row, desc, 3)) != NULL && v[0] == 't';
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
}

static void
sha256_hex(const bytea *data, char *hex)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
}

static bool
matches(const bytea *data, const char *checksum)
{
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];

	sha256_hex(data, hex);
	return pg_strcasecmp(hex, checksum) == 0;
}

/*
 * _migrate_copy(object_id uuid, source text, target text, checksum text, content_type text,
 * zip_id text, display text) returns jsonb {"bytes", "copied", "reused"}: the object is in the
 * target, verified; "copied" when this call wrote it, "reused" when a verified copy was there.
 * XX001 when the source's copy or the written one does not match checksum.
 */
Datum
rp_sql_migrate_copy(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	char	   *checksum;
	char	   *display;
	const char *content_type = NULL;
	const char *names[1] = {"zip_id"};
	const char *values[1] = {NULL};
	int			nmeta = 0;
	RpPlace		src;
	RpPlace		dst;
	bytea	   *data;
	bytea	   *there;
	bool		reused = false;
	size_t		len;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("object id, source, target and checksum must not be null")));
	id = PG_GETARG_UUID_P(0);
	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(1)), &src);
	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(2)), &dst);
	checksum = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
		content_type = text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (!PG_ARGISNULL(5))
	{
		values[0] = text_to_cstring(PG_GETARG_TEXT_PP(5));
		nmeta = 1;
	}
	display = PG_ARGISNULL(6) ? DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)))
		: text_to_cstring(PG_GETARG_TEXT_PP(6));
	if (rp_place_same(&src, &dst))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("storage places \"%s\" and \"%s\" are the same store", src.name, dst.name)));

	data = rp_place_read(&src, id, display, false);
	len = VARSIZE_ANY_EXHDR(data);
	if (!matches(data, checksum))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the copy of storage object \"%s\" in \"%s\" does not match its checksum", display, src.name),
				 errdetail("Its SHA-256 differs from files.checksum; it is left where it is.")));
	there = rp_place_read(&dst, id, display, true);
	if (there != NULL && matches(there, checksum))
		reused = true;
	else
	{
		char		message[512];

		/* A partial or foreign copy (a crash mid-write): the filesystem writes only new files. */
		if (there != NULL && dst.kind == RP_STORAGE_FILESYSTEM && !rp_place_remove(&dst, id, message, sizeof(message)))
			ereport(ERROR, (errcode(ERRCODE_IO_ERROR), errmsg("%s", message)));
		rp_place_write(&dst, id, VARDATA_ANY(data), len, content_type, nmeta, names, values);
		there = rp_place_read(&dst, id, display, true);
		if (there == NULL || !matches(there, checksum))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the copy of storage object \"%s\" written to \"%s\" does not match its checksum when read back",
							display, dst.name)));
	}
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in,
										CStringGetDatum(psprintf("{\"bytes\": %zu, \"copied\": %s, \"reused\": %s}", len,
																 reused ? "false" : "true", reused ? "true" : "false"))));
}

/* _migrate_remove(object_id uuid, place text) returns boolean: true when the place has no such
 * object now; false (and a WARNING) when it could not be removed. */
Datum
rp_sql_migrate_remove(PG_FUNCTION_ARGS)
{
	RpPlace		place;
	char		message[512];

	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(1)), &place);
	if (rp_place_remove(&place, PG_GETARG_UUID_P(0), message, sizeof(message)))
		PG_RETURN_BOOL(true);
	ereport(WARNING,
			(errcode(ERRCODE_IO_ERROR),
			 errmsg("could not remove storage object from \"%s\": %s", place.name, message)));
	PG_RETURN_BOOL(false);
}

/* _storage_place_check(name text) returns text: the name, if it names a place (22023, 42704) */
Datum
rp_sql_storage_place_check(PG_FUNCTION_ARGS)
{
	RpPlace		place;

	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(0)), &place);
	PG_RETURN_TEXT_P(cstring_to_text(place.name));
}

/* _storage_same_place(a text, b text) returns boolean: one store under two names */
Datum
rp_sql_storage_same_place(PG_FUNCTION_ARGS)
{
	RpPlace		a;
	RpPlace		b;

	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(0)), &a);
	rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(1)), &b);
	PG_RETURN_BOOL(rp_place_same(&a, &b));
}
