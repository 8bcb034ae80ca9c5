/* Sends documents to parser helper processes and returns their answers (parser_client.c). */
#ifndef RP_PARSER_CLIENT_H
#define RP_PARSER_CLIENT_H

#include "../protocol/parser_protocol.h"

/* Most documents one call parses at once (one helper process each). */
#define RP_MAX_BATCH 64

typedef struct RpParsed
{
	char	   *payload;		/* palloc'd, NUL-terminated */
	uint64		payload_len;
	uint32		flags;			/* RP_RESPONSE_* */
} RpParsed;

/*
 * Runs `op` on data in the isolated helper. Any failure — bad document, exceeded limit,
 * helper crash, cancel — is raised as an ERROR with a fitting SQLSTATE.
 */
extern void rp_parse(rp_op op, uint32 arg, const char *data, size_t len, RpParsed *out);

/* One request of a batch: op/arg/data/len in; status and texts (and payload on success) out. */
typedef struct RpBatchItem
{
	rp_op		op;
	uint32		arg;
	const char *data;
	size_t		len;
	uint32		status;			/* rp_status; RP_STATUS_OK on success */
	char	   *message;		/* on failure */
	char	   *detail;
	char	   *hint;
	char	   *payload;		/* palloc'd, NUL-terminated */
	uint64		payload_len;
	uint32		flags;			/* RP_RESPONSE_* of a success (RP_RESPONSE_OCR: text read by OCR) */
	MemoryContext mcxt;			/* where the answer is allocated (null: the current context) */
	/* private to parser_client.c */
	TimestampTz deadline;		/* wall-clock limit of its current document */
	int			slot;
	int			phase;
	size_t		done;
	rp_request_header request;
	rp_response_header response;
} RpBatchItem;

/*
 * One request at a time per helper slot (slot 0 serves the SQL functions, a worker's jobs use
 * 1..RP_MAX_BATCH), driven by the caller's event loop: start it, register what it waits for
 * before each wait, poll it after. A bad document, an exceeded limit or a dead helper only sets
 * the item's status; starting a helper that cannot run raises an ERROR.
 */
struct RpLoop;
extern void rp_parse_start(RpBatchItem *item, int slot);
extern void rp_parse_watch(struct RpLoop *loop, RpBatchItem *item);
/* Moves the request on; true when it is done (status, texts and payload set). */
extern bool rp_parse_poll(RpBatchItem *item);
/* Stops a request in flight (its helper is killed); a done one is left as it is. */
extern void rp_parse_abandon(RpBatchItem *item);

/* Stops the idle helpers of slots keep and above (after max_concurrent_tasks shrank). */
extern void rp_parse_pool_trim(int keep);

/* A text datum in the database encoding from the helper's UTF-8 (ERROR if it cannot be held). */
extern text *rp_utf8_to_text(const char *s, size_t len);

/* The SQLSTATE (as a MAKE_SQLSTATE code) for an rp_status. */
extern int	rp_sqlstate_of(uint32 status);

#endif
