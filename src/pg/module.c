/* Module entry: the magic block and settings. */
#include "postgres.h"

#include "fmgr.h"

#include "fs_storage.h"
#include "miscadmin.h"
#include "settings.h"
#include "shmem.h"
#include "worker.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	rp_define_settings();
	rp_storage_init();
	rp_wake_init();
	/* Workers and their shared memory exist only when loaded at server start. */
	if (process_shared_preload_libraries_in_progress)
	{
		rp_shmem_init();
		rp_launcher_register();
	}
}
