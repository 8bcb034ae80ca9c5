#!/usr/bin/env bash
# What the extension's triggers cost a single-row INSERT into resume_pipeline.applicants:
# pgbench TPS with the user triggers enabled (each insert marks the CV pending, queues a 'cv'
# job, arms the commit-time wake-up and announces the status with NOTIFY) against the same
# INSERT with `DISABLE TRIGGER USER` (plain insert; the foreign key check stays, it is a
# system trigger). The workers are off (resume_pipeline.workers = 0) so that processing the
# queued jobs does not compete with the clients for the CPU: this measures the INSERT only.
#
# The machines are shared and their load drifts, so the sides alternate in short runs and the
# figure is the median of the per-round ratios (each round's two runs are seconds apart).
#
#   bench/trigger_overhead.sh         SECONDS_PER_RUN=10 ROUNDS=21 bench/trigger_overhead.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
ROUNDS=${ROUNDS:-11}
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS_PER_RUN must be a positive integer" >&2; exit 1; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
SAMPLE=$ROOT/build/samples/ada_whitfield.pdf
[ -f "$SAMPLE" ] || make -C "$ROOT" samples >/dev/null
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a
PGBENCH=$(pg_config --bindir)/pgbench # ships with the postgresql-15 package on Debian
[ -x "$PGBENCH" ] || { echo "pgbench not found at $PGBENCH" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. "$ROOT/scripts/lib/db.sh"
WORK=$(mktemp -d)
trap 'cluster_stop; rm -rf "$WORK"' EXIT
cluster_start 'resume_pipeline.workers = 0' 'resume_pipeline.max_user_queued_jobs = 2147483647' # pool off from the start; jobs pile up unbounded

q -c 'CREATE EXTENSION resume_pipeline' >/dev/null
load_files postgres samples "$SAMPLE"
# One uploaded file that every inserted applicant names as its CV (the FK and the trigger's
# checks then do their real work). The upload's own 'resume' job is irrelevant here.
file_id=$(q -c "SELECT resume_pipeline.upload('resumes', 'cv.pdf', data, '{}', '$USER_ID') FROM samples")
sleep 1.5 # the launcher checks its setting every second; let it settle before asserting
workers=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'")
[ "$workers" = 0 ] || { echo "expected no workers, found $workers" >&2; exit 1; }

cat >"$WORK/insert.sql" <<SQL
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id) VALUES ('$USER_ID', '$file_id');
SQL

# run_pgbench with|without [SECONDS] — one timed run; prints its TPS (without connection time).
run_pgbench() {
    local out tps
    if [ "$1" = with ]; then
        q -c 'ALTER TABLE resume_pipeline.applicants ENABLE TRIGGER USER'
    else
        q -c 'ALTER TABLE resume_pipeline.applicants DISABLE TRIGGER USER'
    fi
    q -c 'CHECKPOINT' # each run starts without the previous run's dirty buffers to write
    out=$("$PGBENCH" -n -f "$WORK/insert.sql" -c 2 -j 2 -T "${2:-$SECONDS_PER_RUN}" postgres 2>&1) ||
        { echo "pgbench failed:" >&2; echo "$out" >&2; exit 1; }
    tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
    [ -n "$tps" ] || { echo "no tps in pgbench output:" >&2; echo "$out" >&2; exit 1; }
    echo "$tps"
}

# Untimed warm-up of both paths (plans, catalog caches, the first pages of every index).
run_pgbench with 2 >/dev/null; run_pgbench without 2 >/dev/null

# Alternate the two sides, and which goes first, so drift (table growth, autovacuum) hits both.
with=() without=() ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
        with+=("$(run_pgbench with)"); without+=("$(run_pgbench without)")
    else
        without+=("$(run_pgbench without)"); with+=("$(run_pgbench with)")
    fi
    ratios+=("$(awk -v w="${with[-1]}" -v wo="${without[-1]}" 'BEGIN { printf "%.4f", w / wo }')")
    printf 'round %2d: triggers on %9.1f TPS   triggers off %9.1f TPS   ratio %.2f\n' "$r" "${with[-1]}" "${without[-1]}" "${ratios[-1]}"
done
q -c 'ALTER TABLE resume_pipeline.applicants ENABLE TRIGGER USER'
# Sanity: the triggered inserts really queued one job each.
queued=$(q -c "SELECT count(*) FILTER (WHERE j.id IS NOT NULL) || '/' || count(*)
                 FROM resume_pipeline.applicants a
                 LEFT JOIN resume_pipeline.jobs j ON j.kind = 'cv' AND j.target_id = a.id
                WHERE a.cv_status = 'pending'")

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
awk -v w="$(median "${with[@]}")" -v wo="$(median "${without[@]}")" -v ratio="$(median "${ratios[@]}")" -v r="$ROUNDS" \
    -v s="$SECONDS_PER_RUN" -v qd="$queued" -v cores="$(nproc)" 'BEGIN {
    printf "\ntrigger overhead benchmark: single-row INSERT INTO applicants (with cv_file_id), pgbench -c 2 -j 2,\n"
    printf "%d x %d s runs per side, alternating, %d cores; workers OFF (resume_pipeline.workers = 0)\n", r, s, cores
    printf "triggers on  (queues a cv job)      : %9.1f TPS (median)\n", w
    printf "triggers off (DISABLE TRIGGER USER) : %9.1f TPS (median)\n", wo
    printf "ratio on / off (median of rounds)   : %.2fx  (target >= 0.8; pg_net trigger: 0.55x)\n", ratio
    printf "pending applicants with their cv job: %s\n", qd
}'
