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
	MemoryContext mcxt;			/* where the answer is allocated (null: the current context) */
	/* private to parser_client.c */
	bool		reported;		/* handed to the batch's callback */
	TimestampTz deadline;		/* wall-clock limit of its current document */
	int			slot;
	int			phase;
	size_t		done;
	rp_request_header request;
	rp_response_header response;
} RpBatchItem;

/*
 * Parses n documents at once, each in its own helper (slots first_slot .. first_slot+n-1;
 * slot 0 is the SQL functions'). A bad document or a dead helper only sets that item's status;
 * only cancel or termination raise an ERROR (items still running then are not reported).
 *
 * As a stream, when next is given: next(item, index, done, arg) is called for each item as
 * soon as it is done (done = true), and for an idle item whenever the latch was set (done =
 * false: new work may have been committed); outside any transaction, it may run its own. It
 * returns true when it has put a new request (op, arg, data, len) into the item, which then
 * starts at once, so a quick document is never held back by a slow one beside it and a freed
 * helper takes new work without waiting for the others. With next, an item whose data is NULL
 * starts idle. Returns when every item is done and idle.
 */
typedef bool (*RpItemNext) (RpBatchItem *item, int index, bool done, void *arg);
extern void rp_parse_stream(RpBatchItem *items, int n, int first_slot, RpItemNext next, void *arg);

/* Stops the idle helpers of slots keep and above (after max_concurrent_tasks shrank). */
extern void rp_parse_pool_trim(int keep);

/* A text datum in the database encoding from the helper's UTF-8 (ERROR if it cannot be held). */
extern text *rp_utf8_to_text(const char *s, size_t len);

/* The SQLSTATE (as a MAKE_SQLSTATE code) for an rp_status. */
extern int	rp_sqlstate_of(uint32 status);

#endif
