/*
 * C entry into the S3 client (src/net/s3_client.cpp) for the backend: one GET. Catches every C++
 * exception; the object comes back malloc'd, messages in a fixed buffer, never the secret.
 */
#ifndef RP_S3_BRIDGE_H
#define RP_S3_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

typedef struct RpS3Get
{
	/* in */
	const char *endpoint;
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *bucket;
	const char *key;
	long		timeout_ms;
	unsigned long long max_bytes;
	bool		(*should_abort) (void *);
	/* out */
	char	   *data;			/* malloc'd on success; caller frees */
	size_t		len;
	long		http_status;	/* 0: no answer */
	bool		ok;
	bool		not_found;
	bool		too_large;
	bool		aborted;
	char		message[512];
} RpS3Get;

extern void rp_s3_get(RpS3Get *req);

#ifdef __cplusplus
}
#endif

#endif
