#!/usr/bin/env bash
# How long an analysis session over RESUMES (50) résumés takes, from start_analysis() to the
# session's completed_at, with ONE worker and resume_pipeline.max_concurrent_tasks = TASKS (10):
#   - the built-in scorer (no network);
#   - the model stand-in answering after LATENCY_MS (500), one live call per résumé; the ideal is
#     RESUMES / (TASKS - 1) rounds of LATENCY_MS (one user may hold all slots but one), and the
#     ratio ideal / measured says how close the worker comes to it;
#   - the same through OpenAI's Batch API (the stand-in completes a batch in BATCH_MS, 300).
# The résumés are read first (built-in parser, filesystem storage), untimed.
#
#   bench/analysis_session.sh            RESUMES=200 LATENCY_MS=250 bench/analysis_session.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RESUMES=${RESUMES:-50}
LATENCY_MS=${LATENCY_MS:-500}
TASKS=${TASKS:-10}
BATCH_MS=${BATCH_MS:-300}
[[ $RESUMES =~ ^[1-9][0-9]*$ && $LATENCY_MS =~ ^[0-9]+$ && $TASKS =~ ^[0-9]+$ && $TASKS -ge 2 && $BATCH_MS =~ ^[0-9]+$ ]] ||
    { echo "RESUMES, LATENCY_MS, BATCH_MS must be integers, TASKS at least 2" >&2; exit 1; }
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. scripts/lib/cluster.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. scripts/lib/db.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/bench.sh
. scripts/lib/bench.sh
# shellcheck source=SCRIPTDIR/../test/lib/servers.sh
. test/lib/servers.sh
WORK=$(mktemp -d /tmp/rp-bench-analysis.XXXXXX)
chmod 755 "$WORK"
cleanup() { servers_stop; cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

[ -x tools/make_documents ] || make -s tools/make_documents
why=$(servers_have_node) || { echo "cannot run: $why" >&2; exit 1; }
KEY="sk-bench-$RANDOM$RANDOM"
servers_openai "$WORK" "$KEY" --rpm 1000000 --tpm 1000000000 || { cat "$WORK/openai.err" >&2; exit 1; }

cluster_start "resume_pipeline.workers = 1" "resume_pipeline.max_concurrent_tasks = $TASKS" \
    "resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" "resume_pipeline.openai_api_key = '$KEY'" \
    "resume_pipeline.request_timeout_ms = 60000"
q -c 'CREATE EXTENSION resume_pipeline' >/dev/null
bench_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
no_open_jobs="SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))"

# The résumés, half written for the postings' trade.
for i in $(seq 1 "$RESUMES"); do
    if [ $((i % 2)) = 0 ]; then
        printf 'Backend Person %d\nb%d@example.org\nEXPERIENCE\nBackend Engineer, Company %d, 2016 - present\nGo services on PostgreSQL.\nSKILLS\nGo, PostgreSQL, Kubernetes\n' "$i" "$i" "$i"
    else
        printf 'Kitchen Person %d\nk%d@example.org\nEXPERIENCE\nHead Chef, Bistro %d, 2014 - present\nSeasonal menus.\nSKILLS\nPastry, Butchery\n' "$i" "$i" "$i"
    fi >"$WORK/$i.txt"
    tools/make_documents pdf "$WORK/$i.pdf" "$WORK/$i.txt"
done
chmod -R a+rX "$WORK"
load_files postgres docs "$WORK"/*.pdf
q >/dev/null <<SQL
SELECT count(resume_pipeline.upload('resumes', name, data, '{}', '$USER_ID')) FROM docs;
INSERT INTO resume_pipeline.job_postings (id, user_id, title, description, required_skills)
SELECT ('dddddddd-0000-4000-8000-00000000000' || n)::uuid, '$USER_ID', 'Backend Engineer ' || n,
       'Go services on PostgreSQL and Kubernetes.', '{Go,PostgreSQL,Kubernetes}'
  FROM generate_series(1, 3) n;
SQL
bench_wait "$no_open_jobs" 300

# session POSTING-NUMBER — seconds from start_analysis to completed_at, and the rows it wrote.
session() {
    local id
    id=$(q -c "SET request.jwt.claims = '{\"sub\": \"$USER_ID\"}'" \
           -c "SELECT resume_pipeline.start_analysis('dddddddd-0000-4000-8000-00000000000$1', 'bench $1')")
    bench_wait "SELECT status <> 'running' FROM resume_pipeline.analysis_sessions WHERE id = '$id'" 600
    q -F ' ' -c "SELECT s.status, extract(epoch FROM s.completed_at - s.created_at),
                        (SELECT count(*) FROM resume_pipeline.resume_analyses ra WHERE ra.analysis_session_id = s.id)
                   FROM resume_pipeline.analysis_sessions s WHERE s.id = '$id'"
}

read -r st_b s_b n_b <<<"$(session 1)"
q -c "ALTER SYSTEM SET resume_pipeline.llm_provider = 'openai'" -c 'SELECT pg_reload_conf()' >/dev/null
curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/config" -H 'Content-Type: application/json' \
    -d "{\"latency_ms\": $LATENCY_MS, \"batch_ms\": $BATCH_MS}" >/dev/null
sleep 1
read -r st_m s_m n_m <<<"$(session 2)"
q -c "ALTER SYSTEM SET resume_pipeline.openai_batch = on" -c 'SELECT pg_reload_conf()' >/dev/null
sleep 1
read -r st_x s_x n_x <<<"$(session 3)"
for st in "$st_b" "$st_m" "$st_x"; do
    [ "$st" = completed ] || { echo "a session ended $st" >&2; exit 1; }
done

awk -v n="$RESUMES" -v lat="$LATENCY_MS" -v tasks="$TASKS" -v bms="$BATCH_MS" -v sb="$s_b" -v nb="$n_b" \
    -v sm="$s_m" -v nm="$n_m" -v sx="$s_x" -v nx="$n_x" -v cores="$(nproc)" 'BEGIN {
    printf "\nanalysis session benchmark: %d résumés, 1 worker with %d slots, %d cores\n", n, tasks, cores
    printf "built-in scorer:            %6.2f s (%d analyses, %.1f ms each)\n", sb, nb, 1000 * sb / n
    ideal = int((n + tasks - 2) / (tasks - 1)) * lat / 1000
    printf "model answering in %d ms: %6.2f s (%d analyses); ideal %.2f s (%d in flight); ratio %.2f\n",
        lat, sm, nm, ideal, tasks - 1, ideal / sm
    printf "Batch API (%d ms batch):   %6.2f s (%d analyses; one upload, one batch, polled)\n", bms, sx, nx
}'
