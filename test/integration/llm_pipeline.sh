# The pipeline on its network half, end to end through the background workers: documents stored
# on S3 (@20minutes/s3rver, which checks SigV4 signatures) and read by an OpenAI-compatible model
# (test/openai_fake, whose answers come from the text it receives). A PDF upload, a ZIP of 20 PDFs
# and an applicant's CV complete with the model's data and what it cost; the same text is sent
# once; every failure of the model ends as documented after the documented retries; a 500 storm
# opens the model circuit and a 429 storm is ridden out without a failed job; no transaction is
# open while a job waits on the model.
lp_dir=$(mktemp -d /tmp/rp-llm-pipeline.XXXXXX)
chmod 755 "$lp_dir"
lp_user=aaaaaaaa-0000-4000-8000-00000000000a

lp_reset_settings() {
    local s
    for s in database workers max_concurrent_tasks retry_base_delay llm_provider storage_backend s3_endpoint \
             s3_access_key s3_secret_key s3_bucket openai_base_url openai_api_key request_timeout_ms \
             circuit_failure_threshold circuit_open_ms max_attempts; do
        q -c "ALTER SYSTEM RESET resume_pipeline.$s" >/dev/null
    done
    q -c "SELECT pg_reload_conf()" >/dev/null
}

# lp_pdf NAME TEXT — build/…/NAME.pdf typeset from TEXT (first line is the name).
lp_pdf() {
    printf '%s\n' "$2" >"$lp_dir/$1.txt"
    tools/make_documents pdf "$lp_dir/$1.pdf" "$lp_dir/$1.txt"
}

# lp_requests TOKEN — how many requests reached the model with TOKEN in their messages.
lp_requests() {
    curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests?path=/v1/chat/completions" | node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(
            JSON.parse(s).requests.filter(r => JSON.stringify(r.json && r.json.messages || "").includes(process.argv[1])).length));' "$1"
}

# lp_upload NAME FILE — upload() as the test user; the files id.
lp_upload() {
    q -d rp_lp -c "SELECT resume_pipeline.upload('resumes', '$1', pg_read_binary_file('$2'), '{}', '$lp_user')"
}

lp_resume() {  # lp_resume KEY-SUFFIX — status|name|model|cached|attempts|error of the résumé
    q -d rp_lp -c "SELECT r.status || '|' || coalesce(r.parsed #>> '{basics,name}', '') || '|' ||
                          coalesce(r.llm_usage ->> 'model', '') || '|' || coalesce(r.llm_usage ->> 'cached', '') || '|' ||
                          (SELECT max(j.attempts) FROM resume_pipeline.jobs j WHERE j.target_id = r.id) || '|' ||
                          coalesce(r.error, '')
                     FROM resume_pipeline.resumes r WHERE r.object_name LIKE '%/$1'"
}

