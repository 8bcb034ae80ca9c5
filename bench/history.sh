#!/usr/bin/env bash
# What history costs (README "Job history"):
#   1. metrics(), health() and job_overview (as the pipeline's owner, and job_overview and
#      metrics() as one user of USERS) timed with 0, 1,000,000 and 10,000,000 finished jobs in
#      jobs, beside a live queue of 100 queued and 10 running jobs that stays the same: median
#      and 90th percentile of REPS calls each, in the server, and the ratios of the largest level
#      to the first (0, target about 1) and to the one before it (between 0 and 1 million
#      job_counts fills up to one row per user, kind and state, which is what the calls grow with);
#   2. retention of those 10 million: _remove_old_jobs() called until it has nothing left, as the
#      workers call it, rows removed per second, the size of jobs before and after (and after
#      VACUUM FULL: what the kept rows take), and the calls timed again;
#   3. what counting a finished job costs: FINISH jobs finished one per transaction (the
#      workers' UPDATE), with the count_finished trigger and without, alternating.
#
# The finished jobs are generated with INSERT … SELECT generate_series (a million per
# statement): 95 % done and 5 % failed, 4 kinds, USERS users (every combination present),
# finished over the last 60 days (oldest first), with a payload like a résumé job's. Inserting
# a finished job does not count it (only the transition to done or failed does, see the
# trigger), so job_counts is then set from the generated rows with the same statement the
# update from 0.1.0 uses to count existing jobs: one row per user, kind and state, what folding
# leaves. The workers are off (the figures are the
# calls' own; retention is called here). Takes 5 to 15 minutes and about 6 GB of disk.
#
#   bash bench/history.sh        LEVELS="0 100000" REPS=10 bash bench/history.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEVELS=${LEVELS:-0 1000000 10000000}
REPS=${REPS:-20}
USERS=${USERS:-100}
FINISH=${FINISH:-20000}
for v in $LEVELS "$REPS" "$USERS" "$FINISH"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "LEVELS, REPS, USERS and FINISH must be integers" >&2; exit 1; }
done

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. "$ROOT/scripts/lib/db.sh"
trap 'cluster_stop' EXIT
cluster_start "resume_pipeline.workers = 0" "max_wal_size = '8GB'" "checkpoint_timeout = '30min'" \
    "maintenance_work_mem = '512MB'"

q >/dev/null <<SQL
CREATE EXTENSION resume_pipeline;
CREATE ROLE rp_bench_user LOGIN IN ROLE resume_pipeline_user;
CREATE TABLE bench_users AS
SELECT n, ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid AS id FROM generate_series(0, $USERS - 1) n;
-- The live queue, the same at every level: 100 queued (not due) and 10 running jobs.
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, run_after)
SELECT u.id, 'resume', gen_random_uuid(), 'queued', now() + interval '1 year'
  FROM generate_series(1, 100) i JOIN bench_users u ON u.n = i % $USERS;
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, started_at, lease_expires_at, attempts)
SELECT u.id, 'cv', gen_random_uuid(), 'running', now(), now() + interval '1 year', 1
  FROM generate_series(1, 10) i JOIN bench_users u ON u.n = i % $USERS;

-- bench_time(statement, reps): median and 90th percentile in ms of reps executions, after one.
CREATE FUNCTION bench_time(stmt text, reps int, OUT median_ms float8, OUT p90_ms float8)
    LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    times float8[] := '{}';
BEGIN
    EXECUTE stmt;
    FOR i IN 1 .. reps LOOP
        t0 := clock_timestamp();
        EXECUTE stmt;
        times := times || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
    END LOOP;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x)
      INTO median_ms, p90_ms FROM unnest(times) x;
END
\$\$;
GRANT SELECT ON bench_users TO rp_bench_user;

-- add_finished(from, to): jobs from .. to of the 10 million, finished at evenly spaced times
-- over the 60 days before now (job 1 the oldest).
CREATE FUNCTION add_finished(a bigint, b bigint) RETURNS void LANGUAGE sql AS \$\$
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, payload, state, attempts, run_after, created_at,
                                  started_at, finished_at, fair_at, last_error)
