/*
 * The objects the pipeline writes itself (upload(), ZIP entries), by object id, over two
 * backends: the filesystem (fs_storage.c) and S3 (s3_storage.c). Each files row records in its
 * storage column the place that holds its bytes ('filesystem' or 's3', resume_pipeline.storage_backend
 * when it was written, or an S3 location 's3:<name>' a storage migration moved it to), and every
 * operation on an object goes there: switching the setting later changes where new objects go,
 * never where old ones are read.
 *
 * While a storage migration is unfinished (migration.c, sql/install/35_migration.sql), an object
 * written to the migration's source is written to its target too (best effort: what fails there
 * the migration copies later), and an object released from either is removed from both.
 *
 * Objects are write-once and follow the transaction. A new version is a new object, visible only
 * through the row the transaction commits. If the transaction aborts, the objects it wrote are
 * removed; a subtransaction that rolls back leaves its objects to be removed when the transaction
 * ends, whichever way; once it commits, the versions it replaced or whose rows it deleted are
 * removed. Removal happens after the locks are released (a resource-release callback): a DELETE
 * to S3 must not keep others waiting. None of it raises an error: what cannot be removed then is
 * left to sweep_storage(), which removes objects no files row names.
 *
 * Access: storage_get() runs as the caller and looks the object up in resume_pipeline.files
 * through SPI, under the caller's row-level security. The internal functions take an object id
 * and are granted to nobody: only the pipeline's own code, holding the files row, calls them.
 * A location's endpoint and keys are read as the owner of storage_locations, whoever reads an
 * object, and appear in no message.
 */
#include "postgres.h"

#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core_bridge.h"
#include "settings.h"
#include "shmem.h"
#include "storage.h"

PG_FUNCTION_INFO_V1(rp_sql_storage_get);
PG_FUNCTION_INFO_V1(rp_sql_storage_read);
PG_FUNCTION_INFO_V1(rp_sql_storage_write);
PG_FUNCTION_INFO_V1(rp_sql_storage_forget);
PG_FUNCTION_INFO_V1(rp_sql_storage_list);
PG_FUNCTION_INFO_V1(rp_sql_storage_unlink);
PG_FUNCTION_INFO_V1(rp_sql_storage_locate);
PG_FUNCTION_INFO_V1(rp_sql_object_name_ok);
PG_FUNCTION_INFO_V1(rp_sql_check_object_name);

/* An object this transaction created or released; where it is was worked out when it was named. */
typedef struct ObjectChange
{
	RpPlace		place;
	char	   *location;		/* the file's path, or the S3 key */
	SubTransactionId subid;
	bool		abandoned;		/* created by a subtransaction that rolled back */
} ObjectChange;

/* In TopTransactionContext, which lives until after the resource-release callbacks. */
static List *created = NIL;
static List *released = NIL;
/* Settled at the transaction's end, removed after its locks are released. */
static List *doomed_created = NIL;
static bool doomed_all_created = false;	/* aborted: every created object, else the abandoned */
static List *doomed_released = NIL;

static const char *
backend_name(RpStorageBackend b)
{
	return b == RP_STORAGE_S3 ? "s3" : "filesystem";
}

/* The place new objects go: resume_pipeline.storage_backend. */
static void
setting_place(RpPlace *out)
{
	rp_place_named(backend_name((RpStorageBackend) rp_storage_backend), out);
}

/*
 * A location of resume_pipeline.storage_locations, read as the table's owner: users may read
 * objects stored there (through their files rows), never the location's keys. False when it is
 * not defined (or the table does not exist yet: a schema older than this module).
 */
