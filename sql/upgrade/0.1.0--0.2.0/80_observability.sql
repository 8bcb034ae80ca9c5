
-- Observability (80_observability.sql): finished jobs are counted in job_counts as they finish;
-- job_overview, health() and metrics() read the counters and the live queue instead of the
-- history.

-- Finished jobs, counted as they finish (the trigger count_finished, 82_history.sql), so that
-- what health(), metrics() and job_overview say about history costs the same with ten million
-- finished jobs as with none, and stays right after those jobs are removed (job retention), a
-- restart or a dump and restore. A row per user, kind, state (done or failed) and slot: the
-- session that finishes a job adds to the row of its own process id (slot), so two workers
-- never wait for each other on a counter; _fold_job_counts() moves the rows of sessions that
-- are gone into slot 0. Bounded by users × kinds × 2 × (1 + live sessions), never by history.
-- Read it by summing over slots. A user reads their own rows, the pipeline's owner all.
CREATE TABLE job_counts (
    user_id uuid NOT NULL,
    kind    job_kind NOT NULL,
    state   job_state NOT NULL CHECK (state IN ('done', 'failed')),
    slot    integer NOT NULL,          -- the process id of the session that counted, 0 once folded
    jobs    bigint NOT NULL,
    seconds float8 NOT NULL,           -- sum of the jobs' times from queued to finished
    hits    bigint[] NOT NULL,         -- jobs per bucket of that time (_job_duration_bucket)
    oldest  timestamptz NOT NULL,      -- created_at of the oldest job counted
    PRIMARY KEY (user_id, kind, state, slot)
);
COMMENT ON TABLE job_counts IS 'Finished jobs counted by user, kind and state (see health(), metrics(), job_overview).';
ALTER TABLE job_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_counts ON job_counts FOR SELECT USING (user_id = (SELECT current_user_id()));
GRANT SELECT ON job_counts TO resume_pipeline_user;
SELECT pg_catalog.pg_extension_config_dump('job_counts', '');

-- The bucket of metrics()' duration histogram a job's time (seconds, queued to finished) falls
-- in: 1 for ≤ 0.005 s … 13 for ≤ 60 s, 14 above. The same bounds as metrics() prints. A plain
-- expression, so that it is inlined where it is called (the trigger that counts every job).
CREATE FUNCTION _job_duration_bucket(seconds float8) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN seconds <= 0.005 THEN 1 WHEN seconds <= 0.01 THEN 2 WHEN seconds <= 0.025 THEN 3
            WHEN seconds <= 0.05 THEN 4 WHEN seconds <= 0.1 THEN 5 WHEN seconds <= 0.25 THEN 6
            WHEN seconds <= 0.5 THEN 7 WHEN seconds <= 1 THEN 8 WHEN seconds <= 2.5 THEN 9
            WHEN seconds <= 5 THEN 10 WHEN seconds <= 10 THEN 11 WHEN seconds <= 30 THEN 12
            WHEN seconds <= 60 THEN 13 ELSE 14 END;

-- The caller's jobs by kind and state (the pipeline's owner: everyone's), with the creation
-- time of the oldest: queued and running ones counted in jobs through its partial indexes (as
-- many rows as the live queue, whatever the history), done and failed ones from job_counts
-- (every job that ever finished, also those retention removed since). job_overview, health()
-- and metrics() read this. SECURITY DEFINER with the caller's filter written out, rather than
-- jobs' row-level security: under a policy, `state = 'queued'` (an enum comparison, not
-- leakproof) comes after the policy's filter, the planner loses its estimate and chose
-- parallel plans that cost a user 100 ms where the owner took 1.
CREATE FUNCTION _job_overview(OUT kind job_kind, OUT state job_state, OUT jobs bigint, OUT oldest timestamptz)
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    uid uuid := @extschema@.current_user_id();
BEGIN
    IF @extschema@._caller_is_admin() THEN
        RETURN QUERY
            SELECT j.kind, j.state, count(*), min(j.created_at) FROM @extschema@.jobs j
             WHERE j.state = 'queued' GROUP BY j.kind, j.state
            UNION ALL
            SELECT j.kind, j.state, count(*), min(j.created_at) FROM @extschema@.jobs j
             WHERE j.state = 'running' GROUP BY j.kind, j.state
            UNION ALL
            SELECT c.kind, c.state, sum(c.jobs)::bigint, min(c.oldest) FROM @extschema@.job_counts c
             GROUP BY c.kind, c.state;
    ELSIF uid IS NOT NULL THEN
        RETURN QUERY
            SELECT j.kind, j.state, count(*), min(j.created_at) FROM @extschema@.jobs j
             WHERE j.state = 'queued' AND j.user_id = uid GROUP BY j.kind, j.state
            UNION ALL
            SELECT j.kind, j.state, count(*), min(j.created_at) FROM @extschema@.jobs j
             WHERE j.state = 'running' AND j.user_id = uid GROUP BY j.kind, j.state
            UNION ALL
            SELECT c.kind, c.state, sum(c.jobs)::bigint, min(c.oldest) FROM @extschema@.job_counts c
             WHERE c.user_id = uid GROUP BY c.kind, c.state;
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION _job_overview() TO resume_pipeline_user;

