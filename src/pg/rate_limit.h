/* The model provider's rate limit, shared by every worker and session (see rate_limit.c). */
#ifndef RP_RATE_LIMIT_H
#define RP_RATE_LIMIT_H

#include "storage/spin.h"

/* One token bucket: its content and the rate it was last refilled at (0: never limited yet). */
typedef struct RpRateBucket
{
	double		available;		/* below 0 after a request larger than estimated */
	int			per_minute;
	int64		refilled_at;	/* monotonic clock, microseconds */
} RpRateBucket;

typedef struct RpRateLimit
{
	slock_t		mutex;			/* protects everything below */
	RpRateBucket requests;
	RpRateBucket tokens;
	int64		paused_until;	/* monotonic clock, microseconds; nobody sends before */
	uint64		granted;		/* requests let through */
	uint64		delayed;		/* acquisitions told to wait */
	uint64		pauses;			/* pauses from a 429/503 or an exhausted provider limit */
} RpRateLimit;

/* A model request estimated at `tokens` tokens: 0 when it may go now (its request and tokens
 * are reserved), else how many ms to wait before asking again. */
extern long rp_rate_acquire(int64 tokens);

/* After the answer: the actual token count (-1 unknown) replaces the estimate; the server's
 * x-ratelimit-remaining-requests/-tokens and reset times (-1 when absent) pull the shared view
 * toward what the provider says (remaining 0 → nobody sends until its reset). */
extern void rp_rate_settle(int64 estimated_tokens, int64 actual_tokens, int64 remaining_requests,
						   int64 remaining_tokens, int64 reset_requests_ms, int64 reset_tokens_ms);

/* A 429 (or 503) that asked to wait `ms`: every worker holds off that long. */
extern void rp_rate_pause(int64 ms);

/* How many ms of a pause are left (0: none). */
extern int64 rp_rate_paused_ms(void);

/* Estimated tokens of a request for a text of `bytes` bytes of UTF-8 (prompt + schema + answer). */
extern int64 rp_rate_estimate_tokens(size_t bytes, int64 max_completion_tokens);

extern void rp_rate_limit_init(RpRateLimit *rl);

#endif
