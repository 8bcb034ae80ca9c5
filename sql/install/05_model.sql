
-- Résumé text → JSON Resume (basics.name, email, phone, url, profiles; work[]; education[];
-- skills[]), offline, with general rules: section headings in several languages, patterns for
-- emails, phones and URLs. Absent values are null or empty arrays, never invented.
CREATE FUNCTION parse_resume_builtin(resume_text text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_parse_resume_builtin'
    LANGUAGE C STRICT STABLE PARALLEL SAFE COST 1000;  -- STABLE: a new release may parse differently

-- One call of the OpenAI-compatible model at resume_pipeline.openai_base_url (structured outputs
-- with the strict schema resume_pipeline_schema.json), in this session; the answer validated
-- against the schema before it is returned (src/pg/llm_functions.c). Errors say whether a retry
-- can help: 08006 (unreachable, timeout), 53000 (rate limited; the detail gives the server's
-- delay), 58000 (server error), 54000 (quota), 28000 (key refused), 22023 (request refused),
-- 22000 (a refusal, a truncated or filtered answer, content that is not valid JSON Resume).
CREATE FUNCTION _llm_call(resume_text text, OUT result jsonb, OUT model text, OUT schema_version text,
                          OUT prompt_tokens bigint, OUT completion_tokens bigint, OUT milliseconds integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'rp_llm_call'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _llm_schema_version() RETURNS text
    AS 'MODULE_PATHNAME', 'rp_sql_llm_schema_version'
    LANGUAGE C STABLE;

-- What the model answered, once per (schema version, model, text): the same text is never sent
-- twice, so re-uploading or re-running a batch costs nothing. Each row keeps what the call cost.
-- The pipeline's own: no user reads or writes it.
CREATE TABLE llm_answers (
    cache_key         text PRIMARY KEY,  -- hex SHA-256 of schema version, model and text
    model             text NOT NULL,
    schema_version    text NOT NULL,
    result            jsonb NOT NULL,
    prompt_tokens     bigint,
    completion_tokens bigint,
    milliseconds      integer,
    created_at        timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('llm_answers', '');

-- Résumé text → JSON Resume by the model, through the answer cache. Not granted to users: each
-- call costs money; the pipeline's owner decides who may call it.
CREATE FUNCTION llm_parse_resume(resume_text text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    key text := encode(sha256(convert_to(_llm_schema_version() || E'\n' || current_setting('resume_pipeline.openai_model')
                                         || E'\n' || resume_text, 'UTF8')), 'hex');
    cached jsonb;
    answer record;
BEGIN
    SELECT a.result INTO cached FROM llm_answers a WHERE a.cache_key = key;
    IF FOUND THEN
        RETURN cached;
    END IF;
    answer := _llm_call(resume_text);
    INSERT INTO llm_answers (cache_key, model, schema_version, result, prompt_tokens, completion_tokens, milliseconds)
    VALUES (key, answer.model, answer.schema_version, answer.result, answer.prompt_tokens, answer.completion_tokens,
            answer.milliseconds)
    ON CONFLICT (cache_key) DO NOTHING;
    RETURN answer.result;
END
$$;

-- Test hook, superuser-only: makes the parser process crash ('segv', 'abort'), spin
-- ('loop'), exhaust its memory ('memory'), hang ('hang') or make a system call its sandbox
-- forbids ('syscall': it tries to read /etc/passwd, then to create a file, and is killed by
-- SIGSYS) so tests can prove that only the parser dies and the calling session gets an ERROR.
CREATE FUNCTION debug_parser_crash(mode text DEFAULT 'segv') RETURNS void
    AS 'MODULE_PATHNAME', 'rp_debug_parser_crash'
