
------------------------------------------------------------------------------------------
-- Observability. They run as the caller: a user sees their own jobs, the pipeline's owner all.
------------------------------------------------------------------------------------------

CREATE FUNCTION _workers_alive() RETURNS integer
    AS 'MODULE_PATHNAME', 'rp_workers_alive' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_read_latency(OUT quantile float8, OUT milliseconds float8, OUT reads bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_storage_read_latency' LANGUAGE C STRICT VOLATILE;

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

-- Jobs by kind and state, with the age of the oldest. Queued and running jobs are counted in
-- jobs (through its partial indexes: as many rows as the live queue, whatever the history);
-- done and failed ones come from job_counts: every job that ever finished, also those retention
-- removed since, with the creation time of the oldest of them.
CREATE VIEW job_overview WITH (security_invoker = true) AS
SELECT j.kind, j.state, count(*) AS jobs, min(j.created_at) AS oldest, now() - min(j.created_at) AS oldest_age
  FROM jobs j WHERE j.state = 'queued'
 GROUP BY j.kind, j.state
UNION ALL
SELECT j.kind, j.state, count(*), min(j.created_at), now() - min(j.created_at)
  FROM jobs j WHERE j.state = 'running'
 GROUP BY j.kind, j.state
UNION ALL
SELECT c.kind, c.state, sum(c.jobs)::bigint, min(c.oldest), now() - min(c.oldest)
  FROM job_counts c
 GROUP BY c.kind, c.state;

-- One look at the pipeline: database, storage, model (and its rate limit), queue, workers, circuits.
CREATE FUNCTION health() RETURNS jsonb
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
        'queue_depth', (SELECT count(*) FROM jobs WHERE state = 'queued'),
        'running', (SELECT count(*) FROM jobs WHERE state = 'running'),
        'done', (SELECT coalesce(sum(c.jobs), 0)::bigint FROM job_counts c WHERE c.state = 'done'),
        'failed', (SELECT coalesce(sum(c.jobs), 0)::bigint FROM job_counts c WHERE c.state = 'failed'),
        'workers_alive', _workers_alive(),
        'workers_configured', current_setting('resume_pipeline.workers')::int,
        'workers_database', current_setting('resume_pipeline.database'),
        'last_check', now());
END;

-- Prometheus text format: jobs by kind and state, success ratio, end-to-end processing time
-- (queued to finished) as a histogram, queue depth, live workers, circuit states, storage
-- read latency quantiles. What finished comes from job_overview and job_counts, so a scrape
-- reads as many rows as there are users, kinds and live jobs, never the history.
CREATE FUNCTION metrics() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    out text := '';
    r record;
    -- The bounds of _job_duration_bucket, bucket 1 to 13 (14: above the last).
    buckets float8[] := ARRAY[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    total bigint;
    done bigint;
    failed bigint;
    seconds float8;
BEGIN
    out := out || E'# HELP resume_pipeline_jobs Jobs by kind and state.\n# TYPE resume_pipeline_jobs gauge\n';
    FOR r IN SELECT k.kind, s.state, coalesce(sum(o.jobs), 0) AS n
               FROM unnest(enum_range(NULL::job_kind)) k(kind)
              CROSS JOIN unnest(enum_range(NULL::job_state)) s(state)
               LEFT JOIN job_overview o ON o.kind = k.kind AND o.state = s.state
              GROUP BY 1, 2 ORDER BY k.kind::text, 2 LOOP
        out := out || format(E'resume_pipeline_jobs{kind="%s",state="%s"} %s\n', r.kind, r.state, r.n);
    END LOOP;
    SELECT coalesce(sum(c.jobs) FILTER (WHERE c.state = 'done'), 0), coalesce(sum(c.jobs) FILTER (WHERE c.state = 'failed'), 0),
           coalesce(sum(c.seconds), 0)
      INTO done, failed, seconds
      FROM job_counts c;
    total := done + failed;
    out := out || E'# HELP resume_pipeline_jobs_done_total Jobs finished successfully.\n# TYPE resume_pipeline_jobs_done_total counter\n'
               || format(E'resume_pipeline_jobs_done_total %s\n', done)
               || E'# HELP resume_pipeline_jobs_failed_total Jobs that failed for good.\n# TYPE resume_pipeline_jobs_failed_total counter\n'
               || format(E'resume_pipeline_jobs_failed_total %s\n', failed)
               || E'# HELP resume_pipeline_job_success_ratio done / (done + failed).\n# TYPE resume_pipeline_job_success_ratio gauge\n'
               || format(E'resume_pipeline_job_success_ratio %s\n',
                         coalesce(round(done::numeric / nullif(total, 0), 6), 1));
    out := out || E'# HELP resume_pipeline_job_duration_seconds Time from queued to finished, finished jobs.\n'
               || E'# TYPE resume_pipeline_job_duration_seconds histogram\n';
    FOR r IN SELECT b.bound, coalesce(sum(sum(h.x)) OVER (ORDER BY b.i), 0) AS n
               FROM unnest(buckets) WITH ORDINALITY b(bound, i)
               LEFT JOIN (SELECT u.x, u.i FROM job_counts c, unnest(c.hits) WITH ORDINALITY u(x, i)) h ON h.i = b.i
              GROUP BY b.i, b.bound ORDER BY b.i LOOP
        out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="%s"} %s\n', r.bound, r.n);
    END LOOP;
    out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="+Inf"} %s\n', total)
               || format(E'resume_pipeline_job_duration_seconds_sum %s\n', round(seconds::numeric, 6))
               || format(E'resume_pipeline_job_duration_seconds_count %s\n', total);
    out := out || E'# HELP resume_pipeline_queue_depth Jobs waiting to run.\n# TYPE resume_pipeline_queue_depth gauge\n'
               || format(E'resume_pipeline_queue_depth %s\n', (SELECT count(*) FROM jobs WHERE state = 'queued'))
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