-- Jobs by kind and state, with the age of the oldest (see _job_overview).
CREATE OR REPLACE VIEW job_overview WITH (security_invoker = true) AS
SELECT o.kind, o.state, o.jobs, o.oldest, now() - o.oldest AS oldest_age
  FROM _job_overview() o;

-- One look at the pipeline: database, storage, model (and its rate limit), queue, workers, circuits.
CREATE OR REPLACE FUNCTION health() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'database', jsonb_build_object('status', 'ok', 'name', current_database()),
        'storage', jsonb_build_object(
            'backend', current_setting('resume_pipeline.storage_backend'),
            'root', coalesce(nullif(current_setting('resume_pipeline.storage_root'), ''),
                             'resume_pipeline_storage in the data directory'),
            'directory', (SELECT d.oid::text FROM pg_database d WHERE d.datname = current_database()),
            'circuit', _circuit_state('storage')),
        'model', jsonb_build_object('provider', current_setting('resume_pipeline.llm_provider'), 'circuit', _circuit_state('model')),
        'github', jsonb_build_object('base_url', current_setting('resume_pipeline.github_base_url', true),
                                     'circuit', _circuit_state('github')),
        'linkedin', jsonb_build_object('configured', coalesce(current_setting('resume_pipeline.linkedin_provider_url', true), '') <> '',
                                       'circuit', _circuit_state('linkedin')),
        'embedding_model', nullif(current_setting('resume_pipeline.embedding_model', true), ''),
        'model_rate_limit', _rate_limit_health(),
        'queue_depth', o.queued,
        'running', o.running,
        'done', o.done,
        'failed', o.failed,
        'workers_alive', _workers_alive(),
        'workers_configured', current_setting('resume_pipeline.workers')::int,
        'workers_database', current_setting('resume_pipeline.database'),
        'last_check', now())
      FROM (SELECT coalesce(sum(v.jobs) FILTER (WHERE v.state = 'queued'), 0)::bigint AS queued,
                   coalesce(sum(v.jobs) FILTER (WHERE v.state = 'running'), 0)::bigint AS running,
                   coalesce(sum(v.jobs) FILTER (WHERE v.state = 'done'), 0)::bigint AS done,
                   coalesce(sum(v.jobs) FILTER (WHERE v.state = 'failed'), 0)::bigint AS failed
              FROM _job_overview() v) o;
END;