lp_run() {
    local why
    if ! why=$(servers_have_node); then
        t_skip "llm_pipeline" "$why"
        return
    fi
    local key="sk-lp-$RANDOM$RANDOM" access="lp-access-$RANDOM" secret="lp-secret-$RANDOM$RANDOM"
    if ! servers_openai "$lp_dir" "$key" || ! servers_s3 "$lp_dir" "$access" "$secret" resume-pipeline resumes; then
        t_fail "llm_pipeline: the stand-in servers start" "$(cat "$lp_dir"/*.err)"
        return
    fi
    # Files readable by the server's OS user for pg_read_binary_file.
    chmod -R a+rX "$lp_dir"
    fresh_db rp_lp
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_lp'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 8" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" \
      -c "ALTER SYSTEM SET resume_pipeline.llm_provider = 'openai'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$key'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 1500" \
      -c "ALTER SYSTEM SET resume_pipeline.storage_backend = 's3'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_endpoint = 'http://127.0.0.1:$RP_S3_PORT'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_access_key = '$access'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_secret_key = '$secret'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_bucket = 'resume-pipeline'" -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_lp "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_lp'" 30; then
        t_fail "llm_pipeline: a worker serves the test database" "$(q -c "SELECT backend_type, datname FROM pg_stat_activity")"
        return
    fi
    local idle="SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')"

    # A PDF upload: the model reads its text; the row keeps the model's data and what it cost.
    lp_pdf ada $'Ada Whitfield\nStaff Engineer\nada.whitfield@example.org | +44 20 7946 0958\nSKILLS\nSkills: Rust, PostgreSQL, Kafka'
    lp_upload ada.pdf "$lp_dir/ada.pdf" >/dev/null
    wait_for rp_lp "$idle" 60
    t_expect "llm_pipeline: a PDF on S3 becomes a résumé with the model's data and its cost" \
        "completed|Ada Whitfield|gpt-4o-mini|false|1|" "$(lp_resume ada.pdf)"
    t_expect "llm_pipeline: the résumé records the tokens and latency of its call" "t" \
        "$(q -d rp_lp -c "SELECT (llm_usage ->> 'prompt_tokens')::int > 0 AND (llm_usage ->> 'completion_tokens')::int > 0
                                 AND (llm_usage ->> 'milliseconds')::int >= 0 AND llm_usage ->> 'schema_version' = 'resume-v1'
                            FROM resume_pipeline.resumes WHERE object_name LIKE '%/ada.pdf'")"
    t_expect "llm_pipeline: the upload's object is on S3, read back by storage_get" "t" \
        "$(q -d rp_lp -c "SELECT storage = 's3' AND resume_pipeline.storage_get(bucket, name) = pg_read_binary_file('$lp_dir/ada.pdf')
                            FROM resume_pipeline.files WHERE name LIKE '%/ada.pdf'")"

    # The same text again, under another name: the answer is reused, the model is not asked.
    lp_upload ada-again.pdf "$lp_dir/ada.pdf" >/dev/null
    wait_for rp_lp "$idle" 60
    t_expect "llm_pipeline: the same text uploaded twice reaches the model once" "1|completed|Ada Whitfield|gpt-4o-mini|true|1|" \
        "$(lp_requests ada.whitfield@example.org)|$(lp_resume ada-again.pdf)"

    # No transaction is held while a job waits on the model.
    lp_pdf slow $'Sam Slowman\nsam.slowman@example.org\n[[openai-fake:latency:1200]]'
    lp_upload slow.pdf "$lp_dir/slow.pdf" >/dev/null
    wait_for rp_lp "SELECT EXISTS (SELECT 1 FROM resume_pipeline.resumes WHERE object_name LIKE '%/slow.pdf' AND status = 'processing')" 20
    sleep 0.3
    t_expect "llm_pipeline: while a job waits on the model its worker holds no transaction" "t" \
        "$(q -d rp_lp -c "SELECT bool_and(xact_start IS NULL AND backend_xid IS NULL) FROM pg_stat_activity
                           WHERE backend_type = 'resume_pipeline worker'")"
    wait_for rp_lp "$idle" 60
    t_expect "llm_pipeline: the slow answer is stored once it comes" "completed|Sam Slowman|gpt-4o-mini|false|1|" "$(lp_resume slow.pdf)"

    # A ZIP of 20 PDFs, stored and deflated entries: 20 résumés with the archive's zip_id.
    local entries=() i
    for i in $(seq 1 20); do
        lp_pdf "p$i" "Person Number$i
person.$i@example.org
Skills: Go, SQL"
        if [ $((i % 2)) -eq 0 ]; then entries+=("person$i.pdf==$lp_dir/p$i.pdf"); else entries+=("person$i.pdf=$lp_dir/p$i.pdf"); fi
    done
    tools/make_documents zip "$lp_dir/batch.zip" "${entries[@]}"
    chmod a+r "$lp_dir/batch.zip"
    local zip_id
    zip_id=$(lp_upload batch.zip "$lp_dir/batch.zip")
    wait_for rp_lp "$idle" 120
    t_expect "llm_pipeline: a ZIP of 20 PDFs on S3 gives 20 completed résumés with its zip_id and the model's data" "20|20|20|20" \
        "$(q -d rp_lp -c "SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'completed') || '|' ||
                                 count(*) FILTER (WHERE parsed #>> '{basics,email}' = 'person.' || substring(object_name FROM 'person([0-9]+)') || '@example.org') || '|' ||
                                 count(DISTINCT file_id)
                            FROM resume_pipeline.resumes WHERE zip_id = '$zip_id'")"
    t_expect "llm_pipeline: each entry is one object under the user's prefix, each read by the model once" "20|20|20|20" \
        "$(q -d rp_lp -c "SELECT count(*) || '|' || count(DISTINCT object_id) || '|' || count(*) FILTER (WHERE starts_with(name, '$lp_user/'))
                            FROM resume_pipeline.files WHERE metadata ->> 'zip_id' = '$zip_id'")|$(
            n=0; for i in $(seq 1 20); do n=$((n + $(lp_requests "person.$i@example.org"))); done; echo $n)"

    # An applicant's CV: cv_ready with the model's data.
    local cv_file
    lp_pdf cv $'Grace Okafor\ngrace.okafor@example.org\nSkills: Python'
    cv_file=$(lp_upload grace-cv.pdf "$lp_dir/cv.pdf")
    q -d rp_lp -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id) VALUES ('$lp_user', '$cv_file')" >/dev/null
    wait_for rp_lp "$idle" 60
    t_expect "llm_pipeline: an applicant's CV reaches cv_ready with the model's data and cost" "ready|Grace Okafor|grace.okafor@example.org|gpt-4o-mini" \
        "$(q -d rp_lp -c "SELECT cv_status || '|' || name || '|' || email || '|' || (cv_llm_usage ->> 'model') FROM resume_pipeline.applicants")"

    # Every failure of the model, as documented: permanent ones fail at once, transient ones are
    # retried and then succeed.
    # marker|final status|attempts|requests|word in the error. A connection reset before any
    # answer on a reused connection is retried once by libcurl itself (no attempt charged); on a
    # fresh one the job retries it: one or two attempts, two requests either way.
    local lp_cases=("refusal|failed|1|1|refusal" "truncated|failed|1|1|truncated" "schema_violation|failed|1|1|schema"
                    "invalid_json_content|failed|1|1|not_json" "insufficient_quota|failed|1|1|quota"
                    "401|failed|1|1|client_error" "400|failed|1|1|client_error" "500*2|completed|3|3|"
                    "503*1|completed|2|2|" "hang*1|completed|2|2|" "reset*1|completed|1-2|2|")
    local case marker expect word n=0 calls
    for case in "${lp_cases[@]}"; do
        IFS='|' read -r marker expect n calls word <<<"$case"
        local name="f${marker//[^a-z0-9]/_}"
        lp_pdf "$name" "Casey Fail$n
