/* Module entry: the magic block and settings. */
#include "postgres.h"

#include "fmgr.h"

#include "fs_storage.h"
#include "settings.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	rp_define_settings();
	rp_storage_init();
}
