/*
 * Filesystem storage, the embedded default. Objects are write-once files named by a random
 * object id, never by their key: <root>/<database oid>/objects/<2 hex>/<object id>, where root
 * is resume_pipeline.storage_root (default: resume_pipeline_storage inside the data directory).
 * So two databases of one cluster never see each other's objects (a directory per database),
 * and no key can reach outside the root or collide with another on disk ("x.pdf" and
 * "x.pdf/y.pdf" are two rows, two ids). The SQL functions, and what a transaction's end
 * removes, are storage.c's: this file only reads, writes, removes and lists files.
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "storage.h"

void
rp_fs_database_dir(char *buf, size_t size)
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

void
rp_fs_object_path(const pg_uuid_t *id, char *out, size_t size)
{
	char		dir[MAXPGPATH];
	char	   *hex = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));

	rp_fs_database_dir(dir, sizeof(dir));
	if (snprintf(out, size, "%s/objects/%.2s/%s", dir, hex, hex) >= (int) size)
		ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("storage path is too long")));
	pfree(hex);
}

bytea *
rp_fs_read(const char *path, const char *display)
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

/* Whether the object's file is there (anything but a plain "no such file" counts as there:
 * reading it then says what is wrong). */
bool
rp_fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || errno != ENOENT;
}

/* Writes a new file (never an existing one) and makes it and its directory entry durable. */
void
rp_fs_write(const char *path, const char *data, size_t len)
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

/* Never raises: it also runs where a transaction has ended. True when the file is gone now. */
bool
rp_fs_remove(const char *path)
{
	if (unlink(path) == 0)
		return true;
	if (errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove storage object \"%s\": %m", path),
				 errhint("resume_pipeline.sweep_storage() removes it later.")));
	return false;
}

/* Every object file of this database, with its modification time. */
void
rp_fs_list(RpObjectSeen seen, void *arg)
{
	char		dir[MAXPGPATH];
	char		objects[MAXPGPATH];
	DIR		   *top;
	struct dirent *shard;

	rp_fs_database_dir(dir, sizeof(dir));
	snprintf(objects, sizeof(objects), "%s/objects", dir);
	top = AllocateDir(objects);
	if (top == NULL && errno == ENOENT)
		return;					/* nothing stored yet */
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
			pg_uuid_t	id;

			/* Only names this module writes. */
			if (!rp_parse_object_id(e->d_name, &id))
				continue;
			snprintf(path, sizeof(path), "%s/%s", shard_path, e->d_name);
			if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			seen(&id, time_t_to_timestamptz(st.st_mtime), arg);
		}
		FreeDir(d);
	}
	FreeDir(top);
}
