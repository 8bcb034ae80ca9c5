# The backend's HTTP client: one curl multi handle driven by an event loop (src/pg/net_client.cpp,
# src/pg/net_loop.c). First its GoogleTest cases (build/net_client_test, one line each) against the
# OpenAI stand-in and a fresh s3rver; then, in SQL, _llm_call through it: it still answers end to
# end, and a call the model never answers is stopped at once by statement_timeout, by
# pg_cancel_backend and by pg_terminate_backend (not at the 30 s request timeout), the backend
# usable after. Both servers are stopped by PID, even on an early exit.
nc_dir=$(mktemp -d /tmp/rp-net.XXXXXX)
nc_key="sk-test-$RANDOM$RANDOM-secret"
nc_llm_pid=
nc_s3_pid=

nc_stop() {
    local pid
    for pid in $nc_llm_pid $nc_s3_pid; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    nc_llm_pid= nc_s3_pid=
    rm -rf "$nc_dir"
}
# A run cut short (set -u, an interrupt) still stops the servers: chain onto test/run's EXIT trap.
eval "nc_prev_trap=($(trap -p EXIT))"
trap "nc_stop; ${nc_prev_trap[2]:-}" EXIT

# nc_port FILE PATTERN — the port a server printed, once it did (5 s at most).
nc_port() {
    local port= i
    for i in $(seq 100); do
        port=$(sed -n "$2" "$1")
        [ -n "$port" ] && break
        sleep 0.05
    done
    echo "$port"
}

# The stand-in's count of chat requests whose status is $1 ("hung", 200, …).
nc_seen() {
    curl -s "http://127.0.0.1:$nc_llm_port/_control/requests?path=/v1/chat/completions" |
        node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
            console.log(JSON.parse(s).requests.filter(x => String(x.status) === process.argv[1]).length));' "$1"
}

nc_gtest() {
    if ! make -s net-client-test WERROR=-Werror >build/net_client_build.log 2>&1; then
        t_fail "net_client: build/net_client_test builds with -Werror" "$(tail -30 build/net_client_build.log)"
        return
    fi
    local access="rp-access-$RANDOM" secret="rp-secret-$RANDOM$RANDOM$RANDOM" s3_port= status name
    if [ -f test/node_modules/@20minutes/s3rver/package.json ]; then
        S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret \
            node --openssl-legacy-provider test/s3/start.mjs --directory "$nc_dir/s3" \
            >"$nc_dir/s3.out" 2>"$nc_dir/s3.err" &
        nc_s3_pid=$!
        s3_port=$(nc_port "$nc_dir/s3.out" 's/^port=\([0-9]*\)$/\1/p')
        [ -n "$s3_port" ] || t_fail "net_client: s3rver starts" "$(cat "$nc_dir/s3.err")"
    else
        t_skip "net_client: the S3 cases" "s3rver is not installed (npm ci --prefix test)"
    fi
    OPENAI_BASE_URL="http://127.0.0.1:$nc_llm_port/v1" OPENAI_KEY=$nc_key SCHEMA_PATH=sql/resume_schema.json \
        S3_ENDPOINT=${s3_port:+http://127.0.0.1:$s3_port} S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret \
        S3_BUCKET=resumes timeout 300 build/net_client_test >build/net_client_test.log 2>&1
    while read -r status name; do
        case $status in
            OK) t_pass "net_client: $name" ;;
            SKIPPED) t_skip "net_client: $name" "skipped by the test program" ;;
            *) t_fail "net_client: $name" "$(sed -n "/^\[ RUN      \] $name\$/,/^\[  FAILED  \] $name /p" \
                build/net_client_test.log | head -40)" ;;
        esac
    done < <(sed -n -E 's/^\[ +(OK|FAILED|SKIPPED) +\] ([A-Za-z0-9_.]+) \(.*/\1 \2/p' build/net_client_test.log)
    grep -q '^\[==========\] .* ran' build/net_client_test.log ||
        t_fail "net_client: the test program ran to its end" "$(tail -30 build/net_client_test.log)"
    if grep -qF -e "$secret" -e "$nc_key" build/net_client_test.log; then
        t_fail "net_client: no key or secret appears in the test output"
    else
        t_pass "net_client: no key or secret appears in the test output"
    fi
}

# nc_hung_call WHAT — starts _llm_call on a text the model never answers in the background
# (application_name rp_net_hung), waits until the stand-in holds the request, stops it with
# WHAT (pg_cancel_backend or pg_terminate_backend) and prints "milliseconds wait_event_type".
nc_hung_call() {
    local before after start took wait_type i
    before=$(nc_seen hung)
    q -d rp_net -v ON_ERROR_STOP=0 -v "t=$nc_cv [[openai-fake:hang]] $1" >"$nc_dir/$1" 2>&1 <<'SQL' &
SET application_name = 'rp_net_hung';
SELECT resume_pipeline._llm_call(:'t');
\echo state=:SQLSTATE
SQL
    local caller=$!
    for i in $(seq 100); do
        after=$(nc_seen hung)
        [ "$after" -gt "$before" ] && break
        sleep 0.05
    done
    wait_type=$(q -c "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE application_name = 'rp_net_hung'")
    start=$(date +%s%3N)
    q -c "SELECT $1(pid) FROM pg_stat_activity WHERE application_name = 'rp_net_hung'" >/dev/null
    wait "$caller"
    took=$(($(date +%s%3N) - start))
    echo "$took $wait_type"
}

