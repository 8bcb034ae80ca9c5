
------------------------------------------------------------------------------------------
-- Observability. They run as the caller: a user sees their own jobs, the pipeline's owner all.
------------------------------------------------------------------------------------------

CREATE FUNCTION _workers_alive() RETURNS integer
    AS 'MODULE_PATHNAME', 'rp_workers_alive' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_read_latency(OUT quantile float8, OUT milliseconds float8, OUT reads bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_storage_read_latency' LANGUAGE C STRICT VOLATILE;

-- Jobs by kind and state, with the age of the oldest.
CREATE VIEW job_overview WITH (security_invoker = true) AS
SELECT kind, state, count(*) AS jobs, min(created_at) AS oldest, now() - min(created_at) AS oldest_age
  FROM jobs
 GROUP BY kind, state;

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
        'done', (SELECT count(*) FROM jobs WHERE state = 'done'),
        'failed', (SELECT count(*) FROM jobs WHERE state = 'failed'),
        'workers_alive', _workers_alive(),
        'workers_configured', current_setting('resume_pipeline.workers')::int,
        'workers_database', current_setting('resume_pipeline.database'),
        'last_check', now());
END;

-- Prometheus text format: jobs by kind and state, success ratio, end-to-end processing time
-- (queued to finished) as a histogram, queue depth, live workers, circuit states, storage
-- read latency quantiles.
CREATE FUNCTION metrics() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    out text := '';
    r record;
    buckets float8[] := ARRAY[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    b float8;
    n bigint;
    total bigint;
    seconds float8;
BEGIN
    out := out || E'# HELP resume_pipeline_jobs Jobs by kind and state.\n# TYPE resume_pipeline_jobs gauge\n';
    FOR r IN SELECT k.kind, s.state, count(j.id) AS n
               FROM unnest(enum_range(NULL::job_kind)) k(kind)
              CROSS JOIN unnest(enum_range(NULL::job_state)) s(state)
               LEFT JOIN jobs j ON j.kind = k.kind AND j.state = s.state
              GROUP BY 1, 2 ORDER BY k.kind::text, 2 LOOP
        out := out || format(E'resume_pipeline_jobs{kind="%s",state="%s"} %s\n', r.kind, r.state, r.n);
    END LOOP;
    out := out || E'# HELP resume_pipeline_jobs_done_total Jobs finished successfully.\n# TYPE resume_pipeline_jobs_done_total counter\n'
               || format(E'resume_pipeline_jobs_done_total %s\n', (SELECT count(*) FROM jobs WHERE state = 'done'))
               || E'# HELP resume_pipeline_jobs_failed_total Jobs that failed for good.\n# TYPE resume_pipeline_jobs_failed_total counter\n'
               || format(E'resume_pipeline_jobs_failed_total %s\n', (SELECT count(*) FROM jobs WHERE state = 'failed'))
               || E'# HELP resume_pipeline_job_success_ratio done / (done + failed).\n# TYPE resume_pipeline_job_success_ratio gauge\n'
               || format(E'resume_pipeline_job_success_ratio %s\n',
                         coalesce((SELECT round(count(*) FILTER (WHERE state = 'done')::numeric
                                               / nullif(count(*), 0), 6)
                                     FROM jobs WHERE state IN ('done', 'failed')), 1));
    out := out || E'# HELP resume_pipeline_job_duration_seconds Time from queued to finished, finished jobs.\n'
               || E'# TYPE resume_pipeline_job_duration_seconds histogram\n';
    SELECT count(*), coalesce(sum(extract(epoch FROM finished_at - created_at)), 0) INTO total, seconds
      FROM jobs WHERE state IN ('done', 'failed') AND finished_at IS NOT NULL;
    FOREACH b IN ARRAY buckets LOOP
        SELECT count(*) INTO n FROM jobs
         WHERE state IN ('done', 'failed') AND finished_at IS NOT NULL
           AND extract(epoch FROM finished_at - created_at) <= b;
        out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="%s"} %s\n', b, n);
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
