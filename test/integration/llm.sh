# llm_parse_resume() against the OpenAI stand-in (test/openai_fake): the résumé text goes to the
# model and the validated JSON Resume comes back; each failure of the API ends as its documented
# SQLSTATE without the key in any message; a hung model is cut at request_timeout_ms and a query
# cancel stops the call at once; the endpoint and key are the configuration files' alone.
llm_dir=$(mktemp -d /tmp/rp-llm.XXXXXX)
llm_key="sk-test-$RANDOM$RANDOM-secret"
llm_pid=
llm_stop() { [ -n "$llm_pid" ] && kill "$llm_pid" 2>/dev/null; wait "$llm_pid" 2>/dev/null; llm_pid=; rm -rf "$llm_dir"; }
if ! command -v node >/dev/null; then
    t_skip "llm_parse_resume" "node is not installed"
else
    node test/openai_fake/server.mjs --port 0 --key "$llm_key" --quiet >"$llm_dir/out" 2>"$llm_dir/err" &
    llm_pid=$!
    llm_port=
    for _ in $(seq 100); do
        llm_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$llm_dir/out")
        [ -n "$llm_port" ] && break
        sleep 0.05
    done
    fresh_db rp_llm
    q -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$llm_port/v1'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$llm_key'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_model = 'gpt-4o-mini'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 1500" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    cv=$'Ada Whitfield\nStaff Engineer\nada.whitfield@example.org | +44 20 7946 0958\n\nExperience\nNorthwind Labs, 2019 - present'
    # llm_call TEXT — the function's answer, or "ERROR sqlstate message" (one line).
    llm_call() {
        q -d rp_llm -v ON_ERROR_STOP=0 -v "t=$1" 2>&1 <<'SQL' | tr '\n' ' ' | sed 's/ $//'
\set VERBOSITY default
SELECT resume_pipeline.llm_parse_resume(:'t') #>> '{basics,name}' || '|' ||
       (resume_pipeline.llm_parse_resume(:'t') #>> '{basics,email}');
\echo state=:SQLSTATE
SQL
    }
    out=$(llm_call "$cv")
    t_expect "llm_parse_resume: the model's JSON Resume, read from the text itself" "Ada Whitfield|ada.whitfield@example.org state=00000" "$out"
    # The statement above called it twice with the same text: one call reached the model.
    t_expect "llm_parse_resume: the same text is sent once; the answer and its cost are kept" "1 1|gpt-4o-mini|resume-v1|true" \
        "$(curl -s "http://127.0.0.1:$llm_port/_control/requests" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
                console.log(JSON.parse(s).requests.filter(x => x.status === 200).length));') $(q -d rp_llm -c "
            SELECT count(*) || '|' || min(model) || '|' || min(schema_version) || '|' || bool_and(prompt_tokens > 0 AND completion_tokens > 0)
              FROM resume_pipeline.llm_answers")"
    t_expect "llm_parse_resume: the request went out strict, with the text (as the stand-in saw it)" "true" \
        "$(curl -s "http://127.0.0.1:$llm_port/_control/requests" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
                const r = JSON.parse(s).requests.filter(x => x.status === 200).pop().json;
                console.log(String(r.response_format.json_schema.strict === true &&
                    JSON.stringify(r.messages).includes("Ada Whitfield")));
            });')"
    for case in "refusal 22000 refus" "truncated 22000 trunc" "schema_violation 22000 schema" "invalid_json_content 22000 JSON" \
                "429 53000 retry" "insufficient_quota 54000 quota" "500 58000 server" "hang 08006 request_timeout_ms"; do
        read -r marker state word <<<"$case"
        out=$(llm_call "$cv [[openai-fake:$marker]]")
        if grep -q "state=$state" <<<"$out" && grep -qi "$word" <<<"$out" && ! grep -q "$llm_key" <<<"$out"; then
            t_pass "llm_parse_resume: $marker ends as $state with a clear message"
        else
            t_fail "llm_parse_resume: $marker ends as $state with a clear message" "$out"
        fi
    done
    # A refused key: 28000, and the key itself in no message.
    q -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = 'sk-wrong-$llm_key'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    out=$(llm_call "$cv (not cached)")
    # (PostgreSQL itself logs a reloaded setting's new value, as the configuration files hold it;
    # only the server's OS user reads either. Nothing the extension logs may hold the key.)
    if grep -q "state=28000" <<<"$out" && ! grep -q "$llm_key" <<<"$out" &&
       ! grep "$llm_key" "$RP_SERVER_LOG" | grep -qv 'parameter "resume_pipeline.openai_api_key" changed to'; then
        t_pass "llm_parse_resume: a refused key ends as 28000; the key is in no message and in no error of the server log"
    else
        t_fail "llm_parse_resume: a refused key ends as 28000; the key is in no message and in no error of the server log" \
            "$out"$'\n'"$(grep -n "$llm_key" "$RP_SERVER_LOG" | head -5)"
    fi
    q -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$llm_key'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 30000" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    # A query cancel stops a call the model never answers, at once (not at the 30 s timeout).
    q -d rp_llm -v ON_ERROR_STOP=0 -v "t=$cv [[openai-fake:hang]]" >"$llm_dir/cancel" 2>&1 <<'SQL' &
