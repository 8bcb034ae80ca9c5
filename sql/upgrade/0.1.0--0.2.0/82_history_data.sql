
-- Jobs that finished under 0.1.0 are counted here, once (the trigger counts those that finish
-- from now on; CREATE TRIGGER holds a lock on jobs until this update commits, so none finishes
-- in between).
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