SELECT u.id, (ARRAY['resume', 'cv', 'ai', 'zip']::resume_pipeline.job_kind[])[1 + (i / s.users) % 4],
       resume_pipeline._new_job_id(), jsonb_build_object('read_version', 1, 'read_file', gen_random_uuid()),
       CASE WHEN t.failed THEN 'failed' ELSE 'done' END::resume_pipeline.job_state, 1, t.created, t.created,
       t.created + interval '50 ms', t.created + (i % 997) * interval '1 ms' + interval '100 ms', t.created,
       CASE WHEN t.failed THEN 'PDF is damaged or truncated and cannot be read' END
  FROM (SELECT count(*) AS users FROM bench_users) s
 CROSS JOIN generate_series(a, b) i
  JOIN bench_users u ON u.n = i % s.users
 CROSS JOIN LATERAL (SELECT (i / (4 * s.users)) % 20 = 0 AS failed,
                            now() - interval '60 days' + (i - 1) * (interval '60 days' / 10000000) AS created) t

\$\$;

-- recount(): job_counts from the finished jobs in jobs (_count_jobs_finished_before(), which the
-- update from 0.1.0 runs).
CREATE FUNCTION recount() RETURNS void LANGUAGE sql AS \$\$
DELETE FROM resume_pipeline.job_counts;
SELECT resume_pipeline._count_jobs_finished_before();
\$\$;
SQL
user1=$(q -c "SELECT id FROM bench_users WHERE n = 1")

# time_calls LABEL — one line per call: label, call, median, p90 (ms), into $OUT.
OUT=$(mktemp /tmp/rp-bench-history.XXXXXX)
time_calls() {
    q -F ' ' -c "SELECT '$1', 'metrics()', * FROM bench_time('SELECT resume_pipeline.metrics()', $REPS)" \
        -c "SELECT '$1', 'health()', * FROM bench_time('SELECT resume_pipeline.health()', $REPS)" \
        -c "SELECT '$1', 'job_overview', * FROM bench_time('SELECT * FROM resume_pipeline.job_overview', $REPS)" >>"$OUT"
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$user1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -v ON_ERROR_STOP=1 -U rp_bench_user -F ' ' \
        -c "SELECT '$1', 'metrics()_user', * FROM bench_time('SELECT resume_pipeline.metrics()', $REPS)" \
        -c "SELECT '$1', 'job_overview_user', * FROM bench_time('SELECT * FROM resume_pipeline.job_overview', $REPS)" >>"$OUT"
}
size_line() {
    q -F ' ' -c "SELECT count(*), round(pg_table_size('resume_pipeline.jobs') / 1048576.0, 1),
                        round(pg_indexes_size('resume_pipeline.jobs') / 1048576.0, 1),
                        round(pg_total_relation_size('resume_pipeline.jobs') / 1048576.0, 1),
                        (SELECT count(*) FROM resume_pipeline.job_counts)
                   FROM resume_pipeline.jobs"
}

echo "history benchmark: $USERS users, a live queue of 100 queued and 10 running jobs, $REPS calls per figure, $(nproc) cores"
have=0
for level in $LEVELS; do
    if [ "$level" -gt "$have" ]; then
        t0=$SECONDS
        from=$((have + 1))
        while [ "$from" -le "$level" ]; do
            to=$((from + 999999)); [ "$to" -le "$level" ] || to=$level
            q -c "SELECT add_finished($from, $to)" >/dev/null
            from=$((to + 1))
        done
        q -c "SELECT recount()" -c "VACUUM ANALYZE resume_pipeline.jobs" -c "CHECKPOINT" >/dev/null
        have=$level
        echo "  generated $level finished jobs in $((SECONDS - t0)) s"
    fi
    read -r rows table idx total counters <<<"$(size_line)"
    echo "  level $level: jobs has $rows rows, table $table MB + indexes $idx MB = $total MB; job_counts $counters rows"
    time_calls "$level"
done

# Retention, as the workers run it: a call every round until none is left, each its own transaction.
first=$(awk '{print $1; exit}' <<<"$LEVELS")
second=$(awk '{print (NF > 2 ? $(NF - 1) : $1)}' <<<"$LEVELS")
last=$(awk '{print $NF}' <<<"$LEVELS")
if [ "$last" -gt 0 ]; then
    before=$(size_line)
    read -r ret_n ret_s ret_calls ret_med <<<"$(q -F ' ' <<'SQL'
CREATE TEMP TABLE calls (n bigint, ms float8);
DO $$
DECLARE
    t0 timestamptz;
    n bigint;
BEGIN
    LOOP
        t0 := clock_timestamp();
        n := resume_pipeline._remove_old_jobs();
        INSERT INTO calls VALUES (n, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
        EXIT WHEN n = 0;
    END LOOP;
END
$$;
SELECT sum(n), round(sum(ms)::numeric / 1000, 2), count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
  FROM calls;
SQL
)"
    q -c "VACUUM ANALYZE resume_pipeline.jobs" >/dev/null
    after=$(size_line)
    q -c "VACUUM FULL resume_pipeline.jobs" -c "ANALYZE resume_pipeline.jobs" >/dev/null
    full=$(size_line)
    time_calls retained
