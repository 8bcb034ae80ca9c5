/*
 * Filesystem storage, the embedded default. Objects are write-once files named by a random
 * object id, never by their key: <root>/<database oid>/objects/<2 hex>/<object id>, where root
 * is resume_pipeline.storage_root (default: resume_pipeline_storage inside the data directory).
 * A files row names the object id of its current version; a key is only a column of that row.
 * So:
 *   - two databases of one cluster never see each other's objects (a directory per database);
 *   - no key can reach outside the root or collide with another on disk ("x.pdf" and
 *     "x.pdf/y.pdf" are two rows, two ids);
 *   - nothing a transaction writes replaces anything: a new version is a new file, visible only
 *     through the row that the transaction commits. If it aborts (or a subtransaction does),
 *     its files are removed; if it commits, the versions it replaced or whose rows it deleted
 *     are removed after the commit. Files a crash left behind are found by sweep_storage().
 *
 * Access: storage_get() runs as the caller and looks the object up in resume_pipeline.files
 * through SPI, under the caller's row-level security. The internal functions take an object id
 * and are granted to nobody: only the pipeline's own code, holding the files row, calls them.
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "common/file_perm.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core_bridge.h"
#include "fs_storage.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_sql_storage_get);
PG_FUNCTION_INFO_V1(rp_sql_storage_read);
PG_FUNCTION_INFO_V1(rp_sql_storage_write);
PG_FUNCTION_INFO_V1(rp_sql_storage_forget);
PG_FUNCTION_INFO_V1(rp_sql_storage_list);
PG_FUNCTION_INFO_V1(rp_sql_storage_unlink);
PG_FUNCTION_INFO_V1(rp_sql_object_name_ok);
PG_FUNCTION_INFO_V1(rp_sql_check_object_name);

/* A file this transaction created (removed if it aborts) or released (removed once it commits). */
typedef struct ObjectChange
{
	char	   *path;
	SubTransactionId subid;
} ObjectChange;

static List *created = NIL;		/* in TopTransactionContext */
static List *released = NIL;

static void
database_dir(char *buf, size_t size)
{
	if (rp_storage_root != NULL && rp_storage_root[0] != '\0')
	{
		if (!is_absolute_path(rp_storage_root))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("resume_pipeline.storage_root must be an absolute path, not \"%s\"", rp_storage_root)));
		snprintf(buf, size, "%s/%u", rp_storage_root, MyDatabaseId);
	}
	else
		snprintf(buf, size, "%s/resume_pipeline_storage/%u", DataDir, MyDatabaseId);
}

static void
object_path(const pg_uuid_t *id, char *out, size_t size)
{
	char		dir[MAXPGPATH];
	char	   *hex = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));

	database_dir(dir, sizeof(dir));
	if (snprintf(out, size, "%s/objects/%.2s/%s", dir, hex, hex) >= (int) size)
		ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("storage path is too long")));
	pfree(hex);
}

static bytea *
read_file(const char *path, const char *display)
{
	int			fd;
	struct stat st;
	bytea	   *result;
	size_t		done = 0;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("storage object \"%s\" is registered but its file is missing", display)));
		/* Anything else is the storage's fault, not the document's: transient, and it counts
		 * against the storage circuit (permissions, I/O errors, too many open files). */
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not open storage object \"%s\": %m", display)));
	}
	if (fstat(fd, &st) != 0)
		ereport(ERROR, (errcode(ERRCODE_IO_ERROR), errmsg("could not stat \"%s\": %m", display)));
	if ((uint64) st.st_size > (uint64) rp_max_file_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("storage object \"%s\" of %lld bytes exceeds resume_pipeline.max_file_size (%d kB)",
						display, (long long) st.st_size, rp_max_file_size_kb)));
	result = palloc(VARHDRSZ + st.st_size);
	SET_VARSIZE(result, VARHDRSZ + st.st_size);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, VARDATA(result) + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_IO_ERROR),
					 errmsg("could not read storage object \"%s\": %m", display)));
		done += n;
	}
	CloseTransientFile(fd);
	return result;
}

