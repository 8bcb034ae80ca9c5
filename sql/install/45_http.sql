
------------------------------------------------------------------------------------------
-- HTTP requests of call jobs, in the calling session (src/pg/http_call.c), and the model
-- protocol for any task (src/pg/llm_functions.c). The workers send the same requests through
-- their call plan (src/pg/job_steps.c, 52_calls.sql); these are for sessions without workers.
--
-- A request: {"method" (GET, POST, PUT, PATCH, DELETE; default GET), "url" (http or https),
--   "headers": {name: value}, "body": text, a JSON value (sent as JSON) or null,
--   "auth": null | "openai" | "github" | "linkedin" (adds Authorization: Bearer with
--   resume_pipeline.openai_api_key, github_token or linkedin_provider_key, only to URLs under
--   openai_base_url, github_base_url or linkedin_provider_url; github also gets its User-Agent,
--   Accept and X-GitHub-Api-Version unless the request sets them), "dependency", "tokens"
--   (read by the workers only), "timeout_ms" (default resume_pipeline.request_timeout_ms),
--   "max_bytes" (default resume_pipeline.max_response_size)}.
-- A response: {"status" (0: no HTTP answer), "outcome": "ok" whenever an HTTP answer came, any
--   status, else "too_large", "transport", "timeout", "refused" (the request could not go as
--   written; message says why), "aborted"; "message", "headers": {lower-case name: value; a
--   repeated header keeps its last value, link's are joined with ", "}, "milliseconds"}, and
--   the body as bytea. Redirects are not followed: a 3xx is an answer. No message ever holds
--   a key.
------------------------------------------------------------------------------------------

-- One request, run in this session; query cancel and statement_timeout stop it at once.
-- Sessions do not report to circuits or the rate limiter (only the workers do).
CREATE FUNCTION _http_call(request jsonb, OUT response jsonb, OUT body bytea) RETURNS record
    AS 'MODULE_PATHNAME', 'rp_http_call' LANGUAGE C STRICT VOLATILE;

-- The Chat Completions body for one task: model resume_pipeline.openai_model, temperature 0,
-- the system prompt (none when null) and the user text, response_format json_schema strict
-- with the schema under schema_name ([A-Za-z0-9_-]{1,64}). The schema must be one the answer's
-- validator enforces whole (type, properties, required, additionalProperties false, items,
-- enum, const, anyOf, description, title, $comment; 22023 otherwise).
CREATE FUNCTION _chat_request(schema jsonb, schema_name text, system_prompt text, user_text text,
                              max_completion_tokens integer DEFAULT 2000) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_chat_request' LANGUAGE C STABLE;

-- A Chat Completions answer (a response and body as above) read as untrusted input against the
-- schema. outcome: ok (content holds the validated JSON), refusal, truncated, content_filter,
-- not_json, schema_violation, rate_limited, insufficient_quota, server_error, client_error,
-- malformed_answer, or the transfer's own outcome when no answer came. retryable: worth another
-- attempt later (rate_limited, server_error, 408, 409, transport, timeout); retry_after_ms: the
-- server's delay; usage: {"model", "prompt_tokens", "completion_tokens"} when the answer said.
CREATE FUNCTION _chat_answer(schema jsonb, response jsonb, body bytea, OUT outcome text, OUT content jsonb,
                             OUT message text, OUT retryable boolean, OUT retry_after_ms bigint, OUT usage jsonb)
    RETURNS record
    AS 'MODULE_PATHNAME', 'rp_chat_answer' LANGUAGE C STABLE;

-- A dependency's shared pause: nobody (no worker) calls it for ms (at most an hour; a pause only
-- lengthens), e.g. GitHub until its rate-limit reset. For 'model' it is the model rate
-- limiter's pause (at most 10 min). Names as for circuits: storage, model, github, linkedin,
-- step:<name> (non-empty, at most 63 bytes, no control characters; 22023 otherwise).
CREATE FUNCTION _dependency_pause(dependency text, ms bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_dependency_pause_sql' LANGUAGE C STRICT VOLATILE;

-- How many ms of the dependency's pause are left; 0 when it is not paused.
CREATE FUNCTION _dependency_paused_ms(dependency text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rp_dependency_paused_ms_sql' LANGUAGE C STRICT VOLATILE;
