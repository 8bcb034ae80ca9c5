#!/usr/bin/env bash
# The whole embedded pipeline on real résumés: ../shared/corpus/resumes ROUNDS (10) times over
# (about 200 PDFs of one to five pages, each copy under its own name) uploaded in ONE transaction,
# until every job is done, with the background workers (default 2) on this machine's cores.
# Printed beside the raw poppler rate measured in the same run: pdftotext over the same files,
# as many in parallel as there are cores. Target: at least 100 résumés per second on 2 cores.
# Also the CPU the cluster used per résumé (every process of it, parser processes included: a
# figure the machine's other load skews less than the rate) and the workers' and the parser
# processes' peak memory (VmHWM).
#
#   bench/corpus_pipeline.sh           ROUNDS=5 bench/corpus_pipeline.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-10}
CORPUS=${CORPUS_DIR:-$ROOT/../shared/corpus/resumes}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
ls "$CORPUS"/*.pdf >/dev/null 2>&1 || { echo "no corpus at $CORPUS: nothing to measure"; exit 0; }
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. scripts/lib/cluster.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. scripts/lib/db.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/bench.sh
. scripts/lib/bench.sh
# shellcheck source=SCRIPTDIR/cpu.sh
. bench/cpu.sh
WORK=$(mktemp -d /tmp/rp-bench-corpus.XXXXXX)
trap 'cluster_stop; rm -rf "$WORK"' EXIT
cluster_start
q -c 'CREATE EXTENSION resume_pipeline' >/dev/null
load_files postgres corpus "$CORPUS"/*.pdf
n_files=$(q -c "SELECT count(*) FROM corpus")
n=$((n_files * ROUNDS))

no_open_jobs="SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))"
workers=$(q -c "SHOW resume_pipeline.workers")
bench_wait "SELECT count(*) = $workers FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30

# Warm-up (untimed): one round, so every slot's parser process is started, as on a running server.
q -c "SELECT count(resume_pipeline.upload('resumes', 'warm/' || name, data, '{}', '$USER_ID')) FROM corpus" >/dev/null
bench_wait "$no_open_jobs" 300

# The pipeline: every copy in one transaction; the clock and the CPU count start just before its
# COMMIT.
q >/dev/null <<SQL
CREATE TABLE marks(label text PRIMARY KEY, t timestamptz NOT NULL);
BEGIN;
SELECT count(resume_pipeline.upload('resumes', 'r' || i || '/' || name, data, '{}', '$USER_ID'))
  FROM corpus, generate_series(1, $ROUNDS) i;
INSERT INTO marks VALUES ('pipeline', clock_timestamp());
\\! RP_CLUSTER_DIR=$RP_CLUSTER_DIR bash $ROOT/bench/cpu.sh >$WORK/cpu_start
COMMIT;
SQL
bench_wait "$no_open_jobs" 1800
cpu_ms=$(($(cluster_cpu_ms) - $(cat "$WORK/cpu_start")))
read -r done failed seconds <<<"$(q -F ' ' -c "
    SELECT count(*) FILTER (WHERE r.status = 'completed'), count(*) FILTER (WHERE r.status = 'failed'),
           extract(epoch FROM max(r.updated_at) - m.t)
      FROM resume_pipeline.resumes r, marks m WHERE m.label = 'pipeline' AND r.object_name ~ '/r[0-9]+/'
     GROUP BY m.t")"
worker_rss=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" |
    tr ' ' '\n' | while read -r pid; do awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null; done |
    sort -n | tail -1)
parser_rss=$(for pid in $(pgrep -f resume_pipeline_parser); do awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null; done |
    sort -n | tail -1)

# Raw poppler on the same files, as many at once as there are cores: pdftotext per file.
cores=$(nproc)
for i in $(seq 1 "$ROUNDS"); do for f in "$CORPUS"/*.pdf; do echo "$f"; done; done >"$WORK/list"
start=$(date +%s.%N)
xargs -P "$cores" -I{} pdftotext -q {} /dev/null <"$WORK/list" || true
poppler_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

awk -v n="$n" -v done="$done" -v failed="$failed" -v s="$seconds" -v ps="$poppler_s" -v cores="$cores" \
    -v workers="$workers" -v cpu="$cpu_ms" -v wrss="${worker_rss:-0}" -v prss="${parser_rss:-0}" -v files="$n_files" -v rounds="$ROUNDS" 'BEGIN {
    printf "\nembedded pipeline on the corpus: %d PDFs (%d résumés x %d), one transaction, %d workers, %d cores\n", n, files, rounds, workers, cores
    printf "pipeline : %7.1f résumés/s  (%d completed, %d failed, last stored %.2f s after COMMIT)  (issue 10: >= 100 where poppler does 190)\n", n / s, done, failed, s
    printf "poppler  : %7.1f PDFs/s     (pdftotext over the same files, %d at once, %.2f s)\n", n / ps, cores, ps
    # The issue set 100 résumés/s against 190 PDFs/s for poppler on the same 2 cores: on a shared
    # machine the ratio to poppler measured in the same run is the figure that carries over.
    printf "ratio pipeline / poppler: %.2f  (target >= 0.53 = 100/190)\n", (n / s) / (n / ps)
    printf "CPU      : %7.1f ms per résumé (the whole cluster, parser processes included, from COMMIT): at most %.0f/s on %d otherwise idle cores\n", cpu / n, cores * 1000 * n / cpu, cores
    printf "peak RSS: worker %.1f MB, parser process (zygote) %.1f MB\n", wrss / 1024, prss / 1024
}'