/* Writes a new file (never an existing one) and makes it and its directory entry durable. */
static void
write_file(const char *path, const char *data, size_t len)
{
	int			fd;
	size_t		done = 0;
	char		dir[MAXPGPATH];

	strlcpy(dir, path, sizeof(dir));
	get_parent_directory(dir);
	if (pg_mkdir_p(dir, pg_dir_create_mode) != 0 && errno != EEXIST)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", dir)));
	fd = OpenTransientFile(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY);
	if (fd < 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create \"%s\": %m", path)));
	while (done < len)
	{
		ssize_t		n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			int			save = errno;

			CloseTransientFile(fd);
			unlink(path);
			errno = save ? save : ENOSPC;
			ereport(ERROR, (errcode_for_file_access(), errmsg("could not write \"%s\": %m", path)));
		}
		done += n;
	}
	if (pg_fsync(fd) != 0)
	{
		CloseTransientFile(fd);
		unlink(path);
		ereport(data_sync_elevel(ERROR), (errcode_for_file_access(), errmsg("could not fsync \"%s\": %m", path)));
	}
	CloseTransientFile(fd);
	fsync_fname(dir, true);
}

static void
remember(List **list, const char *path)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ObjectChange *c = palloc(sizeof(ObjectChange));

	c->path = pstrdup(path);
	c->subid = GetCurrentSubTransactionId();
	*list = lappend(*list, c);
	MemoryContextSwitchTo(old);
}

/* After the end of the transaction nothing may fail: a file that will not go is left to the sweep. */
static void
unlink_all(List *list)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		const char *path = ((ObjectChange *) lfirst(lc))->path;

		if (unlink(path) != 0 && errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not remove storage object \"%s\": %m", path),
					 errhint("resume_pipeline.sweep_storage() removes it later.")));
	}
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
			unlink_all(released);	/* the committed rows no longer name them */
			created = released = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			unlink_all(created);	/* no committed row names them */
			created = released = NIL;
			break;
		default:
			break;
	}
}

/* Drops what an aborted subtransaction did; hands a committed one's to its parent. */
static List *
subxact_settle(List *list, SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
			   bool remove_files)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		ObjectChange *c = (ObjectChange *) lfirst(lc);

		if (c->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			c->subid = parentSubid;
		else
		{
			if (remove_files)
				unlink(c->path);
			list = foreach_delete_current(list, lc);
		}
	}
	return list;
}

static void
storage_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	created = subxact_settle(created, event, mySubid, parentSubid, true);
	released = subxact_settle(released, event, mySubid, parentSubid, false);
}

void
rp_storage_init(void)
{
	RegisterXactCallback(storage_xact_callback, NULL);
	RegisterSubXactCallback(storage_subxact_callback, NULL);
}

bytea *
rp_storage_read(const pg_uuid_t *object_id, const char *display)
{
	char		path[MAXPGPATH];
	TimestampTz start = GetCurrentTimestamp();
	bytea	   *result;

	object_path(object_id, path, sizeof(path));
	result = read_file(path, display);
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	return result;
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
	bool		isnull = true;
	char		display[MAXPGPATH];
	int			rc;

	values[0] = CStringGetTextDatum(bucket);
	values[1] = CStringGetTextDatum(key);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT object_id FROM resume_pipeline.files WHERE bucket = $1 AND name = $2",
							   2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not look up storage object: SPI error %d", rc);
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			memcpy(&id, DatumGetUUIDP(d), sizeof(id));
	}
	SPI_finish();
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("storage object \"%s/%s\" does not exist", bucket, key),
				 errhint("Objects are reached through their row in resume_pipeline.files, which only its owner can see.")));
	snprintf(display, sizeof(display), "%s/%s", bucket, key);
	PG_RETURN_BYTEA_P(rp_storage_read(&id, display));
}

