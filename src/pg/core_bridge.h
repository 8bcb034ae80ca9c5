/*
 * C entry points into the C++ core for code that runs inside the backend. Each catches every
 * C++ exception and returns an error code with the message copied out, so nothing C++ ever
 * unwinds through a Postgres frame (and no ereport ever jumps over a C++ frame).
 */
#ifndef RP_CORE_BRIDGE_H
#define RP_CORE_BRIDGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* 0 on success with the relative path in out; -1 with a message in err otherwise. */
extern int	rp_core_object_path(const char *bucket, const char *key, char *out, size_t out_size,
								char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif
