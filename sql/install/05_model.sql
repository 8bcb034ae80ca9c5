
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

-- The cache key of a text (UTF-8 bytes) for the configured model and the installed schema: hex
-- SHA-256 of "schema version \n model \n text".
CREATE FUNCTION _llm_cache_key(content_utf8 bytea) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN encode(sha256(convert_to(_llm_schema_version() || E'\n' || current_setting('resume_pipeline.openai_model')
                                || E'\n', 'UTF8') || content_utf8), 'hex');

-- What a step needs before calling the model: the text's cache key, and the answer if the same
-- text was read before by the same model with the same schema (then no call is made).
CREATE FUNCTION _llm_cached(content_utf8 bytea, OUT cache_key text, OUT result jsonb, OUT usage jsonb)
    RETURNS record
    LANGUAGE plpgsql STABLE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    a llm_answers;
BEGIN
    cache_key := _llm_cache_key(content_utf8);
    SELECT * INTO a FROM llm_answers l WHERE l.cache_key = _llm_cached.cache_key;
    IF FOUND THEN
        result := a.result;
        usage := jsonb_build_object('model', a.model, 'schema_version', a.schema_version, 'prompt_tokens', 0,
                                    'completion_tokens', 0, 'milliseconds', 0, 'cached', true,
                                    'cache_key', a.cache_key);
    END IF;
END
$$;

-- Keeps a model's answer (usage as a step records it: model, schema_version, tokens,
-- milliseconds, cache_key). The first answer for a key stays.
CREATE FUNCTION _llm_remember(result jsonb, usage jsonb) RETURNS void
    LANGUAGE sql VOLATILE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO llm_answers (cache_key, model, schema_version, result, prompt_tokens, completion_tokens, milliseconds)
    SELECT usage ->> 'cache_key', usage ->> 'model', usage ->> 'schema_version', result,
           (usage ->> 'prompt_tokens')::bigint, (usage ->> 'completion_tokens')::bigint,
           (usage ->> 'milliseconds')::integer
     WHERE usage ? 'cache_key' AND NOT coalesce((usage ->> 'cached')::boolean, false)
    ON CONFLICT (cache_key) DO NOTHING;
END;

-- Résumé text → JSON Resume by the model in this session, through the answer cache, with what
-- it cost (usage: model, schema_version, prompt/completion tokens, milliseconds, cached).
CREATE FUNCTION _llm_parse(resume_text text, OUT result jsonb, OUT usage jsonb) RETURNS record
    LANGUAGE plpgsql VOLATILE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    c record := _llm_cached(convert_to(resume_text, 'UTF8'));
    answer record;
BEGIN
    IF c.result IS NOT NULL THEN
        result := c.result;
        usage := c.usage;
        RETURN;
    END IF;
    answer := _llm_call(resume_text);
    result := answer.result;
    usage := jsonb_build_object('model', answer.model, 'schema_version', answer.schema_version,
                                'prompt_tokens', answer.prompt_tokens, 'completion_tokens', answer.completion_tokens,
                                'milliseconds', answer.milliseconds, 'cached', false, 'cache_key', c.cache_key);
    PERFORM _llm_remember(result, usage);
END
$$;

-- Résumé text → JSON Resume by the model, through the answer cache. Not granted to users: each
-- call costs money; the pipeline's owner decides who may call it.
CREATE FUNCTION llm_parse_resume(resume_text text) RETURNS jsonb
    LANGUAGE sql VOLATILE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN (_llm_parse(resume_text)).result;

-- Test hook, superuser-only: makes the parser process crash ('segv', 'abort'), spin
-- ('loop'), exhaust its memory ('memory'), hang ('hang') or make a system call its sandbox
-- forbids ('syscall': it tries to read /etc/passwd, then to create a file, and is killed by
-- SIGSYS) so tests can prove that only the parser dies and the calling session gets an ERROR.
CREATE FUNCTION debug_parser_crash(mode text DEFAULT 'segv') RETURNS void
    AS 'MODULE_PATHNAME', 'rp_debug_parser_crash'
    LANGUAGE C STRICT PARALLEL UNSAFE;
