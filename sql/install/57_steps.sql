
------------------------------------------------------------------------------------------
-- Steps users add (seed "Extending the System": a foo_status/foo_data pair, a webhook trigger,
-- an API route). register_step names a step, says when it is due (a predicate on the
-- applicant's new row) and what it runs: a SQL function, or an HTTP endpoint called with the
-- applicant's JSON. The pipeline queues it durably in the transaction that made it due, retries
-- it, honours its circuit ("step:<name>") and the rate of its service, records its status and
-- result in applicant_steps (and in the applicant's own columns when named), and announces
-- every status change on the user's channel.
------------------------------------------------------------------------------------------

-- The registered steps. Nobody but the pipeline's owner reads this table: headers may hold a
-- webhook's secret.
CREATE TABLE steps (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    due           text NOT NULL,
    function      regprocedure,
    url           text CHECK (url ~* '^https?://[^[:space:]]+$'),
    headers       jsonb NOT NULL DEFAULT '{}',
    status_column name,
    data_column   name,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((function IS NULL) <> (url IS NULL))
);
SELECT pg_catalog.pg_extension_config_dump('steps', '');

-- Each registered step of each applicant it was due for: its status and result.
CREATE TABLE applicant_steps (
    applicant_id uuid NOT NULL,
    user_id      uuid NOT NULL,
    step         text NOT NULL REFERENCES steps (name) ON DELETE CASCADE,
    status       processing_status NOT NULL DEFAULT 'pending',
    data         jsonb,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (applicant_id, step),
    FOREIGN KEY (user_id, applicant_id) REFERENCES applicants (user_id, id) ON DELETE CASCADE
);
CREATE INDEX applicant_steps_user_idx ON applicant_steps (user_id);
ALTER TABLE applicant_steps ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON applicant_steps USING (user_id = (SELECT current_user_id()))
    WITH CHECK (user_id = (SELECT current_user_id()));
-- Users read their steps; deleting one's row asks for the step again at the applicant's next write.
GRANT SELECT, DELETE ON applicant_steps TO resume_pipeline_user;
SELECT pg_catalog.pg_extension_config_dump('applicant_steps', '');

-- The trusted owner of a step's function: a superuser or the pipeline's owner (the workers run
-- it with their privileges, so nobody else may be able to change it).
CREATE FUNCTION _trusted_function(fn regprocedure) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT p.proowner = (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'resume_pipeline')
           OR r.rolsuper
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
     WHERE p.oid = fn;
END;

-- Registers (or replaces) a step. Only the pipeline's owner or a superuser may: a step runs for
-- every user's applicants.
--   name          [a-z][a-z0-9_]*, at most 40 characters
--   due           a boolean expression on the applicant's new row, as in a trigger's WHEN:
--                 NEW.cv_status = 'ready' AND NEW.li_url IS NOT NULL
--   run_function  a function (jsonb) RETURNS jsonb owned by a superuser or the pipeline's
--                 owner; it gets the applicant's row as JSON, returns the step's result
--   http_url      or an endpoint: POST {"step", "applicant"} as JSON; a 2xx answer's JSON body
--                 is the result
--   http_headers  sent with every call (a webhook secret: nobody else can read it)
--   status_column, data_column  applicant columns (processing_status, jsonb) that follow the
--                 step's status and result, as the built-in steps' do
-- A step is queued once per applicant, when it first becomes due; delete its applicant_steps
-- row to have it queued again at the applicant's next write.
CREATE FUNCTION register_step(name text, due text, run_function regprocedure DEFAULT NULL, http_url text DEFAULT NULL,
                              status_column name DEFAULT NULL, data_column name DEFAULT NULL,
                              http_headers jsonb DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    fn pg_catalog.pg_proc;
    trigger_name text := 'step_' || name;
BEGIN
    IF NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may register steps' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'a step''s name is [a-z][a-z0-9_]*, at most 40 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (run_function IS NULL) = (http_url IS NULL) THEN
        RAISE EXCEPTION 'a step runs either a function or an HTTP endpoint' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF run_function IS NOT NULL THEN
        SELECT * INTO fn FROM pg_catalog.pg_proc WHERE oid = run_function;
        IF fn.pronargs <> 1 OR fn.proargtypes[0] <> 'jsonb'::regtype OR fn.prorettype <> 'jsonb'::regtype OR fn.proretset THEN
            RAISE EXCEPTION 'a step''s function takes jsonb and returns jsonb' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT @extschema@._trusted_function(run_function) THEN
            RAISE EXCEPTION 'a step''s function must be owned by a superuser or the pipeline''s owner'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF http_url IS NOT NULL AND http_url !~* '^https?://[^[:space:]]+$' THEN
        RAISE EXCEPTION 'a step''s endpoint is an http or https URL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(coalesce(http_headers, '{}')) <> 'object' OR EXISTS (
           SELECT 1 FROM jsonb_each(coalesce(http_headers, '{}')) h
            WHERE jsonb_typeof(h.value) <> 'string' OR h.key !~ '^[A-Za-z0-9!#$%&''*+.^_`|~-]+$'
               OR h.value #>> '{}' ~ '[\r\n\x00]') THEN
        RAISE EXCEPTION 'http_headers is an object of header names and string values' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF status_column IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = '@extschema@.applicants'::regclass AND a.attname = status_column AND NOT a.attisdropped
              AND a.atttypid = '@extschema@.processing_status'::regtype AND a.attgenerated = ''
              AND a.attname NOT IN ('cv_status', 'li_status', 'gh_status', 'ai_status')) THEN
        RAISE EXCEPTION 'applicants has no column "%" of type processing_status a step may write', status_column
            USING ERRCODE = 'undefined_column';
    END IF;
    IF data_column IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = '@extschema@.applicants'::regclass AND a.attname = data_column AND NOT a.attisdropped
              AND a.atttypid = 'jsonb'::regtype AND a.attgenerated = ''
              AND a.attname NOT IN ('cv_data', 'li_data', 'gh_data', 'ai_data', 'cv_llm_usage')) THEN
        RAISE EXCEPTION 'applicants has no column "%" of type jsonb a step may write', data_column
            USING ERRCODE = 'undefined_column';
    END IF;
    -- The predicate must be one boolean expression on the new row (checked before it goes into DDL).
    BEGIN
        EXECUTE format('SELECT (%s)::boolean FROM @extschema@.applicants AS new LIMIT 0', due);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'the step''s due predicate is not a boolean expression on NEW: %', SQLERRM
            USING ERRCODE = 'invalid_parameter_value';
    END;
    INSERT INTO @extschema@.steps (name, due, function, url, headers, status_column, data_column)
    VALUES (register_step.name, due, run_function, http_url, coalesce(http_headers, '{}'), status_column, data_column)
    ON CONFLICT ON CONSTRAINT steps_pkey DO UPDATE SET due = EXCLUDED.due, function = EXCLUDED.function, url = EXCLUDED.url,
                                     headers = EXCLUDED.headers, status_column = EXCLUDED.status_column,
                                     data_column = EXCLUDED.data_column;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = '@extschema@.applicants'::regclass
                                                      AND t.tgname = trigger_name) THEN
        EXECUTE format('DROP TRIGGER %I ON @extschema@.applicants', trigger_name);
    END IF;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE ON @extschema@.applicants FOR EACH ROW WHEN ((%s)) '
                   'EXECUTE FUNCTION @extschema@._step_due(%L)', trigger_name, due, register_step.name);