nc_sql() {
    fresh_db rp_net
    q -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$nc_llm_port/v1/'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$nc_key'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_model = 'gpt-4o-mini'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 30000" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    nc_cv=$'Grace Okafor\nData Engineer\ngrace.okafor@example.org\n\nExperience\nContoso, 2020 - present'

    t_expect "net_client: _llm_call answers through the multi handle (result, model, schema version, tokens)" \
        "Grace Okafor|grace.okafor@example.org|gpt-4o-mini|resume-v1|true|true" \
        "$(q -d rp_net -v "t=$nc_cv" <<'SQL'
SELECT (r).result #>> '{basics,name}' || '|' || ((r).result #>> '{basics,email}') || '|' || (r).model || '|' ||
       (r).schema_version || '|' || ((r).prompt_tokens > 0 AND (r).completion_tokens > 0) || '|' || ((r).milliseconds >= 0)
  FROM (SELECT resume_pipeline._llm_call(:'t') AS r) s;
SQL
)"

    # statement_timeout, then the same session calls the model again.
    local out start took
    start=$(date +%s%3N)
    out=$(q -d rp_net -v ON_ERROR_STOP=0 -v "t=$nc_cv [[openai-fake:hang]]" -v "u=$nc_cv" 2>&1 <<'SQL'
SET statement_timeout = '300ms';
SELECT resume_pipeline._llm_call(:'t');
\echo state=:SQLSTATE
RESET statement_timeout;
SELECT 'again=' || ((resume_pipeline._llm_call(:'u')).result #>> '{basics,name}');
SQL
)
    took=$(($(date +%s%3N) - start))
    if grep -q "state=57014" <<<"$out" && grep -q "canceling statement due to statement timeout" <<<"$out" &&
       [ "$took" -lt 5000 ]; then
        t_pass "net_client: statement_timeout = 300ms stops a hung model call with 57014 ($took ms, request timeout 30 s)"
    else
        t_fail "net_client: statement_timeout = 300ms stops a hung model call with 57014 within 5 s" "took $took ms: $out"
    fi
    t_expect "net_client: the session calls the model again after the timeout" "again=Grace Okafor" \
        "$(grep -o 'again=.*' <<<"$out")"

    local cancel
    read -r took cancel < <(nc_hung_call pg_cancel_backend)
    t_expect "net_client: a hung call waits in the event loop, not in a busy loop or a blocking read" \
        "Extension/Extension" "$cancel"
    if grep -q "state=57014" "$nc_dir/pg_cancel_backend" && [ "$took" -lt 2000 ]; then
        t_pass "net_client: pg_cancel_backend stops a hung model call at once ($took ms)"
    else
        t_fail "net_client: pg_cancel_backend stops a hung model call within 2 s" \
            "took $took ms: $(cat "$nc_dir/pg_cancel_backend")"
    fi
    read -r took cancel < <(nc_hung_call pg_terminate_backend)
    if grep -q "terminating connection due to administrator command" "$nc_dir/pg_terminate_backend" &&
       [ "$took" -lt 2000 ]; then
        t_pass "net_client: pg_terminate_backend ends a session waiting on the model at once ($took ms)"
    else
        t_fail "net_client: pg_terminate_backend ends a session waiting on the model within 2 s" \
            "took $took ms: $(cat "$nc_dir/pg_terminate_backend")"
    fi
    t_expect "net_client: the server takes new sessions and model calls after the cancels" "Grace Okafor" \
        "$(q -d rp_net -v "t=$nc_cv" <<<"SELECT (resume_pipeline._llm_call(:'t')).result #>> '{basics,name}';")"

    q -c "ALTER SYSTEM RESET resume_pipeline.openai_base_url" -c "ALTER SYSTEM RESET resume_pipeline.openai_api_key" \
      -c "ALTER SYSTEM RESET resume_pipeline.openai_model" -c "ALTER SYSTEM RESET resume_pipeline.request_timeout_ms" \
      -c "SELECT pg_reload_conf()" >/dev/null
}

nc_run() {
    mkdir -p build
    if ! command -v node >/dev/null; then
        t_skip "net_client" "node is not installed"
        return
    fi
    node test/openai_fake/server.mjs --port 0 --key "$nc_key" --quiet >"$nc_dir/llm.out" 2>"$nc_dir/llm.err" &
    nc_llm_pid=$!
    nc_llm_port=$(nc_port "$nc_dir/llm.out" 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    if [ -z "$nc_llm_port" ]; then
        t_fail "net_client: the OpenAI stand-in starts" "$(cat "$nc_dir/llm.err")"
        return
    fi
    nc_gtest
    curl -s -X POST "http://127.0.0.1:$nc_llm_port/_control/reset" >/dev/null
    nc_sql
}

nc_run
nc_stop
if [ -n "${nc_prev_trap[2]:-}" ]; then trap "${nc_prev_trap[2]}" EXIT; else trap - EXIT; fi
unset -f nc_run nc_sql nc_gtest nc_hung_call nc_seen nc_port
