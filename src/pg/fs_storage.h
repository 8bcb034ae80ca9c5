/* Filesystem storage backend (see fs_storage.c). */
#ifndef RP_FS_STORAGE_H
#define RP_FS_STORAGE_H

#include "utils/uuid.h"

extern void rp_storage_init(void);
extern bytea *rp_storage_read(const pg_uuid_t *object_id, const char *display);

#endif
