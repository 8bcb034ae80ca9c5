
------------------------------------------------------------------------------------------
-- The model provider's rate limit (shared memory; see README): two token buckets, requests
-- and tokens, at resume_pipeline.openai_requests_per_minute and openai_tokens_per_minute,
-- which every worker draws from before a model call and settles after it.
------------------------------------------------------------------------------------------

-- Operators: limits, what the buckets hold, the pause, whether the state is shared between
-- processes, and how many requests went or were told to wait.
CREATE FUNCTION _rate_limit_state() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_rate_limit_state' LANGUAGE C STRICT VOLATILE;

-- health()'s part: only the limits, what is available and the pause, nothing of the traffic.
CREATE FUNCTION _rate_limit_health() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_rate_limit_health' LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION _rate_limit_health() TO resume_pipeline_user;

-- Tests drive the limiter as a worker would (superusers only, granted to nobody): reserve a
-- request of `tokens` tokens (0) or learn how many ms to wait; report an answer's tokens and the
-- provider's x-ratelimit-* headers (-1: absent); hold everyone off as a 429 would.
CREATE FUNCTION _rate_limit_acquire(tokens bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rp_rate_limit_acquire' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _rate_limit_settle(estimated_tokens bigint, actual_tokens bigint,
                                   remaining_requests bigint, remaining_tokens bigint,
                                   reset_requests_ms bigint, reset_tokens_ms bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_rate_limit_settle' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _rate_limit_pause(ms bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_rate_limit_pause' LANGUAGE C STRICT VOLATILE;