casey.$name@example.org
[[openai-fake:$marker]]"
        lp_upload "$name.pdf" "$lp_dir/$name.pdf" >/dev/null
    done
    wait_for rp_lp "$idle" 120
    for case in "${lp_cases[@]}"; do
        IFS='|' read -r marker expect n calls word <<<"$case"
        local name="f${marker//[^a-z0-9]/_}" got
        got=$(lp_resume "$name.pdf")
        IFS='|' read -r status _ _ _ attempts error <<<"$got"
        if [ "$status" = "$expect" ] && { [ "$attempts" = "$n" ] || [[ "$n" == *-* && "$attempts" -ge "${n%-*}" && "$attempts" -le "${n#*-}" ]]; } &&
           [ "$(lp_requests "casey.$name@")" = "$calls" ] &&
           { [ -z "$word" ] || grep -qi "$word" <<<"$error"; } && ! grep -q "$key" <<<"$error"; then
            t_pass "llm_pipeline: model answer '$marker' ends $expect after $n attempt(s), $calls request(s)"
        else
            t_fail "llm_pipeline: model answer '$marker' ends $expect after $n attempt(s), $calls request(s)" "$got (requests: $(lp_requests "casey.$name@"))"
        fi
    done

    # A sustained 500 storm opens the model circuit: jobs wait instead of failing, and finish
    # when the model heals.
    q -c "ALTER SYSTEM SET resume_pipeline.circuit_failure_threshold = 3" -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 500" \
      -c "ALTER SYSTEM SET resume_pipeline.max_attempts = 8" \
      -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    local opened_before
    opened_before=$(q -d rp_lp -c "SELECT (resume_pipeline._circuit_state('model') ->> 'times_opened')::int")
    curl -s -X POST -H 'Content-Type: application/json' -d '["500","500","500","500","500","500"]' \
        "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" >/dev/null
    for i in 1 2 3 4; do
        lp_pdf "storm$i" "Stormy Person$i
stormy.$i@example.org"
        lp_upload "storm$i.pdf" "$lp_dir/storm$i.pdf" >/dev/null
    done
    wait_for rp_lp "$idle" 120
    t_expect "llm_pipeline: a 500 storm opens the model circuit; its jobs wait, then all complete" "t|4" \
        "$(q -d rp_lp -c "SELECT (resume_pipeline._circuit_state('model') ->> 'times_opened')::int > $opened_before")|$(
           q -d rp_lp -c "SELECT count(*) FROM resume_pipeline.resumes WHERE object_name ~ '/storm[0-9].pdf$' AND status = 'completed'")"

    # A 429 storm with retry-after-ms is ridden out: no job fails.
    local storm
    storm=$(node -e 'console.log(JSON.stringify(Array(30).fill("429:50")))')
    curl -s -X POST -H 'Content-Type: application/json' -d "$storm" "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" >/dev/null
    for i in 1 2 3 4 5 6; do
        lp_pdf "rl$i" "Rita Limited$i
rita.$i@example.org"
        lp_upload "rl$i.pdf" "$lp_dir/rl$i.pdf" >/dev/null
    done
    wait_for rp_lp "$idle" 120
    t_expect "llm_pipeline: a 429 storm with retry-after-ms is ridden out, every job completes" "6|0" \
        "$(q -d rp_lp -c "SELECT count(*) FILTER (WHERE status = 'completed') || '|' || count(*) FILTER (WHERE status = 'failed')
                            FROM resume_pipeline.resumes WHERE object_name ~ '/rl[0-9].pdf$'")"
    t_expect "llm_pipeline: the storm's 30 answers were all seen before the jobs completed" "0" \
        "$(curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).remaining))')"
}
lp_run
servers_stop
lp_reset_settings
rm -rf "$lp_dir"