SET application_name = 'rp_llm_cancel';
SELECT resume_pipeline.llm_parse_resume(:'t');
\echo state=:SQLSTATE
SQL
    canceller=$!
    sleep 1
    start_ms=$(date +%s%3N)
    q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'rp_llm_cancel'" >/dev/null
    wait "$canceller"
    took=$(( $(date +%s%3N) - start_ms ))
    if grep -q "state=57014" "$llm_dir/cancel" && [ "$took" -lt 2500 ]; then
        t_pass "llm_parse_resume: a query cancel stops a hung model call in $took ms"
    else
        t_fail "llm_parse_resume: a query cancel stops a hung model call within 2.5 s" "took $took ms: $(cat "$llm_dir/cancel")"
    fi
    # The endpoint and key are the configuration files': a user can neither change nor read them,
    # and may not call the model unless the owner grants it.
    out=$(q -d rp_llm -v ON_ERROR_STOP=0 2>&1 <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_llm_user') THEN
        CREATE ROLE rp_llm_user IN ROLE resume_pipeline_user;
    END IF;
END \$\$;
SET ROLE rp_llm_user;
SET resume_pipeline.openai_base_url = 'http://attacker.example/v1';
\echo set_url=:SQLSTATE
SHOW resume_pipeline.openai_api_key;
\echo show_key=:SQLSTATE
SELECT 'settings_key=' || count(*) FROM pg_settings WHERE name = 'resume_pipeline.openai_api_key';
SELECT current_setting('resume_pipeline.openai_api_key');
\echo current_key=:SQLSTATE
SELECT 'health_has_key=' || (resume_pipeline.health()::text LIKE '%$llm_key%');
SELECT resume_pipeline.llm_parse_resume('x');
\echo call=:SQLSTATE
RESET ROLE;
SQL
)
    t_expect "a user cannot set the model endpoint, read the key (SHOW, pg_settings, current_setting, health()) or call the model" \
        "set_url=55P02 show_key=42501 settings_key=0 current_key=42501 health_has_key=false call=42501" \
        "$(grep -oE '^(set_url|show_key|current_key|call)=[0-9A-Z]+|settings_key=[0-9]+|health_has_key=[a-z]+' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    if grep -q "$llm_key" <<<"$out"; then t_fail "the key appears nowhere in what a user saw" "$out"; else t_pass "the key appears nowhere in what a user saw"; fi
    # process_pending() with llm_provider = 'openai': the same steps in the session, the model's
    # data and cost on the row; a user's own jobs only, through the same answer cache.
    q -c "ALTER SYSTEM SET resume_pipeline.llm_provider = 'openai'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    load_files rp_llm samples build/samples/ada_whitfield.pdf >/dev/null
    out=$(q -d rp_llm <<SQL
SELECT resume_pipeline.upload('resumes', 'cv.pdf', data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a') IS NOT NULL
  FROM samples;
SELECT 'ran=' || resume_pipeline.process_pending();
SELECT 'row=' || status || '|' || (parsed #>> '{basics,name}') || '|' || (llm_usage ->> 'model') || '|' ||
       ((llm_usage ->> 'prompt_tokens')::int > 0)
  FROM resume_pipeline.resumes WHERE object_name LIKE '%/cv.pdf';
SQL
)
    t_expect "process_pending with llm_provider = 'openai': the model reads the résumé in the session, its cost on the row" \
        "ran=1 row=completed|Ada Whitfield|gpt-4o-mini|true" "$(grep -oE '^(ran|row)=.*' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    q -c "ALTER SYSTEM RESET resume_pipeline.openai_base_url" -c "ALTER SYSTEM RESET resume_pipeline.openai_api_key" \
      -c "ALTER SYSTEM RESET resume_pipeline.openai_model" -c "ALTER SYSTEM RESET resume_pipeline.request_timeout_ms" \
      -c "ALTER SYSTEM RESET resume_pipeline.llm_provider" -c "SELECT pg_reload_conf()" >/dev/null
fi
llm_stop
