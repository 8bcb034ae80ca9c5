
------------------------------------------------------------------------------------------
-- Jobs that call a service (the ai, gh, li, analysis, step and embed kinds). Their SQL says
-- what to send and what an answer means; the worker only moves bytes (src/pg/job_steps.c,
-- plan "call"): no transaction is open while a request is in flight, and many are in flight
-- at once. A session without workers runs the same functions through _run_call_job.
--
--   _start_call_job   (transaction) the kind's begin function: the first request, or the
--                     whole step when it needs no network (the builtin scorer, a SQL step)
--   http              (network)     the request, after the dependency's circuit, pause and
--                                   rate limiter; the key a request names in "auth" is added
--                                   by the worker from the settings, never seen by SQL
--   _finish_call_job  (transaction) the kind's answer function: stored, another request
--                                   (the next page), a wait, a retry or a failure
--
-- A request: {"method", "url", "headers": {name: value}, "body": text or null,
--   "auth": null | "openai" | "github" | "linkedin", "dependency": circuit name ("model",
--   "github", "linkedin", "step:<name>"), "tokens": the model rate limiter's estimate,
--   "timeout_ms", "max_bytes"}.
-- A response: {"status": HTTP status or 0, "outcome": "ok" (an HTTP answer, any status) |
--   "too_large" | "transport" | "timeout" | "refused" | "aborted", "message", "headers":
--   {lower-case name: value}, "milliseconds"}, and the body as bytea.
--
-- A kind's begin function _<kind>_begin(j jobs) and answer function
-- _<kind>_answer(j jobs, response jsonb, body bytea) return a directive: null when the step is
-- over and its result stored; {"call": request} to send a request; {"wait_ms", "code",
-- "message"} to try again after wait_ms without charging an attempt (the service is pacing
-- us); {"poll_ms", "message"} to come back after poll_ms to see how far the service got (a
-- batch), never charged. An ERROR is the step's failure, retried when its SQLSTATE is transient (_job_outcome).
------------------------------------------------------------------------------------------

-- Test hook: a 'step' job whose payload (the pipeline owner's to write) holds debug_call sends
-- that request, debug_calls times (default 1), and keeps the answers in the payload.
CREATE FUNCTION _debug_call_begin(j jobs) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN jsonb_build_object('call', j.payload -> 'debug_call');

CREATE FUNCTION _debug_call_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    answers jsonb := coalesce((SELECT payload -> 'debug_answers' FROM jobs WHERE id = j.id), '[]');
BEGIN
    answers := answers || jsonb_build_array(response || jsonb_build_object('body', convert_from(body, 'UTF8')));
    UPDATE jobs SET payload = payload || jsonb_build_object('debug_answers', answers) WHERE id = j.id;
    IF jsonb_array_length(answers) < coalesce((j.payload ->> 'debug_calls')::int, 1) THEN
        RETURN jsonb_build_object('call', j.payload -> 'debug_call');
    END IF;
    RETURN NULL;
END
$$;

-- Kinds added later (Ashby's) are found by name: _<kind>_begin(jobs), _<kind>_answer(jobs,
-- jsonb, bytea) and, optionally, _<kind>_failed(jobs, text), all in this schema.
CREATE FUNCTION _call_by_name(j jobs, part text, response jsonb, body bytea) RETURNS jsonb
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

-- The kind's begin function (see above), by kind.
CREATE FUNCTION _call_begin(j jobs) RETURNS jsonb
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

CREATE FUNCTION _call_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
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

-- A directive into the job's outcome: 'call' (the request goes in request), or the job is over
-- ('done', 'retry').
CREATE FUNCTION _call_directive(j jobs, directive jsonb, OUT outcome text, OUT request jsonb) RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF directive IS NULL OR jsonb_typeof(directive) = 'null' THEN
        outcome := _job_done(j.id);
    ELSIF directive ? 'call' THEN
        outcome := 'call';
        request := directive -> 'call';
    ELSIF directive ? 'poll_ms' THEN
        -- Come back later to see how far the service got (a batch): no attempt charged, however long.
        UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_expires_at = NULL,
                        last_error = left(coalesce(directive ->> 'message', 'polling'), 2000),
                        run_after = clock_timestamp() + make_interval(secs => greatest((directive ->> 'poll_ms')::double precision, 50) / 1000)
         WHERE id = j.id;
        outcome := 'retry';
    ELSE
        outcome := _job_outcome(j, coalesce(directive ->> 'code', '53000'),
                                coalesce(directive ->> 'message', 'waiting for the service'),
                                (directive ->> 'wait_ms')::double precision, false);
    END IF;
END
$$;

-- Begins a claimed call job in a worker: outcome 'call' with the first request, or what
-- happened instead ('done', 'retry', 'failed', 'skipped').
CREATE FUNCTION _start_call_job(job_id uuid, OUT outcome text, OUT request jsonb) RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        outcome := 'skipped';
        RETURN;
    END IF;
    BEGIN
        PERFORM _debug_fail(j);
        SELECT d.outcome, d.request INTO outcome, request FROM _call_directive(j, _call_begin(j)) d;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    request := NULL;
    outcome := _job_outcome(j, code, message);
END
$$;

-- What an answer means for a call job begun with _start_call_job: 'call' with the next
-- request, or the job is over.
CREATE FUNCTION _finish_call_job(job_id uuid, response jsonb, body bytea, OUT outcome text, OUT request jsonb)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        outcome := 'skipped';
        RETURN;
    END IF;
    BEGIN
        SELECT d.outcome, d.request INTO outcome, request FROM _call_directive(j, _call_answer(j, response, body)) d;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    request := NULL;
    outcome := _job_outcome(j, code, message);
END
$$;

-- A call job's permanent failure, on its row (called by _job_failed): the step's status is
-- error with the reason, when the step is still the one the job was for.
CREATE FUNCTION _call_failed(j jobs, message text) RETURNS void
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

-- Runs a claimed call job whole in this session (process_pending, where no workers run): the
-- same begin and answer functions, each request through _http_call (45_http.sql), which waits
-- for its answer cancellably. At most 50 requests per job.
CREATE FUNCTION _run_call_job(j jobs) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    r record;
    rounds int := 0;
    message text;
    code text;
BEGIN
    BEGIN
        PERFORM _debug_fail(j);
        SELECT * INTO d FROM _call_directive(j, _call_begin(j));
        WHILE d.outcome = 'call' LOOP
            rounds := rounds + 1;
            IF rounds > 50 THEN
                RAISE EXCEPTION 'a step made more than 50 requests' USING ERRCODE = 'program_limit_exceeded';
            END IF;
            SELECT * INTO r FROM _http_call(d.request);
            SELECT * INTO d FROM _call_directive(j, _call_answer(j, r.response, r.body));
        END LOOP;
        RETURN d.outcome;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    RETURN _job_outcome(j, code, message);
END
$$;
