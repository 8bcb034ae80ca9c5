/*
 * The model provider's rate limit, kept by every worker and session together so that a node
 * stays just under it instead of learning it from 429s. Two token buckets, requests and tokens,
 * refill continuously at resume_pipeline.openai_requests_per_minute and
 * openai_tokens_per_minute (0: that dimension is unlimited) and hold at most one minute's
 * worth. A request reserves one request and its estimated tokens before it goes; its answer
 * settles the estimate against the actual count, and the provider's x-ratelimit-* headers pull
 * the buckets down to what the provider says is left. A pause (a 429, or a provider limit
 * exhausted until its reset) holds everybody back. The state lives in shared memory when the
 * library is preloaded, else in this process alone, with the same rules. Limits are read from
 * the settings at each call, so a reload applies at once.
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "rate_limit.h"
#include "settings.h"
#include "shmem.h"

/* A server asking for longer than this is broken or hostile: it must not stop the node for good. */
#define RP_RATE_MAX_PAUSE_MS (10 * 60 * 1000)
#define USECS_PER_MINUTE_F 60000000.0

PG_FUNCTION_INFO_V1(rp_rate_limit_state);
PG_FUNCTION_INFO_V1(rp_rate_limit_health);
PG_FUNCTION_INFO_V1(rp_rate_limit_acquire);
PG_FUNCTION_INFO_V1(rp_rate_limit_settle);
PG_FUNCTION_INFO_V1(rp_rate_limit_pause);

static RpRateLimit local_limiter;
static bool local_limiter_ready = false;

void
rp_rate_limit_init(RpRateLimit *rl)
{
	memset(rl, 0, sizeof(*rl));
	SpinLockInit(&rl->mutex);
}

static RpRateLimit *
limiter(void)
{
	if (rp_shared != NULL)
		return &rp_shared->rate_limit;
	if (!local_limiter_ready)
	{
		rp_rate_limit_init(&local_limiter);
		local_limiter_ready = true;
	}
	return &local_limiter;
}

/*
 * The buckets run on the monotonic clock, the same in every process: a wall-clock step back
 * would otherwise stop the refill until the clock caught up again.
 */
static int64
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
clamp_bucket(RpRateBucket *b)
{
	/* A debt of more than a minute is forgotten, as the provider's own window forgets it. */
	if (b->available > b->per_minute)
		b->available = b->per_minute;
	else if (b->available < -(double) b->per_minute)
		b->available = -(double) b->per_minute;
}

/*
 * Brings a bucket to `now` under the process's current limit (spinlock held: arithmetic only).
 * An unlimited dimension leaves its bucket alone; the first limited use finds it full.
 */
static void
refill(RpRateBucket *b, int per_minute, int64 now)
{
	if (per_minute <= 0)
		return;
	if (b->per_minute == 0)
	{
		b->available = per_minute;
		b->refilled_at = now;
	}
	else if (now > b->refilled_at)	/* another process may have read the clock after us */
	{
		b->available += (double) (now - b->refilled_at) * per_minute / USECS_PER_MINUTE_F;
		b->refilled_at = now;
	}
	b->per_minute = per_minute;
	clamp_bucket(b);
}

/* Ms until the bucket holds `need`; a need beyond a full bucket waits only for a full bucket. */
static long
wait_ms(const RpRateBucket *b, int per_minute, double need)
{
	double		deficit;

	if (per_minute <= 0)
		return 0;
	if (need > per_minute)
		need = per_minute;
	deficit = need - b->available;
	if (deficit <= 0)
		return 0;
	return (long) Min(ceil(deficit * 60000.0 / per_minute), (double) RP_RATE_MAX_PAUSE_MS);
}

static void
pause_locked(RpRateLimit *rl, int64 now, int64 ms)
{
	int64		until;

	if (ms <= 0)
		return;
	until = now + Min(ms, RP_RATE_MAX_PAUSE_MS) * 1000;
	if (until > rl->paused_until)
	{
		rl->paused_until = until;
		rl->pauses++;
	}
}

long
rp_rate_acquire(int64 tokens)
{
	int			rpm = rp_openai_requests_per_minute;
	int			tpm = rp_openai_tokens_per_minute;
	int64		now = monotonic_us();
	RpRateLimit *rl = limiter();
	long		wait;

	if (tokens < 0)
		tokens = 0;
	SpinLockAcquire(&rl->mutex);
	refill(&rl->requests, rpm, now);
	refill(&rl->tokens, tpm, now);
	if (rl->paused_until > now)
		wait = (long) Max((rl->paused_until - now + 999) / 1000, 1);
	else
		wait = Max(wait_ms(&rl->requests, rpm, 1), wait_ms(&rl->tokens, tpm, (double) tokens));
	if (wait == 0)
	{
		if (rpm > 0)
			rl->requests.available -= 1;
		if (tpm > 0)
		{
			rl->tokens.available -= (double) tokens;
			clamp_bucket(&rl->tokens);
		}
		rl->granted++;
	}
	else
		rl->delayed++;
	SpinLockRelease(&rl->mutex);
	return wait;
}

