
------------------------------------------------------------------------------------------
-- Analysis sessions (seed "Industry-Level Resume Management"): one résumé analysed for many
-- contexts, stored once. start_analysis queues one 'analysis' job per résumé the caller has
-- available for the posting; each job writes its résumé's resume_analyses row (at most one per
-- résumé and session: a retried, re-run or crashed job finds the row and stops), and the last
-- one completes the session.
------------------------------------------------------------------------------------------

-- Starts a session over the caller's résumés available for the posting (null: the general
-- context) and returns its id. SECURITY DEFINER: it queues jobs, which users cannot write;
-- everything it reads is filtered by the caller's id explicitly, and a posting that is not the
-- caller's is refused exactly like one that does not exist.
CREATE FUNCTION start_analysis(job_posting_id uuid, session_name text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := @extschema@.current_user_id();
    session uuid;
    total int;
    queued int;
    max_queued int := current_setting('resume_pipeline.max_user_queued_jobs')::int;
    base timestamptz;
    ids uuid[];
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'start_analysis needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF session_name IS NULL OR btrim(session_name) = '' THEN
        RAISE EXCEPTION 'a session needs a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF start_analysis.job_posting_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM @extschema@.job_postings p WHERE p.id = start_analysis.job_posting_id AND p.user_id = uid) THEN
        RAISE EXCEPTION 'job posting % does not exist', start_analysis.job_posting_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    ids := ARRAY(SELECT r.id FROM @extschema@.available_resumes(start_analysis.job_posting_id) r
                  WHERE r.user_id = uid ORDER BY r.created_at, r.id);
    total := cardinality(ids);
    -- The user's backlog is bounded (resume_pipeline.max_user_queued_jobs), the session's jobs too.
    SELECT count(*) INTO queued FROM (SELECT 1 FROM @extschema@.jobs j WHERE j.user_id = uid AND j.state = 'queued'
                                       LIMIT max_queued) q;
    IF queued + total > max_queued THEN
        RAISE EXCEPTION 'queue quota exceeded: % analyses would pass the % queued jobs a user may have', total, max_queued
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Wait for the queue to drain, or raise resume_pipeline.max_user_queued_jobs.';
    END IF;
    INSERT INTO @extschema@.analysis_sessions (user_id, session_name, job_posting_id, status, total, completed_at)
    VALUES (uid, left(session_name, 200), start_analysis.job_posting_id,
            CASE WHEN total = 0 THEN 'completed' ELSE 'running' END, total, CASE WHEN total = 0 THEN now() END)
    RETURNING id INTO session;
    base := @extschema@._fair_at(uid);
    IF total > 0 AND current_setting('resume_pipeline.llm_provider') = 'openai'
       AND current_setting('resume_pipeline.openai_batch')::boolean THEN
        -- One job sends the whole session through OpenAI's Batch API (_batch_begin).
        INSERT INTO @extschema@.jobs (kind, target_id, user_id, payload, fair_at)
        VALUES ('analysis', session, uid, jsonb_build_object('session', session, 'batch', to_jsonb(ids)), base);
        RETURN session;
    END IF;
    INSERT INTO @extschema@.jobs (kind, target_id, user_id, payload, fair_at)
    SELECT 'analysis', r.id, uid, jsonb_build_object('session', session), base + make_interval(secs => r.n - 1)
      FROM unnest(ids) WITH ORDINALITY AS r(id, n);
    RETURN session;
END
$$;

-- How far a session has got: its status, the résumés it analyses, those analysed, those left.
CREATE FUNCTION session_progress(session_id uuid)
    RETURNS TABLE (status text, total integer, analysed integer, remaining integer, error text,
                   created_at timestamptz, completed_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT s.status, s.total, a.n, greatest(coalesce(s.total, 0) - a.n, 0), s.error, s.created_at, s.completed_at
      FROM analysis_sessions s,
           LATERAL (SELECT count(*)::int AS n FROM resume_analyses ra WHERE ra.analysis_session_id = s.id) a
     WHERE s.id = session_progress.session_id;
END;

-- Completes a running session once every résumé has its row. The session row is locked, so two
-- workers storing the last two rows at once cannot both miss it.
CREATE FUNCTION _session_check(session_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    s analysis_sessions;
BEGIN
    SELECT * INTO s FROM analysis_sessions WHERE id = session_id FOR UPDATE;
    IF s.status = 'running'
       AND (SELECT count(*) FROM resume_analyses ra WHERE ra.analysis_session_id = s.id) >= coalesce(s.total, 0) THEN
        UPDATE analysis_sessions SET status = 'completed', completed_at = now() WHERE id = s.id;
    END IF;
END
$$;

CREATE FUNCTION _analysis_store(j jobs, s analysis_sessions, r resumes, verdict jsonb, usage jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO resume_analyses (user_id, resume_id, analysis_session_id, overall_fit_score, skill_match_score,
                                 summary, reasoning, score, strengths, concerns, analysis, usage)
    VALUES (s.user_id, r.id, s.id, (verdict ->> 'overall_fit_score')::numeric, (verdict ->> 'skill_match_score')::numeric,
            verdict ->> 'summary', verdict ->> 'reasoning', (verdict ->> 'score')::int,
            ARRAY(SELECT jsonb_array_elements_text(verdict -> 'strengths')),
            ARRAY(SELECT jsonb_array_elements_text(verdict -> 'concerns')), verdict, usage)
    ON CONFLICT (resume_id, analysis_session_id) DO NOTHING;
    PERFORM _session_check(s.id);
END
$$;

-- The session and résumé of an analysis job, or null when there is nothing (left) to do: the
-- session is over or gone, or the résumé already has its row. A résumé deleted meanwhile no
-- longer counts toward the session.
CREATE FUNCTION _analysis_target(j jobs, OUT s analysis_sessions, OUT r resumes) RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    SELECT * INTO s FROM analysis_sessions WHERE id = (j.payload ->> 'session')::uuid AND user_id = j.user_id;
    IF s.id IS NULL OR s.status <> 'running'
       OR EXISTS (SELECT 1 FROM resume_analyses ra WHERE ra.resume_id = j.target_id AND ra.analysis_session_id = s.id) THEN
        s := NULL;
        RETURN;
    END IF;
    SELECT * INTO r FROM resumes WHERE id = j.target_id AND user_id = s.user_id;
    IF r.id IS NULL THEN
        UPDATE analysis_sessions SET total = total - 1 WHERE id = s.id;
        PERFORM _session_check(s.id);
        s := NULL;
    END IF;
END
$$;

CREATE FUNCTION _analysis_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    p job_postings;
BEGIN
    IF j.payload ? 'batch' THEN
        RETURN _batch_begin(j);
    END IF;
    SELECT * INTO t FROM _analysis_target(j);
    IF (t.s).id IS NULL THEN
        RETURN NULL;
    END IF;
    IF (t.r).status IN ('pending', 'processing') THEN
        RETURN jsonb_build_object('wait_ms', 2000, 'code', '55000', 'message', 'waiting for the résumé to be read');
    ELSIF (t.r).status = 'failed' THEN
        RAISE EXCEPTION 'résumé "%" could not be read: %', (t.r).original_filename, (t.r).error
            USING ERRCODE = 'data_exception';
    END IF;
    SELECT * INTO p FROM job_postings WHERE id = (t.s).job_posting_id AND user_id = (t.s).user_id;
    IF current_setting('resume_pipeline.llm_provider') <> 'openai' THEN
        PERFORM _analysis_store(j, t.s, t.r,
                                _verdict_clean(score_fit((t.r).parsed, (t.r).raw_text, _posting_json(p), current_date))
                                || jsonb_build_object('provider', 'builtin'), NULL);
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object('call', _verdict_request(_posting_json(p), (t.r).parsed, (t.r).raw_text));
END
$$;

CREATE FUNCTION _analysis_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    v record;
BEGIN
    IF j.payload ? 'batch' THEN
        RETURN _batch_answer(j, response, body);
    END IF;
    SELECT * INTO t FROM _analysis_target(j);
    IF (t.s).id IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v FROM _verdict_answer(response, body);
    IF v.directive IS NOT NULL THEN
        RETURN v.directive;
    END IF;
    PERFORM _analysis_store(j, t.s, t.r, v.verdict || jsonb_build_object('provider', 'openai'), v.usage);
    RETURN NULL;
END
$$;

-- An analysis that failed for good fails its session, with the first reason.
CREATE FUNCTION _analysis_failed(j jobs, message text) RETURNS void
    LANGUAGE sql
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    UPDATE analysis_sessions SET status = 'failed', error = left(message, 1000), completed_at = now()
     WHERE id = (j.payload ->> 'session')::uuid AND status = 'running';
END;

-- Every status change of a session, on its user's channel: {"table": "analysis_sessions", "id",
-- "old", "new"}, delivered at commit.
CREATE FUNCTION _session_status_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(_channel_of(NEW.user_id), json_build_object(
        'table', 'analysis_sessions', 'id', NEW.id,
        'old', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, 'new', NEW.status)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER session_status_inserted AFTER INSERT ON analysis_sessions
    FOR EACH ROW EXECUTE FUNCTION _session_status_changed();
CREATE TRIGGER session_status_changed AFTER UPDATE OF status ON analysis_sessions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION _session_status_changed();

------------------------------------------------------------------------------------------
-- Sessions through OpenAI's Batch API (resume_pipeline.openai_batch, with the openai
-- provider): half the price, answered within 24 hours. One job per session walks the steps,
-- keeping where it is in its payload: upload the JSON Lines file of every résumé's verdict
-- request (POST /files, purpose batch), create the batch (POST /batches, 24h), poll it
-- (GET /batches/<id>, every 1 s at first and at most every minute, no attempt charged), then
-- read its output and error files. Each answered line becomes the résumé's resume_analyses
-- row exactly as a live answer would (custom_id is the résumé's id); a line the batch did
-- not answer (expired, cancelled, a 429 or 5xx) is analysed live by its own job, so the
-- session ends with the same rows either way.
------------------------------------------------------------------------------------------

CREATE FUNCTION _batch_request(method text, path text, body text DEFAULT NULL, content_type text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql STABLE
RETURN jsonb_strip_nulls(jsonb_build_object(
    'method', method, 'url', rtrim(current_setting('resume_pipeline.openai_base_url'), '/') || path,
    'headers', CASE WHEN content_type IS NOT NULL THEN jsonb_build_object('Content-Type', content_type) END,
    'body', body, 'auth', 'openai', 'dependency', 'openai_batch', 'max_bytes', 268435456));

CREATE FUNCTION _batch_state(j jobs) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN (SELECT payload FROM jobs WHERE id = j.id);

CREATE FUNCTION _batch_note(j jobs, note jsonb) RETURNS void
    LANGUAGE sql
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    UPDATE jobs SET payload = payload || note WHERE id = j.id;
END;

CREATE FUNCTION _batch_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb := _batch_state(j);
    s analysis_sessions;
    p job_postings;
    waiting int;
    failed resumes;
    lines text;
    boundary text := md5(gen_random_uuid()::text) || md5(gen_random_uuid()::text);
BEGIN
    SELECT * INTO s FROM analysis_sessions WHERE id = (j.payload ->> 'session')::uuid AND user_id = j.user_id;
    IF s.id IS NULL OR s.status <> 'running' THEN
        RETURN NULL;
    END IF;
    IF st ? 'batch_id' THEN
        RETURN jsonb_build_object('call', _batch_request('GET', '/batches/' || (st ->> 'batch_id')));
    END IF;
    -- Every résumé read first, as in a live session.
    SELECT count(*) INTO waiting FROM resumes r
     WHERE r.id IN (SELECT jsonb_array_elements_text(st -> 'batch')::uuid) AND r.user_id = s.user_id
       AND r.status IN ('pending', 'processing');
    IF waiting > 0 THEN
        RETURN jsonb_build_object('poll_ms', 2000, 'message', format('waiting for %s résumés to be read', waiting));
    END IF;
    SELECT * INTO failed FROM resumes r
     WHERE r.id IN (SELECT jsonb_array_elements_text(st -> 'batch')::uuid) AND r.user_id = s.user_id AND r.status = 'failed'
     LIMIT 1;
    IF failed.id IS NOT NULL THEN
        RAISE EXCEPTION 'résumé "%" could not be read: %', failed.original_filename, failed.error USING ERRCODE = 'data_exception';
    END IF;
    SELECT * INTO p FROM job_postings WHERE id = s.job_posting_id AND user_id = s.user_id;
    SELECT string_agg(jsonb_build_object('custom_id', r.id, 'method', 'POST', 'url', '/v1/chat/completions',
                                         'body', (_verdict_request(_posting_json(p), r.parsed, r.raw_text) ->> 'body')::jsonb)::text,
                      E'\n' ORDER BY r.id)
      INTO lines
      FROM resumes r
     WHERE r.id IN (SELECT jsonb_array_elements_text(st -> 'batch')::uuid) AND r.user_id = s.user_id
       AND NOT EXISTS (SELECT 1 FROM resume_analyses ra WHERE ra.resume_id = r.id AND ra.analysis_session_id = s.id);
    IF lines IS NULL THEN
        PERFORM _session_check(s.id);
        RETURN NULL;
    END IF;
    PERFORM _batch_note(j, jsonb_build_object('batch_step', 'upload'));
    RETURN jsonb_build_object('call', _batch_request('POST', '/files',
        format(E'--%s\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
               || E'--%s\r\nContent-Disposition: form-data; name="file"; filename="session-%s.jsonl"\r\n'
               || E'Content-Type: application/jsonl\r\n\r\n%s\r\n--%s--\r\n',
               boundary, boundary, s.id, lines, boundary),
        'multipart/form-data; boundary=' || boundary));
END
$$;

-- Stores one line of a batch's output or error file; true when the résumé got its row.
-- members: the session's résumé ids as the keys of an object (looked up in O(log n)).
CREATE FUNCTION _batch_line(j jobs, s analysis_sessions, line jsonb, members jsonb) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    r resumes;
    a record;
    status int := (line #>> '{response,status_code}')::int;
BEGIN
    SELECT * INTO r FROM resumes
     WHERE id = CASE WHEN line ->> 'custom_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN (line ->> 'custom_id')::uuid END
       AND user_id = s.user_id AND members ? (line ->> 'custom_id');
    IF r.id IS NULL OR status IS DISTINCT FROM 200 OR jsonb_typeof(line #> '{response,body}') <> 'object' THEN
        RETURN false;  -- not one of ours, or not answered: analysed live
    END IF;
    SELECT * INTO a FROM _chat_answer(_verdict_schema(), jsonb_build_object('status', 200, 'outcome', 'ok', 'headers', '{}'::jsonb),
                                      convert_to((line #> '{response,body}')::text, 'UTF8'));
    IF a.outcome <> 'ok' OR score_of(a.content) IS NULL THEN
        -- A refusal or a verdict outside the schema fails the session, as it would live.
        RAISE EXCEPTION 'model call failed (%) for résumé "%": %', a.outcome, r.original_filename, a.message
            USING ERRCODE = 'data_exception';
    END IF;
    PERFORM _analysis_store(j, s, r, _verdict_clean(a.content) || jsonb_build_object('provider', 'openai', 'batch', true),
                            a.usage || jsonb_build_object('batch_id', _batch_state(j) ->> 'batch_id'));
    RETURN true;
END
$$;

CREATE FUNCTION _batch_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st jsonb := _batch_state(j);
    s analysis_sessions;
    status int := coalesce((response ->> 'status')::int, 0);
    answer jsonb;
    polls int := coalesce((st ->> 'polls')::int, 0);
    line text;
    n int;
    members jsonb;
BEGIN
    SELECT * INTO s FROM analysis_sessions WHERE id = (j.payload ->> 'session')::uuid AND user_id = j.user_id;
    IF s.id IS NULL OR s.status <> 'running' THEN
        RETURN NULL;
    END IF;
    PERFORM _transport_check('the Batch API', response);
    IF status = 429 THEN
        RETURN jsonb_build_object('wait_ms', coalesce(_wait_asked_ms(response), 5000), 'code', '53300',
                                  'message', 'waiting: the Batch API is rate-limiting us');
    END IF;
    IF status <> 200 THEN
        PERFORM _http_failure('the Batch API', response, body);
    END IF;
    CASE coalesce(st ->> 'batch_step', '')
        WHEN 'upload' THEN
            answer := _json_answer('the Batch API', body);
            IF jsonb_typeof(answer -> 'id') <> 'string' THEN
                RAISE EXCEPTION 'the Batch API answered an upload without a file id' USING ERRCODE = 'protocol_violation';
            END IF;
            PERFORM _batch_note(j, jsonb_build_object('batch_step', 'create', 'input_file_id', answer ->> 'id'));
            RETURN jsonb_build_object('call', _batch_request('POST', '/batches', jsonb_build_object(
                'input_file_id', answer ->> 'id', 'endpoint', '/v1/chat/completions', 'completion_window', '24h',
                'metadata', jsonb_build_object('resume_pipeline_session', s.id::text))::text, 'application/json'));
        WHEN 'create', 'poll' THEN
            answer := _json_answer('the Batch API', body);
            IF jsonb_typeof(answer -> 'id') <> 'string' OR jsonb_typeof(answer -> 'status') <> 'string' THEN
                RAISE EXCEPTION 'the Batch API answered a batch without an id or status' USING ERRCODE = 'protocol_violation';
            END IF;
            PERFORM _batch_note(j, jsonb_build_object('batch_step', 'poll', 'batch_id', answer ->> 'id',
                                                      'batch_status', answer ->> 'status', 'polls', polls + 1,
                                                      'output_file_id', answer -> 'output_file_id',
                                                      'error_file_id', answer -> 'error_file_id'));
            IF answer ->> 'status' IN ('validating', 'in_progress', 'finalizing', 'cancelling') THEN
                -- Polled again later, outside any slot: 1 s, 2 s, 4 s … at most a minute.
                RETURN jsonb_build_object('poll_ms', least(1000 * 2 ^ least(polls, 6), 60000),
                                          'message', format('waiting for batch %s (%s)', answer ->> 'id', answer ->> 'status'));
            ELSIF answer ->> 'status' = 'failed' THEN
                RAISE EXCEPTION 'batch % failed: %', answer ->> 'id',
                    left(coalesce(answer #>> '{errors,data,0,message}', 'no reason given'), 300)
                    USING ERRCODE = 'data_exception';
            END IF;
            -- completed, expired or cancelled: read what it answered.
            IF jsonb_typeof(answer -> 'output_file_id') = 'string' THEN
                PERFORM _batch_note(j, jsonb_build_object('batch_step', 'output'));
                RETURN jsonb_build_object('call', _batch_request('GET', '/files/' || (answer ->> 'output_file_id') || '/content'));
            ELSIF jsonb_typeof(answer -> 'error_file_id') = 'string' THEN
                PERFORM _batch_note(j, jsonb_build_object('batch_step', 'errors'));
                RETURN jsonb_build_object('call', _batch_request('GET', '/files/' || (answer ->> 'error_file_id') || '/content'));
            END IF;
        WHEN 'output', 'errors' THEN
            n := 0;
            members := (SELECT jsonb_object_agg(x, true) FROM jsonb_array_elements_text(st -> 'batch') x);
            FOR line IN SELECT l FROM regexp_split_to_table(convert_from(body, 'UTF8'), E'\n') l WHERE btrim(l) <> '' LOOP
                BEGIN
                    IF _batch_line(j, s, line::jsonb, members) THEN
                        n := n + 1;
                    END IF;
                EXCEPTION WHEN invalid_text_representation THEN
                    NULL;  -- a line that is not JSON: its résumé is analysed live
                END;
            END LOOP;
            IF st ->> 'batch_step' = 'output' AND jsonb_typeof(st -> 'error_file_id') = 'string' THEN
                PERFORM _batch_note(j, jsonb_build_object('batch_step', 'errors'));
                RETURN jsonb_build_object('call', _batch_request('GET', '/files/' || (st ->> 'error_file_id') || '/content'));
            END IF;
        ELSE
            RAISE EXCEPTION 'batch job in an unknown step' USING ERRCODE = 'internal_error';
    END CASE;
    -- Whatever the batch did not answer is analysed live, one job per résumé.
    SELECT * INTO s FROM analysis_sessions WHERE id = s.id;
    IF s.status = 'running' THEN
        INSERT INTO jobs (kind, target_id, user_id, payload, fair_at)
        SELECT 'analysis', r.id, s.user_id, jsonb_build_object('session', s.id), _fair_at(s.user_id)
          FROM (SELECT jsonb_array_elements_text(st -> 'batch')::uuid AS id) r
         WHERE NOT EXISTS (SELECT 1 FROM resume_analyses ra WHERE ra.resume_id = r.id AND ra.analysis_session_id = s.id);
        PERFORM _session_check(s.id);
    END IF;
    RETURN NULL;
END
$$;