static bool
lookup_location(const char *name, RpPlace *out)
{
	Oid			nsp = get_namespace_oid("resume_pipeline", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("storage_locations", nsp) : InvalidOid;
	HeapTuple	tuple;
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	if (!OidIsValid(relid))
		return false;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1];
		int			rc;

		values[0] = CStringGetTextDatum(name);
		SPI_connect();
		rc = SPI_execute_with_args("SELECT endpoint, region, bucket, access_key, secret_key"
								   "  FROM resume_pipeline.storage_locations WHERE name OPERATOR(pg_catalog.=) $1",
								   1, types, values, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not look up storage location: SPI error %d", rc);
		if (SPI_processed == 1)
		{
			HeapTuple	row = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *v;

			found = true;
			out->kind = RP_STORAGE_S3;
			strlcpy(out->name, name, sizeof(out->name));
			out->endpoint = MemoryContextStrdup(caller, (v = SPI_getvalue(row, desc, 1)) ? v : "");
			out->region = MemoryContextStrdup(caller, (v = SPI_getvalue(row, desc, 2)) ? v : "");
			out->bucket = MemoryContextStrdup(caller, (v = SPI_getvalue(row, desc, 3)) ? v : "");
			out->access_key = MemoryContextStrdup(caller, (v = SPI_getvalue(row, desc, 4)) ? v : "");
			out->secret_key = MemoryContextStrdup(caller, (v = SPI_getvalue(row, desc, 5)) ? v : "");
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	return found;
}

void
rp_place_named(const char *name, RpPlace *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "filesystem") == 0)
	{
		out->kind = RP_STORAGE_FILESYSTEM;
		strlcpy(out->name, name, sizeof(out->name));
		return;
	}
	if (strcmp(name, "s3") == 0)
	{
		rp_s3_settings_place(out);
		return;
	}
	if (strncmp(name, "s3:", 3) == 0 && strlen(name) < RP_PLACE_NAME_LEN)
	{
		if (lookup_location(name, out))
			return;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("storage location \"%s\" is not defined", name),
				 errhint("Define it with resume_pipeline.define_storage_location().")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown storage place \"%.64s\"", name),
			 errhint("A place is 'filesystem', 's3' or 's3:<name>', an S3 location defined with define_storage_location().")));
}

/* An endpoint as compared: without a trailing '/', case-insensitively. */
static bool
same_endpoint(const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return la == lb && pg_strncasecmp(a, b, la) == 0;
}

bool
rp_place_same(const RpPlace *a, const RpPlace *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == RP_STORAGE_FILESYSTEM)
		return true;
	return same_endpoint(a->endpoint, b->endpoint) && strcmp(a->bucket, b->bucket) == 0;
}

/* The name of the place holding the object of the files row naming it; false when no row
 * (visible here) does. */
static bool
place_of_row(const pg_uuid_t *id, char *name, size_t size)
{
	Oid			types[1] = {UUIDOID};
	Datum		values[1];
	bool		found = false;
	int			rc;

	values[0] = UUIDPGetDatum(id);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT storage FROM resume_pipeline.files WHERE object_id OPERATOR(pg_catalog.=) $1",
							   1, types, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not look up storage object: SPI error %d", rc);
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
		{
			strlcpy(name, v, size);
			found = true;
		}
	}
	SPI_finish();
	return found;
}

/* An optional place argument; else the row's; else the setting. */
static void
place_for(FunctionCallInfo fcinfo, int argno, const pg_uuid_t *id, RpPlace *out)
{
	char		name[RP_PLACE_NAME_LEN];

	if (fcinfo != NULL && PG_NARGS() > argno && !PG_ARGISNULL(argno))
		rp_place_named(text_to_cstring(PG_GETARG_TEXT_PP(argno)), out);
	else if (id != NULL && place_of_row(id, name, sizeof(name)))
		rp_place_named(name, out);
	else
		setting_place(out);
}

/* 36 characters of a lower-case uuid, as this module names objects. */
bool
rp_parse_object_id(const char *s, pg_uuid_t *out)
{
	int			nibbles = 0;

	if (strlen(s) != 36)
		return false;
	for (const char *c = s; *c; c++)
	{
		int			v = (*c >= '0' && *c <= '9') ? *c - '0' : (*c >= 'a' && *c <= 'f') ? *c - 'a' + 10 : -1;

		if (*c == '-')
			continue;
		if (v < 0 || nibbles >= 32)
			return false;
		out->data[nibbles / 2] = (nibbles % 2) ? (out->data[nibbles / 2] | v) : (v << 4);
		nibbles++;
	}
	return nibbles == 32;
}

bytea *
rp_place_read(const RpPlace *place, const pg_uuid_t *id, const char *display, bool missing_ok)
{
	char		path[MAXPGPATH];
	TimestampTz start;
	bytea	   *result;

	if (place->kind == RP_STORAGE_S3)
		return rp_s3_read_at(place, rp_s3_object_key(id), display, missing_ok);
	rp_fs_object_path(id, path, sizeof(path));
	if (missing_ok && !rp_fs_exists(path))
		return NULL;
	start = GetCurrentTimestamp();
	result = rp_fs_read(path, display);
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	return result;
}