/* _storage_read(object_id uuid, display text) returns bytea; display names it in errors */
Datum
rp_sql_storage_read(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(rp_storage_read(PG_GETARG_UUID_P(0), text_to_cstring(PG_GETARG_TEXT_PP(1))));
}

/* _storage_write(object_id uuid, data bytea) returns bigint: a new object, removed on abort */
Datum
rp_sql_storage_write(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id = PG_GETARG_UUID_P(0);
	bytea	   *data = PG_GETARG_BYTEA_PP(1);
	size_t		len = VARSIZE_ANY_EXHDR(data);
	char		path[MAXPGPATH];

	if (len > (size_t) rp_max_file_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("object of %zu bytes exceeds resume_pipeline.max_file_size (%d kB)",
						len, rp_max_file_size_kb)));
	object_path(id, path, sizeof(path));
	write_file(path, VARDATA_ANY(data), len);
	remember(&created, path);
	PG_RETURN_INT64((int64) len);
}

/* _storage_forget(object_id uuid) returns void: removed once this transaction commits */
Datum
rp_sql_storage_forget(PG_FUNCTION_ARGS)
{
	char		path[MAXPGPATH];

	object_path(PG_GETARG_UUID_P(0), path, sizeof(path));
	remember(&released, path);
	PG_RETURN_VOID();
}

/* _storage_list() returns table (object_id uuid, modified timestamptz): this database's files */
Datum
rp_sql_storage_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char		dir[MAXPGPATH];
	char		objects[MAXPGPATH];
	DIR		   *top;
	struct dirent *shard;

	InitMaterializedSRF(fcinfo, 0);
	database_dir(dir, sizeof(dir));
	snprintf(objects, sizeof(objects), "%s/objects", dir);
	top = AllocateDir(objects);
	if (top == NULL && errno == ENOENT)
		PG_RETURN_VOID();		/* nothing stored yet */
	while ((shard = ReadDir(top, objects)) != NULL)
	{
		char		shard_path[MAXPGPATH];
		DIR		   *d;
		struct dirent *e;

		if (shard->d_name[0] == '.')
			continue;
		snprintf(shard_path, sizeof(shard_path), "%s/%s", objects, shard->d_name);
		d = AllocateDir(shard_path);
		while ((e = ReadDir(d, shard_path)) != NULL)
		{
			char		path[MAXPGPATH];
			struct stat st;
			Datum		values[2];
			bool		nulls[2] = {false, false};
			pg_uuid_t	id;
			int			nibbles = 0;

			/* Only names this module writes: 36 characters of a uuid. */
			if (strlen(e->d_name) != 36)
				continue;
			for (const char *c = e->d_name; *c && nibbles >= 0; c++)
			{
				int			v = (*c >= '0' && *c <= '9') ? *c - '0' : (*c >= 'a' && *c <= 'f') ? *c - 'a' + 10 : -1;

				if (*c == '-')
					continue;
				if (v < 0 || nibbles >= 32)
				{
					nibbles = -1;
					break;
				}
				id.data[nibbles / 2] = (nibbles % 2) ? (id.data[nibbles / 2] | v) : (v << 4);
				nibbles++;
			}
			if (nibbles != 32)
				continue;
			snprintf(path, sizeof(path), "%s/%s", shard_path, e->d_name);
			if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			values[0] = UUIDPGetDatum(&id);
			values[1] = TimestampTzGetDatum(time_t_to_timestamptz(st.st_mtime));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		FreeDir(d);
	}
	FreeDir(top);
	PG_RETURN_VOID();
}

/* _storage_unlink(object_id uuid) returns boolean: removes a file now (the sweep's own use) */
Datum
rp_sql_storage_unlink(PG_FUNCTION_ARGS)
{
	char		path[MAXPGPATH];

	object_path(PG_GETARG_UUID_P(0), path, sizeof(path));
	PG_RETURN_BOOL(unlink(path) == 0);
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
