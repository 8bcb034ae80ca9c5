/* The storage group's interface is storage.h; this name stays for the files that include it. */
#ifndef RP_FS_STORAGE_H
#define RP_FS_STORAGE_H

#include "storage.h"

#endif
