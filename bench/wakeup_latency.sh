#!/usr/bin/env bash
# Latency from COMMIT to the job starting, with the background workers (library preloaded,
# resume_pipeline.workers default 2), at a steady 5 commits per second. Each commit is one
# transaction inserting one applicant with a CV, which queues one 'cv' job by trigger. Just
# before COMMIT, in that same transaction, clock_timestamp() is written into the job's payload;
# the worker's claim sets started_at (clock_timestamp). latency = started_at - committed_at,
# so it is conservative: it includes the COMMIT itself, the wake-up and the claim.
#
#   bench/wakeup_latency.sh           JOBS=200 bench/wakeup_latency.sh   (1000 at 5/s = 200 s)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-1000}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "JOBS must be a positive integer" >&2; exit 1; }
RATE=5 # commits per second
SAMPLE=$ROOT/build/samples/ada_whitfield.pdf
[ -f "$SAMPLE" ] || make -C "$ROOT" samples >/dev/null
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a
PG_NET_MEDIAN_MS=500 PG_NET_P99_MS=1000 # given, measured on a machine of this kind with pg_net 0.20

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. "$ROOT/scripts/lib/db.sh"
WORK=$(mktemp -d)
trap 'cluster_stop; rm -rf "$WORK"' EXIT
cluster_start # workers on, serving the default database 'postgres'

q -c 'CREATE EXTENSION resume_pipeline' >/dev/null
load_files postgres samples "$SAMPLE"
file_id=$(q -c "SELECT resume_pipeline.upload('resumes', 'cv.pdf', data, '{}', '$USER_ID') FROM samples")

# wait_for SQL SECONDS — until the query answers t; bounded, fails the script on timeout.
wait_for() {
    local deadline=$((SECONDS + $2))
    until [ "$(q -c "$1")" = t ]; do
        [ $SECONDS -lt $deadline ] || { echo "timed out waiting for: $1" >&2; exit 1; }
        sleep 0.05
    done
}
wait_for "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
# Warm-up (untimed, no committed_at): a few applicants so each worker has started its parser
# process and cached its plans, as on a long-running server.
q -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
      SELECT '$USER_ID', '$file_id' FROM generate_series(1, 4)" >/dev/null
wait_for "SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))" 60

# The paced script for ONE psql session: commit i is due at t0 + i/RATE, so a slow commit
# does not shift the ones after it (no drift); pg_sleep waits out the rest of each slot.
{
    echo "SELECT clock_timestamp() AS t0 \\gset"
    for ((i = 1; i <= JOBS; i++)); do
        cat <<SQL
BEGIN;
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id) VALUES ('$USER_ID', '$file_id') RETURNING id AS aid \\gset
UPDATE resume_pipeline.jobs SET payload = payload || jsonb_build_object('committed_at', clock_timestamp())
 WHERE kind = 'cv' AND target_id = :'aid';
COMMIT;
SELECT pg_sleep(greatest(0, extract(epoch FROM :'t0'::timestamptz + interval '1 second' * $i / $RATE - clock_timestamp())));
SQL
    done
} >"$WORK/commits.sql"
echo "sending $JOBS commits at $RATE/s (about $((JOBS / RATE)) s)..."
q -o /dev/null -f "$WORK/commits.sql"
# Bounded wait for the last jobs (each takes a few ms); then every measured job must be done.
wait_for "SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE payload ? 'committed_at' AND state IN ('queued', 'running'))" 60

stats=$(q -F ' ' <<'SQL'
WITH m AS (
    SELECT extract(epoch FROM started_at - (payload ->> 'committed_at')::timestamptz) * 1000 AS ms,
           (payload ->> 'committed_at')::timestamptz AS committed_at, state
      FROM resume_pipeline.jobs WHERE kind = 'cv' AND payload ? 'committed_at')
SELECT count(*), count(*) FILTER (WHERE state = 'done'),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
       round(min(ms)::numeric, 3), round(max(ms)::numeric, 3),
       round(((count(*) - 1) / nullif(extract(epoch FROM max(committed_at) - min(committed_at)), 0))::numeric, 2)
  FROM m
SQL
)
read -r n n_done med p99 min max rate <<<"$stats"
[ "$n" = "$JOBS" ] && [ "$n_done" = "$JOBS" ] || { echo "expected $JOBS done jobs, got $n_done of $n" >&2; exit 1; }

awk -v n="$n" -v rate="$rate" -v med="$med" -v p99="$p99" -v min="$min" -v max="$max" \
    -v nm="$PG_NET_MEDIAN_MS" -v np="$PG_NET_P99_MS" 'BEGIN {
    printf "\nwake-up latency benchmark: %d commits (one applicant with a CV each, one cv job), 2 workers,\n", n
    printf "achieved rate %.2f commits/s; latency = jobs.started_at - clock_timestamp() just before COMMIT\n", rate
    printf "median : %8.3f ms  (target < 5 ms)    ratio pg_net / ours: %6.0fx  (pg_net median %d ms, given)\n", med, nm / med, nm
    printf "p99    : %8.3f ms  (target < 20 ms)   ratio pg_net / ours: %6.0fx  (pg_net p99 %d ms, given)\n", p99, np / p99, np
    printf "min %.3f ms, max %.3f ms\n", min, max
}'