-- Prometheus text format: jobs by kind and state, success ratio, end-to-end processing time
-- (queued to finished) as a histogram, queue depth, live workers, circuit states, storage
-- read latency quantiles. Jobs come from _job_overview() and job_counts, so a scrape reads as
-- many rows as there are users, kinds and live jobs, never the history.
CREATE OR REPLACE FUNCTION metrics() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    out text := '';
    r record;
    -- The bounds of _job_duration_bucket, bucket 1 to 13 (14: above the last).
    buckets float8[] := ARRAY[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    total bigint;
    queued bigint := 0;
    done bigint := 0;
    failed bigint := 0;
    seconds float8;
    hits numeric[];
    n numeric := 0;
BEGIN
    out := out || E'# HELP resume_pipeline_jobs Jobs by kind and state.\n# TYPE resume_pipeline_jobs gauge\n';
    FOR r IN WITH o AS MATERIALIZED (SELECT * FROM _job_overview())
             SELECT k.kind, s.state, coalesce(o.jobs, 0) AS n
               FROM unnest(enum_range(NULL::job_kind)) k(kind)
              CROSS JOIN unnest(enum_range(NULL::job_state)) s(state)
               LEFT JOIN o ON o.kind = k.kind AND o.state = s.state
              ORDER BY k.kind::text, s.state LOOP
        out := out || format(E'resume_pipeline_jobs{kind="%s",state="%s"} %s\n', r.kind, r.state, r.n);
        CASE r.state
            WHEN 'queued' THEN queued := queued + r.n;
            WHEN 'done' THEN done := done + r.n;
            WHEN 'failed' THEN failed := failed + r.n;
            ELSE NULL;
        END CASE;
    END LOOP;
    total := done + failed;
    out := out || E'# HELP resume_pipeline_jobs_done_total Jobs finished successfully.\n# TYPE resume_pipeline_jobs_done_total counter\n'
               || format(E'resume_pipeline_jobs_done_total %s\n', done)
               || E'# HELP resume_pipeline_jobs_failed_total Jobs that failed for good.\n# TYPE resume_pipeline_jobs_failed_total counter\n'
               || format(E'resume_pipeline_jobs_failed_total %s\n', failed)
               || E'# HELP resume_pipeline_job_success_ratio done / (done + failed).\n# TYPE resume_pipeline_job_success_ratio gauge\n'
               || format(E'resume_pipeline_job_success_ratio %s\n',
                         coalesce(round(done::numeric / nullif(total, 0), 6), 1));
    -- The histogram, bucket by bucket over the caller's job_counts rows (row-level security).
    SELECT coalesce(sum(c.seconds), 0),
           ARRAY[sum(c.hits[1]), sum(c.hits[2]), sum(c.hits[3]), sum(c.hits[4]), sum(c.hits[5]), sum(c.hits[6]),
                 sum(c.hits[7]), sum(c.hits[8]), sum(c.hits[9]), sum(c.hits[10]), sum(c.hits[11]), sum(c.hits[12]),
                 sum(c.hits[13])]
      INTO seconds, hits
      FROM job_counts c;
    out := out || E'# HELP resume_pipeline_job_duration_seconds Time from queued to finished, finished jobs.\n'
               || E'# TYPE resume_pipeline_job_duration_seconds histogram\n';
    FOR i IN 1 .. 13 LOOP
        n := n + coalesce(hits[i], 0);
        out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="%s"} %s\n', buckets[i], n);
    END LOOP;
    out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="+Inf"} %s\n', total)
               || format(E'resume_pipeline_job_duration_seconds_sum %s\n', round(seconds::numeric, 6))
               || format(E'resume_pipeline_job_duration_seconds_count %s\n', total);
    out := out || E'# HELP resume_pipeline_queue_depth Jobs waiting to run.\n# TYPE resume_pipeline_queue_depth gauge\n'
               || format(E'resume_pipeline_queue_depth %s\n', queued)
               || E'# HELP resume_pipeline_workers_alive Background workers running.\n# TYPE resume_pipeline_workers_alive gauge\n'
               || format(E'resume_pipeline_workers_alive %s\n', _workers_alive())
               || E'# HELP resume_pipeline_circuit_open 1 when a dependency\'s circuit is open or half-open.\n'
               || E'# TYPE resume_pipeline_circuit_open gauge\n'
               || format(E'resume_pipeline_circuit_open{dependency="storage"} %s\n',
                         (_circuit_state('storage') ->> 'state' IN ('open', 'half_open'))::int)
               || format(E'resume_pipeline_circuit_open{dependency="model"} %s\n',
                         (_circuit_state('model') ->> 'state' IN ('open', 'half_open'))::int)
               || format(E'resume_pipeline_circuit_open{dependency="github"} %s\n',
                         (_circuit_state('github') ->> 'state' IN ('open', 'half_open'))::int)
               || format(E'resume_pipeline_circuit_open{dependency="linkedin"} %s\n',
                         (_circuit_state('linkedin') ->> 'state' IN ('open', 'half_open'))::int);
    out := out || E'# HELP resume_pipeline_storage_read_seconds Storage read latency over the last 1024 reads.\n'
               || E'# TYPE resume_pipeline_storage_read_seconds summary\n';
    FOR r IN SELECT * FROM _storage_read_latency() LOOP
        out := out || format(E'resume_pipeline_storage_read_seconds{quantile="%s"} %s\n', r.quantile,
                             round((r.milliseconds / 1000)::numeric, 6));
        total := r.reads;
    END LOOP;
    out := out || format(E'resume_pipeline_storage_read_seconds_count %s\n',
                         coalesce((SELECT max(reads) FROM _storage_read_latency()), 0));
    RETURN out;
END
$$;