fi

# Counting a finished job: FINISH queued jobs finished one per transaction, as _job_done does,
# with the trigger and without (ALTER TABLE … DISABLE TRIGGER count_finished), three rounds each.
finish_round() {  # enable|disable
    q -c "ALTER TABLE resume_pipeline.jobs $1 TRIGGER count_finished" >/dev/null
    q -F ' ' <<SQL
CREATE TEMP TABLE todo AS
WITH ins AS (
    INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, run_after, started_at, attempts, lease_expires_at)
    SELECT u.id, 'resume', gen_random_uuid(), 'running', now() + interval '1 year', now(), 1, now() + interval '1 year'
      FROM generate_series(1, $FINISH) i JOIN bench_users u ON u.n = i % $USERS
    RETURNING id)
SELECT id FROM ins;
CHECKPOINT;
DO \$\$
DECLARE
    j uuid;
    t0 timestamptz := clock_timestamp();
BEGIN
    FOR j IN SELECT id FROM todo LOOP
        UPDATE resume_pipeline.jobs SET state = 'done', finished_at = clock_timestamp(), last_error = NULL,
                                        lease_expires_at = NULL
         WHERE id = j;
        COMMIT;
    END LOOP;
    RAISE NOTICE 'us_per_job %', round((extract(epoch FROM clock_timestamp() - t0) * 1e6 / $FINISH)::numeric, 1);
END
\$\$;
SQL
}
declare -a with_us=() without_us=()
if [ "$FINISH" -gt 0 ]; then
    for round in 1 2 3; do
        for mode in enable disable; do
            [ $((round % 2)) = 0 ] && mode=$([ "$mode" = enable ] && echo disable || echo enable)
            us=$(finish_round "$mode" 2>&1 | sed -n 's/.*us_per_job \([0-9.]*\).*/\1/p')
            if [ "$mode" = enable ]; then with_us+=("$us"); else without_us+=("$us"); fi
        done
    done
    q -c "ALTER TABLE resume_pipeline.jobs ENABLE TRIGGER count_finished" >/dev/null
fi

echo
printf '%-20s' "call (ms, median/p90)"
for level in $LEVELS; do printf '%22s' "$level finished"; done
[ "$last" -gt 0 ] && printf '%22s' "after retention"
printf '%16s%16s\n' "ratio $last/$first" "ratio $last/$second"
for call in 'metrics()' 'health()' 'job_overview' 'metrics()_user' 'job_overview_user'; do
    printf '%-20s' "${call/_user/ (user)}"
    for level in $LEVELS retained; do
        awk -v l="$level" -v c="$call" '$1 == l && $2 == c { printf "%22s", sprintf("%.2f / %.2f", $3, $4) }' "$OUT"
    done
    awk -v f="$first" -v s="$second" -v t="$last" -v c="$call" '$2 == c && $1 == f { a = $3 } $2 == c && $1 == s { m = $3 }
        $2 == c && $1 == t { b = $3 }
        END { printf "%15.2fx%15.2fx\n", (a > 0 ? b / a : 0), (m > 0 ? b / m : 0) }' "$OUT"
done
if [ "$last" -gt 0 ]; then
    echo
    echo "retention: removed $ret_n finished jobs in $ret_s s over $ret_calls calls ($(awk -v n="$ret_n" -v s="$ret_s" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') rows/s; median call $ret_med ms)"
    for what in before after full; do
        read -r rows table idx total counters <<<"${!what}"
        case $what in
            before) label="before retention";; after) label="after (VACUUM)";; full) label="after VACUUM FULL";;
        esac
        printf '  jobs %-18s %10s rows, table %9s MB + indexes %9s MB = %9s MB\n' "$label:" "$rows" "$table" "$idx" "$total"
    done
fi
if [ "${#with_us[@]}" -gt 0 ]; then
    med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
    w=$(med "${with_us[@]}"); wo=$(med "${without_us[@]}")
    echo
    echo "finishing a job (UPDATE to done, one transaction each, $FINISH jobs x 3 rounds): with counting ${with_us[*]} us," \
         "without ${without_us[*]} us"
    awk -v w="$w" -v wo="$wo" 'BEGIN { printf "  medians %.1f / %.1f us per job: counting adds %.1f us, ratio without/with %.3f\n", w, wo, w - wo, wo / w }'
fi
rm -f "$OUT"
