/*
 * C entry into the S3 client (src/net/s3_client.cpp) for the backend: one request (GET, PUT,
 * HEAD, DELETE or one page of ListObjectsV2) per call. Catches every C++ exception; what comes
 * back is malloc'd (rp_s3_call_free releases it), messages sit in fixed buffers and never hold
 * the secret.
 */
#ifndef RP_S3_BRIDGE_H
#define RP_S3_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

typedef enum RpS3Method
{
	RP_S3_GET,
	RP_S3_PUT,
	RP_S3_HEAD,
	RP_S3_DELETE,
	RP_S3_LIST
} RpS3Method;

typedef struct RpS3Listed
{
	char	   *key;			/* malloc'd */
	double		modified;		/* LastModified, seconds since the epoch; -1 when unreadable */
} RpS3Listed;

typedef struct RpS3Call
{
	/* in */
	RpS3Method	method;
	const char *endpoint;
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *bucket;
	const char *key;			/* all but LIST */
	long		timeout_ms;
	long		connect_timeout_ms; /* 0: the client's default */
	unsigned long long max_bytes;	/* largest response body */
	bool		(*should_abort) (void *);
	/* PUT */
	const char *body;
	size_t		body_len;
	const char *content_type;	/* NULL: application/octet-stream */
	int			nmeta;			/* x-amz-meta-<name>: value */
	const char *const *meta_names;
	const char *const *meta_values;
	/* LIST */
	const char *prefix;
	const char *continuation_token;
	int			max_keys;		/* 0: the server's default (1000) */
	/* out */
	char	   *data;			/* GET: the object, malloc'd */
	size_t		len;
	RpS3Listed *listed;			/* LIST: this page, malloc'd */
	int			nlisted;
	bool		truncated;		/* LIST: more pages follow next_token */
	char	   *next_token;		/* malloc'd, or NULL */
	long		http_status;	/* 0: no answer */
	bool		ok;
	bool		not_found;		/* 404, but not NoSuchBucket (that is configuration) */
	bool		too_large;
	bool		aborted;
	char		error_code[64]; /* S3's Code ("SignatureDoesNotMatch"), or empty */
	char		message[512];
} RpS3Call;

extern void rp_s3_call(RpS3Call *call);
extern void rp_s3_call_free(RpS3Call *call);

#ifdef __cplusplus
}
#endif

#endif
