/*
 * The backend's HTTP client: one libcurl multi handle whose transfers (S3 requests, model
 * calls, the generic HTTP requests of call jobs) are driven by the caller's event loop
 * (event_loop.h), never by threads or a blocking perform. Implemented in C++ (net_client.cpp over src/net) behind this C interface: every C++
 * exception is caught there, and results come back as plain C data, so nothing C++ unwinds
 * through a Postgres frame and no ereport jumps over a C++ frame. Nothing here calls Postgres
 * except through the loop; strings are UTF-8 and messages never contain a key or secret.
 */
#ifndef RP_NET_CLIENT_H
#define RP_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

typedef struct RpNet RpNet;

/* Where and as whom S3 requests go (copied by rp_net_start_s3). */
typedef struct RpS3Target
{
	const char *endpoint;
	const char *region;
	const char *access_key;
	const char *secret_key;
	long		timeout_ms;
	uint64_t	max_response_bytes;
} RpS3Target;

typedef enum RpS3Op
{
	RP_S3_GET,
	RP_S3_PUT,
	RP_S3_HEAD,
	RP_S3_DELETE,
	RP_S3_LIST
} RpS3Op;

typedef struct RpS3Call
{
	RpS3Op		op;
	const char *bucket;
	const char *key;			/* LIST: the prefix */
	const char *body;			/* PUT */
	size_t		body_len;
	const char *content_type;	/* PUT; NULL: application/octet-stream */
	int			n_metadata;		/* PUT: x-amz-meta-<name>: value */
	const char *const *metadata_names;
	const char *const *metadata_values;
	const char *continuation_token; /* LIST */
} RpS3Call;

/* Where and as whom model calls go (copied by rp_net_start_llm). */
typedef struct RpLlmTarget
{
	const char *base_url;		/* …/v1, without /chat/completions */
	const char *api_key;
	const char *model;
	const char *schema_path;	/* resume_pipeline_schema.json */
	long		timeout_ms;
	uint64_t	max_response_bytes;
} RpLlmTarget;

/* Any HTTP request (copied by rp_net_start_http). */
typedef enum RpHttpMethod
{
	RP_HTTP_GET,
	RP_HTTP_POST,
	RP_HTTP_PUT,
	RP_HTTP_PATCH,
	RP_HTTP_DELETE
} RpHttpMethod;

typedef struct RpHttpCall
{
	RpHttpMethod method;
	const char *url;			/* http:// or https:// only; redirects are answers, not followed */
	int			n_headers;		/* names: HTTP tokens; values: no CR, LF or NUL (else "refused") */
	const char *const *header_names;
	const char *const *header_values;
	const char *authorization;	/* an Authorization value to add ("Bearer …"), or NULL; in no message */
	const char *body;			/* NULL: none (GET never has one) */
	size_t		body_len;
	long		timeout_ms;
	uint64_t	max_response_bytes; /* a larger body: "too_large" */
	bool		read_usage;		/* a model's answer: "model" and "usage" of a JSON body into RpNetDone */
} RpHttpCall;

/*
 * What a request in JSON (the call jobs' contract, sql/install/52_calls.sql) may use: the key
 * each "auth" name adds, sent only to URLs under that service's base URL, and the defaults of
 * "timeout_ms" and "max_bytes".
 */
typedef struct RpHttpService
{
	const char *base_url;		/* "" or NULL: the service is not configured */
	const char *key;			/* "" or NULL: none (the request goes without Authorization) */
} RpHttpService;

typedef struct RpRequestDefaults
{
	RpHttpService openai;
	RpHttpService github;
	RpHttpService linkedin;
	long		timeout_ms;
	uint64_t	max_response_bytes;
} RpRequestDefaults;

/* A finished transfer. Strings are NUL-terminated; malloc'd pointers belong to the caller
 * (rp_net_done_free). */
typedef struct RpNetDone
{
	void	   *tag;			/* as given when started */
	bool		ok;
	long		http_status;	/* 0: no HTTP answer */
	/*
	 * What happened, one word: "ok"; S3: "not_found", "too_large", "refused" (the request could not
	 * be built), "http" (another status), "transport", "timeout", "aborted"; model: the
	 * outcome names of rp::llm::Outcome ("refusal", "truncated", "content_filter", "not_json",
	 * "schema_violation", "rate_limited", "insufficient_quota", "server_error", "client_error",
	 * "malformed_answer"), or "transport", "timeout", "aborted", "setup".
	 */
	char		outcome[32];
	/* HTTP requests (rp_net_start_http, rp_net_start_request): "ok" whenever a complete HTTP
	 * answer arrived, whatever its status; else "too_large", "transport", "timeout", "refused",
	 * "aborted". */
	bool		retryable;		/* worth another attempt later */
	char		message[1024];	/* one line; never a key */
	char		error_code[64]; /* S3's Code ("SignatureDoesNotMatch", "NoSuchBucket"), or empty */
	double		milliseconds;	/* from start to finish */

	/*
	 * S3 GET: the object (malloc'd); LIST: keys and sizes, "key\tsize\tlast_modified\n" each (a
	 * key's backslash, tab and newline written as \\, \t, \n).
	 */
	char	   *data;
	size_t		len;
	bool		list_truncated;
	char		next_token[1024];
	/* S3 GET/HEAD: x-amz-meta-* as a JSON object (malloc'd, or NULL); content type. */
	char	   *metadata_json;
	char		content_type[128];

	/* HTTP requests: the answer's headers as a JSON object (malloc'd, or NULL), lower-case
	 * names; the body in data/len. */
	char	   *headers_json;

	/*
	 * Model: the validated JSON Resume (in data, when outcome is "ok") and what it cost. HTTP
	 * requests: the same rate-limit headers, and with read_usage the answer's model and tokens.
	 */
	char		model[128];
	char		schema_version[64];
	long long	prompt_tokens;	/* -1: not given */
	long long	completion_tokens;
	long long	retry_after_ms; /* -1: not given */
	long long	remaining_requests; /* x-ratelimit-remaining-*; -1: not given */
	long long	remaining_tokens;
	long long	reset_requests_ms;	/* x-ratelimit-reset-*; -1: not given */
	long long	reset_tokens_ms;
} RpNetDone;