bytea *
rp_storage_read(const pg_uuid_t *object_id, const char *display)
{
	RpPlace		place;

	place_for(NULL, 0, object_id, &place);
	return rp_place_read(&place, object_id, display, false);
}

/* A deep copy of a place, in cxt. */
static void
copy_place(RpPlace *dst, const RpPlace *src, MemoryContext cxt)
{
	*dst = *src;
	if (src->kind != RP_STORAGE_S3)
		return;
	dst->endpoint = MemoryContextStrdup(cxt, src->endpoint ? src->endpoint : "");
	dst->region = MemoryContextStrdup(cxt, src->region ? src->region : "");
	dst->access_key = MemoryContextStrdup(cxt, src->access_key ? src->access_key : "");
	dst->secret_key = MemoryContextStrdup(cxt, src->secret_key ? src->secret_key : "");
	dst->bucket = MemoryContextStrdup(cxt, src->bucket ? src->bucket : "");
}

static void
remember(List **list, const RpPlace *place, const pg_uuid_t *id)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ObjectChange *c = palloc0(sizeof(ObjectChange));

	copy_place(&c->place, place, TopTransactionContext);
	if (place->kind == RP_STORAGE_S3)
		c->location = rp_s3_object_key(id);
	else
	{
		c->location = palloc(MAXPGPATH);
		rp_fs_object_path(id, c->location, MAXPGPATH);
	}
	c->subid = GetCurrentSubTransactionId();
	*list = lappend(*list, c);
	MemoryContextSwitchTo(old);
}

void
rp_place_write(const RpPlace *place, const pg_uuid_t *id, const char *data, size_t len,
			   const char *content_type, int nmeta, const char *const *names, const char *const *values)
{
	if (place->kind == RP_STORAGE_S3)
	{
		/* First: a PUT that fails late (a timeout) may still have stored it. */
		remember(&created, place, id);
		rp_s3_write(place, ((ObjectChange *) llast(created))->location, data, len, content_type,
					nmeta, names, values);
	}
	else
	{
		char		path[MAXPGPATH];

		rp_fs_object_path(id, path, sizeof(path));
		rp_fs_write(path, data, len);
		remember(&created, place, id);
	}
}

bool
rp_place_remove(const RpPlace *place, const pg_uuid_t *id, char *message, size_t size)
{
	char		path[MAXPGPATH];

	message[0] = '\0';
	if (place->kind == RP_STORAGE_S3)
		return rp_s3_remove(place, rp_s3_object_key(id), false, message, size);
	rp_fs_object_path(id, path, sizeof(path));
	if (unlink(path) == 0 || errno == ENOENT)
		return true;
	snprintf(message, size, "could not remove \"%s\": %m", path);
	return false;
}

/*
 * Runs after the transaction's end: nothing here may raise. Once one S3 DELETE fails the others
 * are not tried (S3 is down or refuses us: each would wait as long); the sweep finds them.
 */
static void
remove_all(List *list, bool only_abandoned)
{
	ListCell   *lc;
	int			left = 0;
	char		message[512] = "";

	foreach(lc, list)
	{
		ObjectChange *c = (ObjectChange *) lfirst(lc);

		if (only_abandoned && !c->abandoned)
			continue;
		if (c->place.kind == RP_STORAGE_FILESYSTEM)
			(void) rp_fs_remove(c->location);
		else if (left > 0 || !rp_s3_remove(&c->place, c->location, true, message, sizeof(message)))
			left++;
	}
	if (left > 0)
		ereport(WARNING,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not remove %d storage object%s from S3: %s", left, left == 1 ? "" : "s", message),
				 errhint("resume_pipeline.sweep_storage() removes them later.")));
}

static void
storage_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (created != NIL || released != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that wrote or removed storage objects")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			doomed_created = created;	/* only what rolled-back subtransactions wrote */
			doomed_all_created = false;
			doomed_released = released; /* the committed rows no longer name them */
			created = released = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			doomed_created = created;	/* no committed row names them */
			doomed_all_created = true;
			doomed_released = NIL;
			created = released = NIL;
			break;
		case XACT_EVENT_PREPARE:
			created = released = doomed_created = doomed_released = NIL;
			break;
		default:
			break;
	}
}

