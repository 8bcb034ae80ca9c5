
------------------------------------------------------------------------------------------
-- Job history. A finished job is counted in job_counts (80_observability.sql) when it finishes,
-- then kept in jobs for resume_pipeline.job_retention_done (done) or job_retention_failed
-- (failed) and removed by the workers in small batches. Nothing in the pipeline reads a
-- finished job: steps read their own job while it runs, the queue and its quotas look at queued
-- and running jobs, analysis sessions and batch progress live in their own rows.
------------------------------------------------------------------------------------------

-- jobs AFTER UPDATE OF state, when a job becomes done or failed: adds it to its user's, kind's
-- and state's counters in the row of this session's slot (its process id), which no other live
-- session writes, so counting makes no worker wait for another. It runs in the transaction that
-- finishes the job: a rollback takes the count back with it. A job inserted already finished
-- (a restore: job_counts is dumped with it) is not counted again. A job that fails, is queued
-- again by hand and then finishes is counted once in each state.
CREATE FUNCTION _count_finished_job() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    took float8 := extract(epoch FROM coalesce(NEW.finished_at, clock_timestamp()) - NEW.created_at);
    bucket integer := _job_duration_bucket(took);
    first bigint[] := array_fill(0::bigint, ARRAY[14]);
BEGIN
    first[bucket] := 1;
    INSERT INTO @extschema@.job_counts AS c (user_id, kind, state, slot, jobs, seconds, hits, oldest)
    VALUES (NEW.user_id, NEW.kind, NEW.state, pg_backend_pid(), 1, took, first, NEW.created_at)
    ON CONFLICT (user_id, kind, state, slot) DO UPDATE
       SET jobs = c.jobs + 1, seconds = c.seconds + EXCLUDED.seconds, hits[bucket] = c.hits[bucket] + 1,
           oldest = least(c.oldest, EXCLUDED.oldest);
    RETURN NULL;
END
$$;
CREATE TRIGGER count_finished AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state IN ('done', 'failed') AND OLD.state NOT IN ('done', 'failed'))
    EXECUTE FUNCTION _count_finished_job();

-- Counts, once, the jobs that finished before counting began (the update from 0.1.0 calls it,
-- in the transaction that creates the trigger: CREATE TRIGGER holds a lock on jobs until it
-- commits, so no job finishes in between). Into slot 0, one row per user, kind and state. Not
-- for later use: jobs the trigger counted would be counted again.
CREATE FUNCTION _count_jobs_finished_before() RETURNS void
    LANGUAGE sql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
WITH f AS (
    SELECT j.user_id, j.kind, j.state, j.created_at,
           extract(epoch FROM coalesce(j.finished_at, j.created_at) - j.created_at)::float8 AS took
      FROM jobs j WHERE j.state IN ('done', 'failed')),
b AS (
    SELECT f.user_id, f.kind, f.state, _job_duration_bucket(f.took) AS bucket, count(*) AS n
      FROM f GROUP BY 1, 2, 3, 4)
INSERT INTO job_counts (user_id, kind, state, slot, jobs, seconds, hits, oldest)
SELECT g.user_id, g.kind, g.state, 0, g.jobs, g.seconds,
       ARRAY(SELECT coalesce(sum(b.n), 0)::bigint
               FROM generate_series(1, 14) i
               LEFT JOIN b ON b.bucket = i AND (b.user_id, b.kind, b.state) = (g.user_id, g.kind, g.state)
              GROUP BY i ORDER BY i),
       g.oldest
  FROM (SELECT f.user_id, f.kind, f.state, count(*) AS jobs, sum(f.took) AS seconds, min(f.created_at) AS oldest
          FROM f GROUP BY 1, 2, 3) g;
$$;

