/*
 * Storage of the objects the pipeline writes itself, by object id: storage.c (the SQL
 * functions, places, dispatch by the files row's storage column, and what a transaction's end
 * removes), fs_storage.c (the filesystem backend), s3_storage.c (the S3 backend, and reads of
 * objects registered from Supabase's storage.objects) and migration.c (copying objects from one
 * place to another).
 */
#ifndef RP_STORAGE_H
#define RP_STORAGE_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#include "settings.h"			/* RpStorageBackend */

/* Called once per object a listing finds. */
typedef void (*RpObjectSeen) (const pg_uuid_t *object_id, TimestampTz modified, void *arg);

/*
 * A place objects are stored in, as files.storage names it: 'filesystem' (storage_root), 's3'
 * (the resume_pipeline.s3_* settings) or 's3:<name>' (a row of resume_pipeline.storage_locations,
 * which only the pipeline's owner can read). The S3 strings are palloc'd copies: a place stays
 * valid whatever the settings become.
 */
#define RP_PLACE_NAME_LEN 64
typedef struct RpPlace
{
	RpStorageBackend kind;
	char		name[RP_PLACE_NAME_LEN];
	char	   *endpoint;		/* S3 only */
	char	   *region;
	char	   *access_key;
	char	   *secret_key;
	char	   *bucket;
} RpPlace;

/* storage.c */
extern void rp_storage_init(void);
extern bytea *rp_storage_read(const pg_uuid_t *object_id, const char *display);
extern bool rp_parse_object_id(const char *s, pg_uuid_t *out);
/* The place a name stands for (22023 for a name of no known shape, 42704 for an undefined
 * location); its strings in CurrentMemoryContext. */
extern void rp_place_named(const char *name, RpPlace *out);
/* Whether two places are one store (the same directory, or the same endpoint and bucket). */
extern bool rp_place_same(const RpPlace *a, const RpPlace *b);
/* An object's bytes in a place; NULL when missing_ok and the place has no such object. */
extern bytea *rp_place_read(const RpPlace *place, const pg_uuid_t *id, const char *display, bool missing_ok);
/* A new object in a place, removed again if the (sub)transaction rolls back. An object of the
 * same id already there is replaced. */
extern void rp_place_write(const RpPlace *place, const pg_uuid_t *id, const char *data, size_t len,
						   const char *content_type, int nmeta, const char *const *names,
						   const char *const *values);
/* Removes an object now; never raises. True when the place has no such object now. */
extern bool rp_place_remove(const RpPlace *place, const pg_uuid_t *id, char *message, size_t size);

/* migration.c: the unfinished migration, if any (its strings palloc'd). */
typedef struct RpActiveMigration
{
	bool		found;
	bool		copying;		/* running and still copying: uploads are written to both */
	char		source[RP_PLACE_NAME_LEN];
	char		target[RP_PLACE_NAME_LEN];
} RpActiveMigration;
extern void rp_active_migration(RpActiveMigration *out);
/* Held (shared) by an upload writing to both, until its transaction ends; the migration takes
 * it exclusively before it decides that nothing is left at the source. */
#define RP_MIGRATION_LOCK_CLASS 1381000002

/* fs_storage.c: <root>/<database oid>/objects/<2 hex>/<object id> */
extern void rp_fs_object_path(const pg_uuid_t *object_id, char *out, size_t size);
extern void rp_fs_database_dir(char *buf, size_t size);
extern bytea *rp_fs_read(const char *path, const char *display);
extern bool rp_fs_exists(const char *path);
extern void rp_fs_write(const char *path, const char *data, size_t len);
extern bool rp_fs_remove(const char *path);
extern void rp_fs_list(RpObjectSeen seen, void *arg);

/* s3_storage.c: <database oid>/objects/<2 hex>/<object id> in the place's bucket (place NULL:
 * the resume_pipeline.s3_* settings) */
extern char *rp_s3_object_key(const pg_uuid_t *object_id);
extern void rp_s3_settings_place(RpPlace *out);
extern bytea *rp_s3_read(const char *bucket, const char *key, const char *display);
extern bytea *rp_s3_read_at(const RpPlace *place, const char *key, const char *display, bool missing_ok);
extern void rp_s3_write(const RpPlace *place, const char *key, const char *data, size_t len,
						const char *content_type, int nmeta, const char *const *names,
						const char *const *values);
extern bool rp_s3_remove(const RpPlace *place, const char *key, bool at_transaction_end,
						 char *message, size_t size);
extern void rp_s3_list(const RpPlace *place, RpObjectSeen seen, void *arg);

#endif