/* A committed subtransaction hands its objects to its parent; an aborted one's are abandoned. */
static void
storage_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* No allocation here: an error while a subtransaction aborts would be fatal to it. */
	foreach(lc, created)
	{
		ObjectChange *c = (ObjectChange *) lfirst(lc);

		if (c->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			c->subid = parentSubid;
		else
			c->abandoned = true;
	}
	foreach(lc, released)
	{
		ObjectChange *c = (ObjectChange *) lfirst(lc);

		if (c->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			c->subid = parentSubid;
		else
			released = foreach_delete_current(released, lc);	/* its row still names it */
	}
}

/* After the top-level transaction's locks are released (called once per resource owner). */
static void
storage_release_callback(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	List	   *c = doomed_created;
	List	   *r = doomed_released;

	if (phase != RESOURCE_RELEASE_AFTER_LOCKS || !isTopLevel || (c == NIL && r == NIL))
		return;
	doomed_created = doomed_released = NIL;
	remove_all(c, !doomed_all_created);
	remove_all(r, false);
}

void
rp_storage_init(void)
{
	RegisterXactCallback(storage_xact_callback, NULL);
	RegisterSubXactCallback(storage_subxact_callback, NULL);
	RegisterResourceReleaseCallback(storage_release_callback, NULL);
}

/* storage_get(bucket text, name text) returns bytea: the object, if the caller sees its row. */
Datum
rp_sql_storage_get(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	pg_uuid_t	id;
	bool		found = false;
	bool		has_object = false;
	char		place_name[RP_PLACE_NAME_LEN] = "filesystem";
	RpPlace		place;
	char	   *display;
	int			rc;

	values[0] = CStringGetTextDatum(bucket);
	values[1] = CStringGetTextDatum(key);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT object_id, storage FROM resume_pipeline.files"
							   " WHERE bucket OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
							   2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not look up storage object: SPI error %d", rc);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		char	   *name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		found = true;
		if (!isnull)
		{
			memcpy(&id, DatumGetUUIDP(d), sizeof(id));
			has_object = true;
		}
		if (name != NULL)
			strlcpy(place_name, name, sizeof(place_name));
	}
	SPI_finish();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("storage object \"%s/%s\" does not exist", bucket, key),
				 errhint("Objects are reached through their row in resume_pipeline.files, which only its owner can see.")));
	display = psprintf("%s/%s", bucket, key);
	/* A row without an object id was registered from storage.objects: <bucket>/<name> on S3. */
	if (!has_object)
		PG_RETURN_BYTEA_P(rp_s3_read(bucket, key, display));
	rp_place_named(place_name, &place);
	PG_RETURN_BYTEA_P(rp_place_read(&place, &id, display, false));
}

/* _storage_read(object_id uuid, display text) returns bytea; display names it in errors */
Datum
rp_sql_storage_read(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(rp_storage_read(PG_GETARG_UUID_P(0), text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

/* S3 metadata from a jsonb object of strings: names of [A-Za-z0-9_-], printable ASCII values. */
static int
metadata_pairs(Jsonb *jb, const char ***names, const char ***values)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;
	int			size = 0;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("object metadata must be a JSON object of strings")));
	*names = palloc(sizeof(char *) * (JB_ROOT_COUNT(jb) + 1));
	*values = palloc(sizeof(char *) * (JB_ROOT_COUNT(jb) + 1));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			const char *s = v.val.string.val;
			int			len = v.val.string.len;

			if (len == 0 || len > 64 || strspn(pnstrdup(s, len), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != (size_t) len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("object metadata name \"%.*s\" is not 1 to 64 letters, digits, '_' or '-'", Min(len, 64), s)));
			(*names)[n] = pnstrdup(s, len);
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString || v.val.string.len == 0 || v.val.string.len > 1024)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("object metadata \"%s\" must be a string of 1 to 1024 characters", (*names)[n])));
			for (int i = 0; i < v.val.string.len; i++)
				if (v.val.string.val[i] < 0x20 || v.val.string.val[i] > 0x7e)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("object metadata \"%s\" must be printable ASCII (S3 sends it as a header)", (*names)[n])));
			size += strlen((*names)[n]) + v.val.string.len;
			(*values)[n++] = pnstrdup(v.val.string.val, v.val.string.len);
		}
	}
	if (size > 2048)			/* S3's limit on user metadata */
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("object metadata of %d bytes exceeds S3's 2 kB", size)));
	return n;
}