-- Moves the counters of sessions that are gone (after a restart: all of them) into slot 0, so
-- job_counts keeps one row per user, kind and state plus one per live session that finished
-- jobs. A live session's rows are never touched: nobody waits for this. Returns how many
-- (user, kind, state) rows it added to.
CREATE FUNCTION _fold_job_counts() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    -- One at a time (two would wait for each other's slot-0 rows).
    IF NOT pg_try_advisory_xact_lock(hashtext('resume_pipeline._fold_job_counts')) THEN
        RETURN 0;
    END IF;
    WITH moved AS (
        DELETE FROM @extschema@.job_counts c
         WHERE c.slot <> 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.slot)
        RETURNING c.*),
    hist AS (
        SELECT h.user_id, h.kind, h.state, array_agg(h.x ORDER BY h.i) AS hits
          FROM (SELECT m.user_id, m.kind, m.state, u.i, sum(u.x)::bigint AS x
                  FROM moved m, unnest(m.hits) WITH ORDINALITY u(x, i)
                 GROUP BY 1, 2, 3, 4) h
         GROUP BY 1, 2, 3),
    folded AS (
        SELECT m.user_id, m.kind, m.state, sum(m.jobs)::bigint AS jobs, sum(m.seconds) AS seconds,
               min(m.oldest) AS oldest
          FROM moved m
         GROUP BY 1, 2, 3)
    INSERT INTO @extschema@.job_counts AS c (user_id, kind, state, slot, jobs, seconds, hits, oldest)
    SELECT f.user_id, f.kind, f.state, 0, f.jobs, f.seconds, h.hits, f.oldest
      FROM folded f JOIN hist h ON (h.user_id, h.kind, h.state) = (f.user_id, f.kind, f.state)
    ON CONFLICT (user_id, kind, state, slot) DO UPDATE
       SET jobs = c.jobs + EXCLUDED.jobs, seconds = c.seconds + EXCLUDED.seconds,
           hits = ARRAY(SELECT a + b FROM unnest(c.hits, EXCLUDED.hits) WITH ORDINALITY u(a, b, i) ORDER BY i),
           oldest = least(c.oldest, EXCLUDED.oldest);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
INSERT INTO housekeeping (task, every) VALUES ('_fold_job_counts', interval '1 minute');

-- Finished jobs by state and age: what retention looks for, oldest first.
CREATE INDEX jobs_finished_idx ON jobs (state, finished_at) WHERE state IN ('done', 'failed');

-- Retention: removes done jobs that finished more than job_retention_done ago and failed ones
-- older than job_retention_failed (0: kept for ever), oldest first, in batches of at most batch
-- rows of each state, at most max_batches batches per call. The workers call it every 5 s, so a
-- backlog (say after an update from 0.1.0) goes at up to 10,000 rows of each state per call,
-- without a long transaction (about a second with 10 million jobs, bench/history.sh). Never a queued or running job; rows someone else holds locked
-- are left for the next call. Returns how many jobs it removed.
CREATE FUNCTION _remove_old_jobs(batch integer DEFAULT 1000, max_batches integer DEFAULT 10) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    keep_done interval := current_setting('resume_pipeline.job_retention_done')::interval;
    keep_failed interval := current_setting('resume_pipeline.job_retention_failed')::interval;
    removed bigint := 0;
    n integer;
    m integer;
BEGIN
    FOR i IN 1 .. max_batches LOOP
        n := 0;
        m := 0;
        -- Each state spelled out, so that the plan is always the partial index's (a parameter
        -- for the state could not use it).
        IF keep_done > interval '0' THEN
            DELETE FROM @extschema@.jobs
             WHERE ctid = ANY (ARRAY(SELECT j.ctid FROM @extschema@.jobs j
                                      WHERE j.state = 'done' AND j.finished_at < now() - keep_done
                                      ORDER BY j.finished_at LIMIT batch
                                        FOR UPDATE SKIP LOCKED));
            GET DIAGNOSTICS n = ROW_COUNT;
        END IF;
        IF keep_failed > interval '0' THEN
            DELETE FROM @extschema@.jobs
             WHERE ctid = ANY (ARRAY(SELECT j.ctid FROM @extschema@.jobs j
                                      WHERE j.state = 'failed' AND j.finished_at < now() - keep_failed
                                      ORDER BY j.finished_at LIMIT batch
                                        FOR UPDATE SKIP LOCKED));
            GET DIAGNOSTICS m = ROW_COUNT;
        END IF;
        removed := removed + n + m;
        EXIT WHEN n < batch AND m < batch;
    END LOOP;
    RETURN removed;
END
$$;
INSERT INTO housekeeping (task, every) VALUES ('_remove_old_jobs', interval '1 second');