/* NULL when libcurl cannot be initialised (reason in message). */
extern RpNet *rp_net_create(char *message, size_t message_size);
extern void rp_net_destroy(RpNet *net);

/*
 * Starts a transfer; its result comes back from rp_net_next_done with this tag. False when it
 * cannot start (reason in message): nothing is in flight for it then. A request refused before
 * sending (S3: a bad key or header value; model: the schema unreadable, a bad URL or model name)
 * does start: it comes back at once, done with outcome "refused" (S3) or "setup" (model).
 */
extern bool rp_net_start_s3(RpNet *net, const RpS3Target *target, const RpS3Call *call, void *tag,
							char *message, size_t message_size);
extern bool rp_net_start_llm(RpNet *net, const RpLlmTarget *target, const char *text, size_t text_len,
							 void *tag, char *message, size_t message_size);

/*
 * Any HTTP request. A request that cannot be sent as given (URL, method, a header) comes back at
 * once, done with outcome "refused".
 */
extern bool rp_net_start_http(RpNet *net, const RpHttpCall *call, void *tag, char *message, size_t message_size);

/*
 * A request in JSON, as call jobs write it: {"method", "url", "headers": {name: value}, "body":
 * text, JSON or null, "auth": null | "openai" | "github" | "linkedin", "dependency",
 * "timeout_ms", "max_bytes"} (other keys are the caller's). Anything wrong with it (not JSON,
 * a bad field, an "auth" whose service is not configured or whose base URL the URL is not
 * under) comes back at once as outcome "refused" with the reason.
 */
extern bool rp_net_start_request(RpNet *net, const char *request_json, size_t request_len,
								 const RpRequestDefaults *defaults, void *tag, char *message, size_t message_size);

/* Stops every transfer in flight with this tag; none of them is reported, even one already done. */
extern void rp_net_cancel(RpNet *net, void *tag);
extern int	rp_net_in_flight(RpNet *net);
/* Finished transfers not yet taken (a refused request is one at once, without any I/O). */
extern int	rp_net_done_waiting(RpNet *net);

/* What the loop waits for: libcurl's sockets (want: 1 read, 2 write, 3 both) and its timer. */
typedef struct RpNetSocket
{
	int			fd;
	int			want;
} RpNetSocket;
/* Returns how many sockets there are; at most max are written to out. */
extern int	rp_net_sockets(RpNet *net, RpNetSocket *out, int max);
extern long rp_net_timeout_ms(RpNet *net);	/* -1: no timer */

/* After the wait: a socket that fired (readable, writable), or the timer. */
extern void rp_net_socket_ready(RpNet *net, int fd, bool readable, bool writable);
extern void rp_net_timer_expired(RpNet *net);

/* The next finished transfer, if any; or the next one with this tag. */
extern bool rp_net_next_done(RpNet *net, RpNetDone *out);
extern bool rp_net_take_done(RpNet *net, void *tag, RpNetDone *out);
extern void rp_net_done_free(RpNetDone *done);

/*
 * The version ("resume-v1") of the résumé schema at path, read through the same per-path cache
 * as the model calls; false with the reason in message.
 */
extern bool rp_net_schema_version(RpNet *net, const char *path, char *version, size_t version_size,
								  char *message, size_t message_size);

/*
 * Chat Completions with structured outputs, for SQL (llm_functions.c): a request body for a
 * schema, a system prompt and a user text; and an answer read against that schema. Strings are
 * UTF-8; malloc'd results belong to the caller (free()). False with the reason in message when
 * the schema is not one the validator enforces whole ("bad_schema" set) or out of memory.
 */
extern bool rp_chat_request_build(const char *schema_json, size_t schema_len, const char *schema_name,
								  const char *model, const char *system_prompt, size_t system_len,
								  const char *user_text, size_t user_len, long long max_completion_tokens,
								  char **body_json, bool *bad_schema, char *message, size_t message_size);

typedef struct RpChatAnswer
{
	char		outcome[32];	/* rp::llm::Outcome's name, or the transfer's when it had no answer */
	char	   *content_json;	/* malloc'd, validated; only when outcome is "ok" */
	char		message[1024];
	bool		retryable;
	long long	retry_after_ms; /* -1: not given */
	char		model[128];		/* "" when not given */
	long long	prompt_tokens;	/* -1: not given */
	long long	completion_tokens;
} RpChatAnswer;

/* response_json: the call jobs' response ({"status", "outcome", "message", "headers", …}). */
extern bool rp_chat_answer_read(const char *schema_json, size_t schema_len, const char *response_json,
								size_t response_len, const char *body, size_t body_len, uint64_t max_body_bytes,
								RpChatAnswer *answer, bool *bad_schema, char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