/*
 * During a migration's copying, an object written to its source goes to its target too, so that
 * nothing uploaded meanwhile is left behind. Best effort: a target that fails (a WARNING says
 * so) fails no upload, and the migration copies the object later. The shared advisory lock,
 * held until this transaction ends, keeps the migration from deciding it is done before this
 * row commits.
 */
static void
write_to_migration_target(const RpPlace *written, const pg_uuid_t *id, bytea *data, size_t len,
						  FunctionCallInfo fcinfo)
{
	RpActiveMigration m;
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	rp_active_migration(&m);
	if (!m.found || !m.copying || strcmp(m.source, written->name) != 0)
		return;
	DirectFunctionCall2(pg_advisory_xact_lock_shared_int4, Int32GetDatum(RP_MIGRATION_LOCK_CLASS), Int32GetDatum(0));
	rp_active_migration(&m);	/* again, now that it cannot end under us */
	if (!m.found || !m.copying || strcmp(m.source, written->name) != 0)
		return;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		RpPlace		target;
		const char **names = NULL;
		const char **values = NULL;
		int			nmeta = 0;
		const char *content_type = NULL;

		rp_place_named(m.target, &target);
		if (target.kind == RP_STORAGE_S3)
		{
			if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
				nmeta = metadata_pairs(PG_GETARG_JSONB_P(2), &names, &values);
			if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
				content_type = text_to_cstring(PG_GETARG_TEXT_PP(3));
		}
		if (!rp_place_same(written, &target))
			rp_place_write(&target, id, VARDATA_ANY(data), len, content_type, nmeta, names, values);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		/* A cancel or a shutdown is the session's, not the target's. */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not write the object to the storage migration's target \"%s\" too: %s",
						m.target, edata->message),
				 errhint("The migration copies it later.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * _storage_write(object_id uuid, data bytea, metadata jsonb DEFAULT NULL, content_type text
 * DEFAULT NULL) returns bigint: a new object where its files row says (removed on abort).
 * Metadata and content type reach S3 only (x-amz-meta-<name>: value).
 */
Datum
rp_sql_storage_write(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	bytea	   *data;
	size_t		len;
	RpPlace		place;
	const char **names = NULL;
	const char **values = NULL;
	int			nmeta = 0;
	const char *content_type = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("object id and data must not be null")));
	id = PG_GETARG_UUID_P(0);
	data = PG_GETARG_BYTEA_PP(1);
	len = VARSIZE_ANY_EXHDR(data);
	if (len > (size_t) rp_max_file_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("object of %zu bytes exceeds resume_pipeline.max_file_size (%d kB)",
						len, rp_max_file_size_kb)));
	place_for(NULL, 0, id, &place);	/* the row's, inserted just before */
	if (place.kind == RP_STORAGE_S3)
	{
		if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
			nmeta = metadata_pairs(PG_GETARG_JSONB_P(2), &names, &values);
		if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
			content_type = text_to_cstring(PG_GETARG_TEXT_PP(3));
	}
	rp_place_write(&place, id, VARDATA_ANY(data), len, content_type, nmeta, names, values);
	write_to_migration_target(&place, id, data, len, fcinfo);
	PG_RETURN_INT64((int64) len);
}

/* _storage_forget(object_id uuid, backend text DEFAULT NULL) returns void: removed once this
 * transaction commits. Pass the backend of a row that no longer names the object. */
