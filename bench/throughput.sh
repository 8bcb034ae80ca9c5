#!/usr/bin/env bash
# Jobs per second when 1,000 uploads are queued at once, on the embedded default:
#   (a) the background worker pool (resume_pipeline.workers, default 2) against
#   (b) one session running process_pending(1000) with the workers switched off,
# in the same run, on the same machine. Input: 1,000 uploads of build/samples/ada_whitfield.pdf
# (a small one-page PDF, ~21 KB) under distinct object names, so every job is a real 'resume'
# step: read the object, extract text in the parser process, parse it, write the row. Also the
# CPU the cluster used per job on each side (every process of it, parser processes included).
#
#   bench/throughput.sh               UPLOADS=2000 bench/throughput.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
UPLOADS=${UPLOADS:-1000}
[[ $UPLOADS =~ ^[1-9][0-9]*$ ]] || { echo "UPLOADS must be a positive integer" >&2; exit 1; }
SAMPLE=$ROOT/build/samples/ada_whitfield.pdf
[ -f "$SAMPLE" ] || make -C "$ROOT" samples >/dev/null
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a
PG_NET_JOBS_S=161 # given: pg_net drains 1,000 queued requests at 161/s (500 ms endpoint; 224/s at 0 ms)

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. "$ROOT/scripts/lib/db.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/bench.sh
. "$ROOT/scripts/lib/bench.sh"
# shellcheck source=SCRIPTDIR/cpu.sh
. "$ROOT/bench/cpu.sh"
MARKS=$(mktemp -d /tmp/rp-bench-throughput.XXXXXX)
trap 'cluster_stop; rm -rf "$MARKS"' EXIT
cluster_start # workers on, serving the default database 'postgres'

q -c 'CREATE EXTENSION resume_pipeline' >/dev/null
load_files postgres samples "$SAMPLE"
q -c 'CREATE TABLE marks(label text PRIMARY KEY, t timestamptz NOT NULL)'

workers_up="SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'"
no_open_jobs="SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))"

# upload_batch PREFIX — UPLOADS uploads in ONE transaction (the jobs become visible together at
# COMMIT). The mark is taken just before COMMIT in the same transaction, so the measured span
# includes the commit itself (1,000 storage renames): conservative for the pool. The cluster's CPU
# count (bench/cpu.sh) is read at the same point, into $MARKS/cpu_PREFIX.
upload_batch() {
    q <<SQL
BEGIN;
SELECT count(resume_pipeline.upload('resumes', '$1-' || i || '.pdf', s.data, '{}', '$USER_ID'))
  FROM samples s, generate_series(1, $UPLOADS) i;
INSERT INTO marks VALUES ('$1', clock_timestamp());
\\! RP_CLUSTER_DIR=$RP_CLUSTER_DIR bash $ROOT/bench/cpu.sh >$MARKS/cpu_$1
COMMIT;
SQL
}

# Warm-up (untimed): both workers start their parser processes, as on a long-running server.
bench_wait "$workers_up" 30
for i in 1 2 3 4; do
    q -c "SELECT resume_pipeline.upload('resumes', 'warmup-$i.pdf', data, '{}', '$USER_ID') FROM samples" >/dev/null
done
bench_wait "$no_open_jobs" 60

# (a) Worker pool: commit the batch, then wait (bounded) until every job is finished.
upload_batch pool >/dev/null
bench_wait "$no_open_jobs" 900
pool_cpu_ms=$(($(cluster_cpu_ms) - $(cat "$MARKS/cpu_pool")))
pool=$(q -F ' ' <<SQL
SELECT count(*), count(*) FILTER (WHERE j.state = 'done'),
       extract(epoch FROM max(j.started_at) - m.t), extract(epoch FROM max(j.finished_at) - m.t)
  FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id, marks m
 WHERE j.kind = 'resume' AND r.original_filename LIKE 'pool-%' AND m.label = 'pool'
 GROUP BY m.t
SQL
)
read -r pool_n pool_done pool_start_s pool_finish_s <<<"$pool"

# (b) Baseline: switch the workers off (a reload; the launcher stops them) and wait until none
# is left, so nothing but process_pending touches the second batch.
q -c 'ALTER SYSTEM SET resume_pipeline.workers = 0' -c 'SELECT pg_reload_conf()' >/dev/null
bench_wait "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker')" 30
upload_batch single >/dev/null
# One session; its parser process is started (untimed) before the clock starts, like the
# workers' were. Timed in the server around the one statement.
pp=$(q -F ' ' <<SQL
SELECT length(resume_pipeline.document_text(data)) > 0 AS ok FROM samples \gset warm_
SELECT clock_timestamp() AS t0 \gset
SELECT resume_pipeline.process_pending($UPLOADS) AS ran \gset
SELECT :ran, extract(epoch FROM clock_timestamp() - :'t0');
SQL
)
read -r pp_ran pp_s <<<"$pp"
pp_cpu_ms=$(($(cluster_cpu_ms) - $(cat "$MARKS/cpu_single")))
pp_done=$(q -c "SELECT count(*) FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id
                 WHERE r.original_filename LIKE 'single-%' AND j.state = 'done'")
# Workers back on, as the cluster was.
q -c 'ALTER SYSTEM RESET resume_pipeline.workers' -c 'SELECT pg_reload_conf()' >/dev/null
bench_wait "$workers_up" 30

[ "$pool_done" = "$UPLOADS" ] && [ "$pp_done" = "$UPLOADS" ] && [ "$pp_ran" = "$UPLOADS" ] ||
    { echo "not every job succeeded: pool $pool_done/$pool_n done, process_pending ran $pp_ran, $pp_done done" >&2; exit 1; }

awk -v n="$UPLOADS" -v pc="$pool_cpu_ms" -v bc="$pp_cpu_ms" -v ps="$pool_start_s" -v pf="$pool_finish_s" -v bs="$pp_s" -v net="$PG_NET_JOBS_S" \
    -v cores="$(nproc)" 'BEGIN {
    pool = n / pf; started = n / ps; single = n / bs
    printf "\nthroughput benchmark: %d uploads of ada_whitfield.pdf (one-page PDF, 21 KB) queued in one transaction, %d cores\n", n, cores
    printf "worker pool (2 workers)   : %7.1f jobs/s done    (%d jobs finished %.2f s after COMMIT)\n", pool, n, pf
    printf "                            %7.1f jobs/s started (last job started %.2f s after COMMIT)\n", started, ps
    printf "process_pending (1 session): %6.1f jobs/s done    (%.2f s, workers off)\n", single, bs
    printf "ratio pool / process_pending: %.2fx  (target >= 1.6 on 2 cores)\n", pool / single
    printf "CPU per job (the whole cluster, parser processes included, from COMMIT): pool %.2f ms, process_pending %.2f ms\n", pc / n, bc / n
    printf "ratio pool / pg_net         : %.2fx  (pg_net: %d jobs/s, given, with a 500 ms endpoint; 224/s at 0 ms)\n", pool / net, net
}'
