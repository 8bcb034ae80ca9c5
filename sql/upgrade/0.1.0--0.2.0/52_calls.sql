
-- Kinds added later are found by name (_call_by_name).
CREATE OR REPLACE FUNCTION _call_by_name(j jobs, part text, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    fn text := format('_%s_%s', j.kind, part);
    directive jsonb;
BEGIN
    IF to_regproc(format('@extschema@.%I', fn)) IS NULL THEN
        RAISE EXCEPTION 'no step runs jobs of kind %', j.kind USING ERRCODE = 'feature_not_supported';
    END IF;
    IF part = 'begin' THEN
        EXECUTE format('SELECT @extschema@.%I($1)', fn) INTO directive USING j;
    ELSE
        EXECUTE format('SELECT @extschema@.%I($1, $2, $3)', fn) INTO directive USING j, response, body;
    END IF;
    RETURN directive;
END
$$;

CREATE OR REPLACE FUNCTION _call_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF j.kind = 'step' AND j.payload ? 'debug_call' THEN
        RETURN _debug_call_begin(j);
    END IF;
    CASE j.kind
        WHEN 'ai' THEN RETURN _ai_begin(j);
        WHEN 'gh' THEN RETURN _gh_begin(j);
        WHEN 'li' THEN RETURN _li_begin(j);
        WHEN 'analysis' THEN RETURN _analysis_begin(j);
        WHEN 'step' THEN RETURN _step_begin(j);
        WHEN 'embed' THEN RETURN _embed_begin(j);
        ELSE RETURN _call_by_name(j, 'begin', NULL, NULL);
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION _call_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF j.kind = 'step' AND j.payload ? 'debug_call' THEN
        RETURN _debug_call_answer(j, response, body);
    END IF;
    CASE j.kind
        WHEN 'ai' THEN RETURN _ai_answer(j, response, body);
        WHEN 'gh' THEN RETURN _gh_answer(j, response, body);
        WHEN 'li' THEN RETURN _li_answer(j, response, body);
        WHEN 'analysis' THEN RETURN _analysis_answer(j, response, body);
        WHEN 'step' THEN RETURN _step_answer(j, response, body);
        WHEN 'embed' THEN RETURN _embed_answer(j, response, body);
        ELSE RETURN _call_by_name(j, 'answer', response, body);
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION _call_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    CASE j.kind
        WHEN 'ai' THEN
            UPDATE applicants SET ai_status = 'error', ai_error = message
             WHERE id = j.target_id AND ai_status IN ('pending', 'processing');
        WHEN 'gh' THEN
            UPDATE applicants SET gh_status = 'error', gh_error = message
             WHERE id = j.target_id AND gh_status IN ('pending', 'processing');
        WHEN 'li' THEN
            UPDATE applicants SET li_status = 'error', li_error = message
             WHERE id = j.target_id AND li_status IN ('pending', 'processing');
        WHEN 'analysis' THEN
            PERFORM _analysis_failed(j, message);
        WHEN 'step' THEN
            PERFORM _step_failed(j, message);
        WHEN 'embed' THEN
            NULL;  -- the job keeps the message; match_resumes goes on without the vector
        ELSE
            IF to_regprocedure(format('@extschema@.%I(@extschema@.jobs, text)', '_' || j.kind || '_failed')) IS NOT NULL THEN
                EXECUTE format('SELECT @extschema@.%I($1, $2)', '_' || j.kind || '_failed') USING j, message;
            END IF;
    END CASE;
END
$$;

