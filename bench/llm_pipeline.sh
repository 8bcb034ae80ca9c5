#!/usr/bin/env bash
# Résumés per second through the whole network pipeline with ONE worker: documents stored on S3
# (@20minutes/s3rver, SigV4-checked), fetched by the worker, text extracted in its parser
# processes, read by an OpenAI-compatible model stand-in that answers after LATENCY_MS (500), and
# stored with what each call cost. Two runs of UPLOADS (500) distinct résumés, with
# resume_pipeline.max_concurrent_tasks = 10, then 64. For each: résumés per second from COMMIT to
# the last one stored, the ideal (concurrency / latency) and the ratio to it (target at 64: at
# least 0.80, about 100 per second), the worker's peak RSS, and the token totals the rows recorded.
#
#   bench/llm_pipeline.sh            UPLOADS=200 LATENCY_MS=250 bench/llm_pipeline.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
UPLOADS=${UPLOADS:-500}
LATENCY_MS=${LATENCY_MS:-500}
[[ $UPLOADS =~ ^[1-9][0-9]*$ && $LATENCY_MS =~ ^[0-9]+$ ]] || { echo "UPLOADS and LATENCY_MS must be integers" >&2; exit 1; }
# The uploads are spread over four users of the product, as a hiring app's are: one user alone may
# hold all of a worker's slots but one (fairness), which would cap the run at 63 in flight.
USERS="ARRAY['aaaaaaaa-0000-4000-8000-00000000000a', 'bbbbbbbb-0000-4000-8000-00000000000b',
             'cccccccc-0000-4000-8000-00000000000c', 'dddddddd-0000-4000-8000-00000000000d']::uuid[]"
