
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