Datum
rp_sql_storage_forget(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	RpPlace		place;
	RpActiveMigration m;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	id = PG_GETARG_UUID_P(0);
	place_for(fcinfo, 1, id, &place);
	remember(&released, &place, id);
	/* An unfinished migration may hold a copy in its other place: that goes too. */
	rp_active_migration(&m);
	if (m.found && (strcmp(m.source, place.name) == 0 || strcmp(m.target, place.name) == 0))
	{
		const char *other = strcmp(m.source, place.name) == 0 ? m.target : m.source;
		MemoryContext caller = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		RpPlace		copy;

		/* Not its own place: a location undefined since must not stop a user's DELETE. */
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(caller);
		PG_TRY();
		{
			rp_place_named(other, &copy);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(caller);
			CurrentResourceOwner = owner;
			if (!rp_place_same(&copy, &place))
				remember(&released, &copy, id);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(caller);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(caller);
			CurrentResourceOwner = owner;
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
				ReThrowError(edata);
			ereport(WARNING, (errcode(edata->sqlerrcode), errmsg("%s", edata->message)));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	PG_RETURN_VOID();
}

typedef struct ListState
{
	ReturnSetInfo *rsinfo;
} ListState;

static void
list_one(const pg_uuid_t *id, TimestampTz modified, void *arg)
{
	ListState  *state = (ListState *) arg;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = UUIDPGetDatum(id);
	values[1] = TimestampTzGetDatum(modified);
	tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc, values, nulls);
}

/* _storage_list(backend text DEFAULT NULL) returns table (object_id uuid, modified timestamptz):
 * this database's objects in that place (default: resume_pipeline.storage_backend) */
Datum
rp_sql_storage_list(PG_FUNCTION_ARGS)
{
	ListState	state;
	RpPlace		place;

	place_for(fcinfo, 0, NULL, &place);
	InitMaterializedSRF(fcinfo, 0);
	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (place.kind == RP_STORAGE_S3)
		rp_s3_list(&place, list_one, &state);
	else
		rp_fs_list(list_one, &state);
	PG_RETURN_VOID();
}

/* _storage_unlink(object_id uuid, backend text DEFAULT NULL) returns boolean: removes an
 * object now (the sweep's own use; default: resume_pipeline.storage_backend) */
Datum
rp_sql_storage_unlink(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	RpPlace		place;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	id = PG_GETARG_UUID_P(0);
	place_for(fcinfo, 1, NULL, &place);
	if (place.kind == RP_STORAGE_S3)
	{
		char		message[512];

		if (!rp_s3_remove(&place, rp_s3_object_key(id), false, message, sizeof(message)))
		{
			ereport(WARNING,
					(errcode(ERRCODE_IO_ERROR),
					 errmsg("could not remove storage object from S3: %s", message)));
			PG_RETURN_BOOL(false);
		}
		PG_RETURN_BOOL(true);
	}
	else
	{
		char		path[MAXPGPATH];

		rp_fs_object_path(id, path, sizeof(path));
		PG_RETURN_BOOL(rp_fs_remove(path));
	}
}

/*
 * _storage_locate(object_id uuid, OUT backend text, OUT bucket text, OUT key text): where the
 * bytes of the object a files row names are, for a worker that fetches them itself:
 * ('filesystem', null, <path>), ('s3', <resume_pipeline.s3_bucket>, <key>) or, in a location,
 * ('s3:<name>', <its bucket>, <key>). 58P01 when no files row names it.
 */
Datum
rp_sql_storage_locate(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id = PG_GETARG_UUID_P(0);
	char		name[RP_PLACE_NAME_LEN];
	RpPlace		place;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "_storage_locate must return a record");
	if (!place_of_row(id, name, sizeof(name)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("no files row names storage object %s",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id))))));
	rp_place_named(name, &place);
	values[0] = CStringGetTextDatum(place.name);
	if (place.kind == RP_STORAGE_S3)
	{
		values[1] = CStringGetTextDatum(place.bucket);
		values[2] = CStringGetTextDatum(rp_s3_object_key(id));
	}
	else
	{
		char		path[MAXPGPATH];

		rp_fs_object_path(id, path, sizeof(path));
		nulls[1] = true;
		values[2] = CStringGetTextDatum(path);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* _object_name_ok(bucket text, name text) returns boolean */
Datum
rp_sql_object_name_ok(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		relative[MAXPGPATH];
	char		err[256];

	PG_RETURN_BOOL(rp_core_object_path(bucket, key, relative, sizeof(relative), err, sizeof(err)) == 0);
}

/* _check_object_name(bucket text, name text) returns void: 22023 naming what is wrong */
Datum
rp_sql_check_object_name(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		relative[MAXPGPATH];
	char		err[256];

	if (rp_core_object_path(bucket, key, relative, sizeof(relative), err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid storage object name: %s", err)));
	PG_RETURN_VOID();
}
