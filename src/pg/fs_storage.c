/*
 * Filesystem storage, the embedded default: objects live under resume_pipeline.storage_root
 * (default: resume_pipeline_storage inside the data directory), in a directory of their own per
 * database (its OID), as <database oid>/<bucket>/<object key>. Two databases of one cluster
 * never see each other's objects.
 *
 * Writes follow the transaction. A write goes to a temporary file beside its target and is
 * renamed into place just before commit; an aborted transaction or subtransaction removes its
 * temporary files. So a rolled-back upload leaves no object, and a reader in the same
 * transaction already sees what it wrote.
 *
 * Access: the SQL functions run as the caller and first look the object up in
 * resume_pipeline.files through SPI, under the caller's row-level security. A user reaches
 * only objects whose files row they can see; the extension owner and superusers see all.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "common/file_perm.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "core_bridge.h"
#include "fs_storage.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_sql_storage_get);
PG_FUNCTION_INFO_V1(rp_sql_storage_write);
PG_FUNCTION_INFO_V1(rp_sql_object_name_ok);

typedef struct PendingWrite
{
	char	   *final_path;
	char	   *temp_path;
	SubTransactionId subid;
} PendingWrite;

static List *pending_writes = NIL;	/* in TopTransactionContext */
static uint64 temp_counter = 0;

static void
storage_root(char *buf, size_t size)
{
	if (rp_storage_root != NULL && rp_storage_root[0] != '\0')
		snprintf(buf, size, "%s/%u", rp_storage_root, MyDatabaseId);
	else
		snprintf(buf, size, "%s/resume_pipeline_storage/%u", DataDir, MyDatabaseId);
}

/* Absolute path of an object, or an ERROR when the name could escape the root. */
static void
object_path(const char *bucket, const char *key, char *out, size_t size)
{
	char		relative[MAXPGPATH];
	char		err[256];
	char		root[MAXPGPATH];

	if (rp_core_object_path(bucket, key, relative, sizeof(relative), err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid storage object name: %s", err)));
	storage_root(root, sizeof(root));
	if (rp_storage_root != NULL && rp_storage_root[0] != '\0' && !is_absolute_path(rp_storage_root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resume_pipeline.storage_root must be an absolute path, not \"%s\"", rp_storage_root)));
	if (snprintf(out, size, "%s/%s", root, relative) >= (int) size)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("storage object path is too long")));
}

/* The caller must see the object's files row (row-level security decides). */
static void
check_access(const char *bucket, const char *key)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			rc;

	values[0] = CStringGetTextDatum(bucket);
	values[1] = CStringGetTextDatum(key);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT 1 FROM resume_pipeline.files WHERE bucket = $1 AND name = $2",
							   2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not look up storage object: SPI error %d", rc);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("storage object \"%s/%s\" does not exist", bucket, key),
				 errhint("Objects are reached through their row in resume_pipeline.files, which only its owner can see.")));
	SPI_finish();
}

static PendingWrite *
find_pending(const char *final_path)
{
	ListCell   *lc;
	PendingWrite *found = NULL;

	foreach(lc, pending_writes)
	{
		PendingWrite *w = (PendingWrite *) lfirst(lc);

		if (strcmp(w->final_path, final_path) == 0)
			found = w;			/* the latest write wins */
	}
	return found;
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
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not stat \"%s\": %m", display)));
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
					(errcode_for_file_access(),
					 errmsg("could not read storage object \"%s\": %m", display)));
		done += n;
	}
	CloseTransientFile(fd);
	return result;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	int			fd;
	size_t		done = 0;

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
		ereport(data_sync_elevel(ERROR), (errcode_for_file_access(), errmsg("could not fsync \"%s\": %m", path)));
	CloseTransientFile(fd);
}

bytea *
rp_storage_read(const char *bucket, const char *key)
{
	char		path[MAXPGPATH];
	char		display[MAXPGPATH];
	PendingWrite *w;
	TimestampTz start;
	bytea	   *result;

	object_path(bucket, key, path, sizeof(path));
	snprintf(display, sizeof(display), "%s/%s", bucket, key);
	w = find_pending(path);
	start = GetCurrentTimestamp();
	result = read_file(w ? w->temp_path : path, display);
	rp_observe_storage_read((double) (GetCurrentTimestamp() - start) / 1000.0);
	return result;
}

/*
 * One object's path must not be a directory on the way to another's ("x.pdf" and
 * "x.pdf/y.pdf"), neither among what is stored nor among what this transaction is about to
 * store: refused now, when written, rather than by a failing rename at COMMIT.
 */