PG_NET_REQ_S=161 # given: pg_net sends 161 bare requests per second against a 500 ms endpoint
SEEDS_REQ_S=20   # given: the seeds' service holds 10 in flight, 20 per second

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. scripts/lib/cluster.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. scripts/lib/db.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/bench.sh
. scripts/lib/bench.sh
# shellcheck source=SCRIPTDIR/../test/lib/servers.sh
. test/lib/servers.sh
WORK=$(mktemp -d /tmp/rp-bench-llm.XXXXXX)
chmod 755 "$WORK"
cleanup() { servers_stop; cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

[ -x tools/make_documents ] || make -s tools/make_documents
why=$(servers_have_node) || { echo "cannot run: $why" >&2; exit 1; }
KEY="sk-bench-$RANDOM$RANDOM" ACCESS="bench-access" SECRET="bench-secret-$RANDOM$RANDOM"
servers_openai "$WORK" "$KEY" --latency "$LATENCY_MS" --rpm 1000000 --tpm 1000000000 || { cat "$WORK/openai.err" >&2; exit 1; }
servers_s3 "$WORK" "$ACCESS" "$SECRET" resume-pipeline || { cat "$WORK/s3.err" >&2; exit 1; }

cluster_start "resume_pipeline.workers = 1" "resume_pipeline.llm_provider = 'openai'" \
    "resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" "resume_pipeline.openai_api_key = '$KEY'" \
    "resume_pipeline.storage_backend = 's3'" "resume_pipeline.s3_endpoint = 'http://127.0.0.1:$RP_S3_PORT'" \
    "resume_pipeline.s3_access_key = '$ACCESS'" "resume_pipeline.s3_secret_key = '$SECRET'" \
    "resume_pipeline.s3_bucket = 'resume-pipeline'" "resume_pipeline.request_timeout_ms = 60000"
q -c 'CREATE EXTENSION resume_pipeline' >/dev/null

no_open_jobs="SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))"
bench_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30

# Distinct résumés (the model's answers are cached by text): COUNT PDFs named RUN/N.pdf, loaded untimed
# into the table docs_RUN.
make_docs() {
    local run=$1 count=$2 i
    mkdir -p "$WORK/$run"
    for i in $(seq 1 "$count"); do
        printf 'Candidate %s %d\ncandidate.%s.%d@example.org\nSenior Engineer\nSKILLS\nSkills: Go, SQL, Kafka\nEXPERIENCE\nAcme Corp, 2019 - present\n' \
            "$run" "$i" "$run" "$i" >"$WORK/$run/$i.txt"
        tools/make_documents pdf "$WORK/$run/$i.pdf" "$WORK/$run/$i.txt"
    done
    chmod -R a+rX "$WORK/$run"
    load_files postgres "docs_$run" "$WORK/$run"/*.pdf
}

# run TASKS — one timed run; prints "tasks done seconds rss_kb prompt completion".
run() {
    local tasks=$1 run="c$1"
    make_docs "$run" "$UPLOADS"
    make_docs "warm$run" "$tasks"
    q -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = $tasks" -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
    # Warm-up (untimed), as on a running server: TASKS other résumés at once start every slot's
    # parser process and open the connections to S3 and the model.
    q -c "SELECT count(resume_pipeline.upload('resumes', 'warm$run/' || name, data, '{}', ($USERS)[1 + split_part(name, '.', 1)::int % 4]))
            FROM docs_warm$run" >/dev/null
    bench_wait "$no_open_jobs" 120
    # All uploads in ONE transaction (each object is PUT to S3 during it); the clock starts just
    # before COMMIT, in the same transaction.
    q >/dev/null <<SQL
CREATE TABLE IF NOT EXISTS marks(label text PRIMARY KEY, t timestamptz NOT NULL);
BEGIN;
SELECT count(resume_pipeline.upload('resumes', '$run/' || name, data, '{}', ($USERS)[1 + split_part(name, '.', 1)::int % 4]))
  FROM docs_$run;
INSERT INTO marks VALUES ('$run', clock_timestamp());
COMMIT;
SQL
    bench_wait "$no_open_jobs" 1200
    local worker_pid rss
    worker_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' LIMIT 1")
    rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$worker_pid/status" 2>/dev/null || echo 0)
    q -F ' ' -c "
        SELECT $tasks, count(*) FILTER (WHERE r.status = 'completed'),
               extract(epoch FROM max(r.updated_at) - m.t), $rss,
               coalesce(sum((r.llm_usage ->> 'prompt_tokens')::bigint), 0),
               coalesce(sum((r.llm_usage ->> 'completion_tokens')::bigint), 0),
               round(avg((SELECT extract(epoch FROM j.finished_at - j.started_at) * 1000 FROM resume_pipeline.jobs j
                           WHERE j.target_id = r.id ORDER BY j.finished_at DESC LIMIT 1))),
               round(avg((r.llm_usage ->> 'milliseconds')::float8))
          FROM resume_pipeline.resumes r, marks m
         WHERE m.label = '$run' AND r.object_name LIKE '%/$run/%'
         GROUP BY m.t"
}

r10=$(run 10)
r64=$(run 64)
read -r _ done10 s10 rss10 p10 c10 job10 model10 <<<"$r10"
read -r _ done64 s64 rss64 p64 c64 job64 model64 <<<"$r64"
requests=$(curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests?path=/v1/chat/completions" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).count))')
[ "$done10" = "$UPLOADS" ] && [ "$done64" = "$UPLOADS" ] ||
    { echo "not every résumé completed: $done10 and $done64 of $UPLOADS" >&2; exit 1; }

awk -v n="$UPLOADS" -v lat="$LATENCY_MS" -v s10="$s10" -v s64="$s64" -v rss10="$rss10" -v rss64="$rss64" \
    -v p10="$p10" -v c10="$c10" -v p64="$p64" -v c64="$c64" -v job10="$job10" -v job64="$job64" -v model10="$model10" -v model64="$model64" -v req="$requests" -v net="$PG_NET_REQ_S" \
    -v seeds="$SEEDS_REQ_S" -v cores="$(nproc)" 'BEGIN {
    printf "\nmodel pipeline benchmark: %d distinct résumé PDFs per run, S3 stand-in + model stand-in answering after %d ms, 1 worker, %d cores\n", n, lat, cores
    split("10 64", tasks, " ")
    s[10] = s10; s[64] = s64; rss[10] = rss10; rss[64] = rss64; p[10] = p10; c[10] = c10; p[64] = p64; c[64] = c64
    job[10] = job10; job[64] = job64; model[10] = model10; model[64] = model64
    for (i = 1; i <= 2; i++) {
        t = tasks[i]; rate = n / s[t]; ideal = t / (lat / 1000)
        printf "max_concurrent_tasks %2d: %6.1f résumés/s (%d in %.2f s after COMMIT); ideal %5.1f/s; ratio %.2f%s\n",
            t, rate, n, s[t], ideal, rate / ideal, t == 64 ? "  (target >= 0.80)" : ""
        printf "                         a job takes %d ms from claim to stored, %d ms of it the model call\n", job[t], model[t]
        printf "                         worker peak RSS %.1f MB; tokens recorded: %d prompt + %d completion\n",
            rss[t] / 1024, p[t], c[t]
    }
    printf "model requests seen by the stand-in: %d (with the 10 + 64 warm-up résumés)\n", req
    printf "ratio 64 / 10 in flight: %.2fx; vs pg_net (%d req/s, given): %.2fx; vs the seeds (%d/s, given): %.2fx\n",
        s10 / s64, net, (n / s64) / net, seeds, (n / s64) / seeds
}'
