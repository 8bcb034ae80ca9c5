/* Filesystem storage backend (see fs_storage.c). */
#ifndef RP_FS_STORAGE_H
#define RP_FS_STORAGE_H

extern void rp_storage_init(void);
extern bytea *rp_storage_read(const char *bucket, const char *key);
extern void rp_storage_write(const char *bucket, const char *key, const char *data, size_t len);

#endif