static void
check_no_collision(const char *path, const char *root, const char *display)
{
	char		prefix[MAXPGPATH];
	struct stat st;
	size_t		len = strlen(path);
	ListCell   *lc;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		goto collides;
	strlcpy(prefix, path, sizeof(prefix));
	for (char *slash = strrchr(prefix, '/'); slash && slash - prefix > (ptrdiff_t) strlen(root);
		 slash = strrchr(prefix, '/'))
	{
		*slash = '\0';
		if (stat(prefix, &st) == 0 && !S_ISDIR(st.st_mode))
			goto collides;
	}
	foreach(lc, pending_writes)
	{
		const char *other = ((PendingWrite *) lfirst(lc))->final_path;
		size_t		olen = strlen(other);

		if ((olen > len && strncmp(other, path, len) == 0 && other[len] == '/') ||
			(len > olen && strncmp(path, other, olen) == 0 && path[olen] == '/'))
			goto collides;
	}
	return;
collides:
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("storage object \"%s\" collides with another object's path", display),
			 errdetail("One object's name cannot be a folder of another's (\"a.pdf\" and \"a.pdf/b.pdf\").")));
}

void
rp_storage_write(const char *bucket, const char *key, const char *data, size_t len)
{
	char		path[MAXPGPATH];
	char		dir[MAXPGPATH];
	char		temp[MAXPGPATH];
	char		root[MAXPGPATH];
	char		display[MAXPGPATH];
	MemoryContext old;
	PendingWrite *w;

	if (len > (size_t) rp_max_file_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("object of %zu bytes exceeds resume_pipeline.max_file_size (%d kB)",
						len, rp_max_file_size_kb)));
	object_path(bucket, key, path, sizeof(path));
	storage_root(root, sizeof(root));
	snprintf(display, sizeof(display), "%s/%s", bucket, key);
	check_no_collision(path, root, display);
	strlcpy(dir, path, sizeof(dir));
	get_parent_directory(dir);
	if (pg_mkdir_p(dir, pg_dir_create_mode) != 0 && errno != EEXIST)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create directory \"%s\": %m", dir)));
	if (snprintf(temp, sizeof(temp), "%s.rp-tmp-%d-" UINT64_FORMAT, path, MyProcPid, ++temp_counter) >= (int) sizeof(temp))
		ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("storage object path is too long")));
	write_file(temp, data, len);

	old = MemoryContextSwitchTo(TopTransactionContext);
	w = palloc(sizeof(PendingWrite));
	w->final_path = pstrdup(path);
	w->temp_path = pstrdup(temp);
	w->subid = GetCurrentSubTransactionId();
	pending_writes = lappend(pending_writes, w);
	MemoryContextSwitchTo(old);
}

static void
storage_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			/* Still allowed to fail here: a failed rename aborts the transaction. */
			foreach(lc, pending_writes)
			{
				PendingWrite *w = (PendingWrite *) lfirst(lc);

				if (find_pending(w->final_path) == w)
					durable_rename(w->temp_path, w->final_path, ERROR);
				else
					unlink(w->temp_path);	/* overwritten later in this transaction */
			}
			pending_writes = NIL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (pending_writes != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that wrote storage objects")));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			foreach(lc, pending_writes)
				unlink(((PendingWrite *) lfirst(lc))->temp_path);
			pending_writes = NIL;
			break;
		default:
			pending_writes = NIL;
			break;
	}
}

static void
storage_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending_writes)
		{
			PendingWrite *w = (PendingWrite *) lfirst(lc);

			if (w->subid == mySubid)
				w->subid = parentSubid;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, pending_writes)
		{
			PendingWrite *w = (PendingWrite *) lfirst(lc);

			if (w->subid == mySubid)
			{
				unlink(w->temp_path);
				pending_writes = foreach_delete_current(pending_writes, lc);
			}
		}
	}
}

void
rp_storage_init(void)
{
	RegisterXactCallback(storage_xact_callback, NULL);
	RegisterSubXactCallback(storage_subxact_callback, NULL);
}

/* storage_get(bucket text, name text) returns bytea */
Datum
rp_sql_storage_get(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));

	check_access(bucket, key);
	PG_RETURN_BYTEA_P(rp_storage_read(bucket, key));
}

/* _storage_write(bucket text, name text, data bytea) returns bigint: bytes written */
Datum
rp_sql_storage_write(PG_FUNCTION_ARGS)
{
	char	   *bucket = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bytea	   *data = PG_GETARG_BYTEA_PP(2);

	check_access(bucket, key);
	rp_storage_write(bucket, key, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data));
	PG_RETURN_INT64((int64) VARSIZE_ANY_EXHDR(data));
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