END
$$;

-- Removes a step: its trigger, its rows, its queued jobs.
CREATE FUNCTION unregister_step(name text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may remove steps' USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON @extschema@.applicants', 'step_' || name);
    DELETE FROM @extschema@.jobs WHERE kind = 'step' AND state = 'queued' AND payload ->> 'step' = unregister_step.name;
    DELETE FROM @extschema@.steps s WHERE s.name = unregister_step.name;
    RETURN FOUND;
END
$$;

-- The registered steps, without their headers.
CREATE VIEW registered_steps AS
    SELECT name, due, function, url, status_column, data_column, created_at FROM steps;

-- A registered step's trigger (WHEN its predicate holds): the first time for an applicant, its
-- row in applicant_steps and its job, in the writer's transaction. SECURITY DEFINER: users
-- write neither; only register_step attaches it.
CREATE FUNCTION _step_due() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st @extschema@.steps;
BEGIN
    SELECT * INTO st FROM @extschema@.steps WHERE name = TG_ARGV[0];
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO @extschema@.applicant_steps (applicant_id, user_id, step) VALUES (NEW.id, NEW.user_id, st.name)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;  -- queued before: once per applicant
    END IF;
    PERFORM @extschema@._check_queue_quota(NEW.user_id, 1);
    INSERT INTO @extschema@.jobs (kind, target_id, user_id, payload, fair_at)
    VALUES ('step', NEW.id, NEW.user_id, jsonb_build_object('step', st.name), @extschema@._fair_at(NEW.user_id));
    IF st.status_column IS NOT NULL THEN
        EXECUTE format('UPDATE @extschema@.applicants SET %I = ''pending'' WHERE id = $1', st.status_column) USING NEW.id;
    END IF;
    RETURN NULL;
END
$$;

