/*
 * Storage of the objects the pipeline writes itself, by object id: storage.c (the SQL
 * functions, dispatch by the files row's storage column, and what a transaction's end removes),
 * fs_storage.c (the filesystem backend) and s3_storage.c (the S3 backend, and reads of objects
 * registered from Supabase's storage.objects).
 */
#ifndef RP_STORAGE_H
#define RP_STORAGE_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#include "settings.h"			/* RpStorageBackend */

/* Called once per object a listing finds. */
typedef void (*RpObjectSeen) (const pg_uuid_t *object_id, TimestampTz modified, void *arg);

/* storage.c */
extern void rp_storage_init(void);
extern bytea *rp_storage_read(const pg_uuid_t *object_id, const char *display);
extern bool rp_parse_object_id(const char *s, pg_uuid_t *out);

/* fs_storage.c: <root>/<database oid>/objects/<2 hex>/<object id> */
extern void rp_fs_object_path(const pg_uuid_t *object_id, char *out, size_t size);
extern bytea *rp_fs_read(const char *path, const char *display);
extern void rp_fs_write(const char *path, const char *data, size_t len);
extern bool rp_fs_remove(const char *path);
extern void rp_fs_list(RpObjectSeen seen, void *arg);

/* s3_storage.c: <database oid>/objects/<2 hex>/<object id> in resume_pipeline.s3_bucket */
extern char *rp_s3_object_key(const pg_uuid_t *object_id);
extern bytea *rp_s3_read(const char *bucket, const char *key, const char *display);
extern void rp_s3_write(const char *key, const char *data, size_t len, const char *content_type,
						int nmeta, const char *const *names, const char *const *values);
extern bool rp_s3_remove(const char *bucket, const char *key, bool at_transaction_end,
						 char *message, size_t size);
extern void rp_s3_list(RpObjectSeen seen, void *arg);

#endif