void
rp_rate_settle(int64 estimated_tokens, int64 actual_tokens, int64 remaining_requests,
			   int64 remaining_tokens, int64 reset_requests_ms, int64 reset_tokens_ms)
{
	int			rpm = rp_openai_requests_per_minute;
	int			tpm = rp_openai_tokens_per_minute;
	int64		now = monotonic_us();
	RpRateLimit *rl = limiter();

	SpinLockAcquire(&rl->mutex);
	refill(&rl->requests, rpm, now);
	refill(&rl->tokens, tpm, now);
	if (tpm > 0 && estimated_tokens >= 0 && actual_tokens >= 0)
		rl->tokens.available += (double) (estimated_tokens - actual_tokens);

	/*
	 * The provider's count only lowers ours: it cannot see requests still in flight, and a
	 * configured limit below the provider's is the operator's choice.
	 */
	if (rpm > 0 && remaining_requests >= 0 && remaining_requests < rl->requests.available)
		rl->requests.available = (double) remaining_requests;
	if (tpm > 0 && remaining_tokens >= 0 && remaining_tokens < rl->tokens.available)
		rl->tokens.available = (double) remaining_tokens;
	if (tpm > 0)
		clamp_bucket(&rl->tokens);
	if (rpm > 0)
		clamp_bucket(&rl->requests);
	if (remaining_requests == 0)
		pause_locked(rl, now, reset_requests_ms);
	if (remaining_tokens == 0)
		pause_locked(rl, now, reset_tokens_ms);
	SpinLockRelease(&rl->mutex);
}

void
rp_rate_pause(int64 ms)
{
	int64		now = monotonic_us();
	RpRateLimit *rl = limiter();

	SpinLockAcquire(&rl->mutex);
	pause_locked(rl, now, ms);
	SpinLockRelease(&rl->mutex);
}

int64
rp_rate_paused_ms(void)
{
	int64		now = monotonic_us();
	RpRateLimit *rl = limiter();
	int64		until;

	SpinLockAcquire(&rl->mutex);
	until = rl->paused_until;
	SpinLockRelease(&rl->mutex);
	return until > now ? (until - now + 999) / 1000 : 0;
}

/*
 * About 4 bytes a token for English prose, fewer for JSON punctuation and non-Latin scripts:
 * 3 errs high, and the settle gives the difference back. The provider itself reserves the
 * whole max_completion_tokens until the answer is in.
 */
int64
rp_rate_estimate_tokens(size_t bytes, int64 max_completion_tokens)
{
	int64		tokens = (int64) ((bytes + 2) / 3) + 8;	/* + the message framing */

	if (max_completion_tokens > 0)
		tokens += max_completion_tokens;
	return tokens;
}

/* The state under the current limits, as jsonb; `detail` adds the counters (not for users). */
static Datum
state_jsonb(bool detail)
{
	int			rpm = rp_openai_requests_per_minute;
	int			tpm = rp_openai_tokens_per_minute;
	int64		now = monotonic_us();
	TimestampTz wall_now = GetCurrentTimestamp();
	RpRateLimit *rl = limiter();
	RpRateLimit s;
	StringInfoData buf;

	SpinLockAcquire(&rl->mutex);
	refill(&rl->requests, rpm, now);
	refill(&rl->tokens, tpm, now);
	s = *rl;
	SpinLockRelease(&rl->mutex);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"requests_per_minute\": %d, \"tokens_per_minute\": %d", rpm, tpm);
	if (rpm > 0)
		appendStringInfo(&buf, ", \"requests_available\": %.0f", floor(s.requests.available));
	else
		appendStringInfoString(&buf, ", \"requests_available\": null");
	if (tpm > 0)
		appendStringInfo(&buf, ", \"tokens_available\": %.0f", floor(s.tokens.available));
	else
		appendStringInfoString(&buf, ", \"tokens_available\": null");
	if (s.paused_until > now)
		appendStringInfo(&buf, ", \"paused_until\": \"%s\"",
						 timestamptz_to_str(wall_now + (s.paused_until - now)));
	else
		appendStringInfoString(&buf, ", \"paused_until\": null");
	if (detail)
		appendStringInfo(&buf, ", \"paused_ms\": " INT64_FORMAT ", \"shared\": %s, \"granted\": " UINT64_FORMAT
						 ", \"delayed\": " UINT64_FORMAT ", \"pauses\": " UINT64_FORMAT,
						 s.paused_until > now ? (s.paused_until - now + 999) / 1000 : 0,
						 rp_shared != NULL ? "true" : "false", s.granted, s.delayed, s.pauses);
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* _rate_limit_state() → limits, what is available, the pause, counters (operators). */
Datum
rp_rate_limit_state(PG_FUNCTION_ARGS)
{
	return state_jsonb(true);
}

/* _rate_limit_health() → limits, what is available, the pause (health(), for users). */
Datum
rp_rate_limit_health(PG_FUNCTION_ARGS)
{
	return state_jsonb(false);
}

/* The test-only entry points take from everybody's budget: superusers only. */
static void
require_superuser(void)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may drive the model rate limiter by hand")));
}

/* _rate_limit_acquire(tokens) → 0 (reserved) or ms to wait. */
Datum
rp_rate_limit_acquire(PG_FUNCTION_ARGS)
{
	require_superuser();
	PG_RETURN_INT64(rp_rate_acquire(PG_GETARG_INT64(0)));
}

/* _rate_limit_settle(estimated, actual, remaining_requests, remaining_tokens, reset_requests_ms, reset_tokens_ms) */
Datum
rp_rate_limit_settle(PG_FUNCTION_ARGS)
{
	require_superuser();
	rp_rate_settle(PG_GETARG_INT64(0), PG_GETARG_INT64(1), PG_GETARG_INT64(2),
				   PG_GETARG_INT64(3), PG_GETARG_INT64(4), PG_GETARG_INT64(5));
	PG_RETURN_VOID();
}

/* _rate_limit_pause(ms) */
Datum
rp_rate_limit_pause(PG_FUNCTION_ARGS)
{
	require_superuser();
	rp_rate_pause(PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}