-- Refuses more jobs than a user's backlog may hold (resume_pipeline.max_user_queued_jobs).
CREATE FUNCTION _check_queue_quota(user_id uuid, adding integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    max_queued int := current_setting('resume_pipeline.max_user_queued_jobs')::int;
BEGIN
    IF (SELECT count(*) FROM (SELECT 1 FROM jobs j WHERE j.user_id = _check_queue_quota.user_id AND j.state = 'queued'
                               LIMIT max_queued) q) + adding > max_queued THEN
        RAISE EXCEPTION 'queue quota exceeded: the user already has % queued jobs', max_queued
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Wait for the queue to drain, or raise resume_pipeline.max_user_queued_jobs.';
    END IF;
END
$$;

-- The step's status (and result) on its row and in the applicant's named columns.
CREATE FUNCTION _step_set(st steps, applicant_id uuid, status processing_status, data jsonb, error text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE applicant_steps s SET status = _step_set.status, data = coalesce(_step_set.data, s.data),
                                 error = _step_set.error, updated_at = now()
     WHERE s.applicant_id = _step_set.applicant_id AND s.step = st.name;
    IF st.status_column IS NOT NULL THEN
        EXECUTE format('UPDATE applicants SET %I = $2 WHERE id = $1', st.status_column) USING applicant_id, status;
    END IF;
    IF st.data_column IS NOT NULL AND data IS NOT NULL THEN
        EXECUTE format('UPDATE applicants SET %I = $2 WHERE id = $1', st.data_column) USING applicant_id, data;
    END IF;
END
$$;

CREATE FUNCTION _step_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st steps;
    a applicants;
    s applicant_steps;
    result jsonb;
BEGIN
    SELECT * INTO st FROM steps WHERE name = j.payload ->> 'step';
    IF NOT FOUND THEN
        RETURN NULL;  -- unregistered since
    END IF;
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    SELECT * INTO s FROM applicant_steps WHERE applicant_id = j.target_id AND step = st.name FOR UPDATE;
    IF a.id IS NULL OR s.status IS NULL OR s.status NOT IN ('pending', 'processing') THEN
        RETURN NULL;
    END IF;
    PERFORM _step_set(st, a.id, 'processing', NULL, NULL);
    IF st.function IS NOT NULL THEN
        -- Checked again at every run: the function's owner may have changed since.
        IF NOT _trusted_function(st.function) THEN
            RAISE EXCEPTION 'step "%": its function is no longer owned by a superuser or the pipeline''s owner', st.name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('SELECT %I.%I($1)', (SELECT n.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n
                                                 ON n.oid = p.pronamespace WHERE p.oid = st.function),
                       (SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid = st.function))
            INTO result USING to_jsonb(a);
        PERFORM _step_set(st, a.id, 'ready', coalesce(result, 'null'), NULL);
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object('call', jsonb_build_object(
        'method', 'POST', 'url', st.url,
        'headers', st.headers || jsonb_build_object('Content-Type', 'application/json'),
        'body', jsonb_build_object('step', st.name, 'applicant', to_jsonb(a))::text,
        'dependency', 'step:' || st.name, 'max_bytes', 1048576));
END
$$;

CREATE FUNCTION _step_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st steps;
    s applicant_steps;
    status int := coalesce((response ->> 'status')::int, 0);
    service text;
    result jsonb;
BEGIN
    SELECT * INTO st FROM steps WHERE name = j.payload ->> 'step';
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO s FROM applicant_steps WHERE applicant_id = j.target_id AND step = st.name FOR UPDATE;
    IF s.status IS DISTINCT FROM 'processing' THEN
        RETURN NULL;
    END IF;
    service := format('step "%s"''s endpoint', st.name);
    PERFORM _transport_check(service, response);
    IF status = 429 THEN
        RETURN jsonb_build_object('wait_ms', coalesce(_wait_asked_ms(response), 5000), 'code', '53300',
                                  'message', format('waiting: %s is rate-limiting us', service));
    END IF;
    IF status NOT BETWEEN 200 AND 299 THEN
        PERFORM _http_failure(service, response, body);
    END IF;
    BEGIN
        result := _json_answer(service, body, 1048576);
    EXCEPTION WHEN protocol_violation THEN
        result := jsonb_build_object('text', left(convert_from(body, 'UTF8'), 10000));
    END;
    PERFORM _step_set(st, j.target_id, 'ready', coalesce(result, 'null'), NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION _step_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    st steps;
BEGIN
    SELECT * INTO st FROM steps WHERE name = j.payload ->> 'step';
    IF FOUND THEN
        PERFORM _step_set(st, j.target_id, 'error', NULL, message);
    END IF;
END
$$;

-- Every status change of a registered step, on its user's channel: {"table": "applicant_steps",
-- "id" (the applicant), "step", "old", "new"}, delivered at commit.
CREATE FUNCTION _step_status_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(_channel_of(NEW.user_id), json_build_object(
        'table', 'applicant_steps', 'id', NEW.applicant_id, 'step', NEW.step,
        'old', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, 'new', NEW.status)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER step_status_inserted AFTER INSERT ON applicant_steps
    FOR EACH ROW EXECUTE FUNCTION _step_status_changed();
CREATE TRIGGER step_status_changed AFTER UPDATE OF status ON applicant_steps
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION _step_status_changed();
