# Analysis sessions, steps users register, and semantic match, through the background workers.
#  - A session over 50 résumés: 50 analyses, completed, none twice although the worker is killed
#    mid-session; a second session for the same posting finds nothing available, one for another
#    posting finds all 50. Timed with the built-in scorer and with a model that takes 500 ms.
#  - A registered SQL step and a registered HTTP step run, retry and announce; an endpoint that
#    is down opens its circuit, and the step recovers when it is back.
#  - With pgvector: match_resumes ranks the résumé written for the posting first.
#  - Row-level security on all of it.
an_dir=$(mktemp -d /tmp/rp-analysis.XXXXXX)
chmod 755 "$an_dir"
an_user=aaaaaaaa-0000-4000-8000-00000000000a
an_other=bbbbbbbb-0000-4000-8000-00000000000b
an_p1=dddddddd-0000-4000-8000-000000000001
an_p2=dddddddd-0000-4000-8000-000000000002
an_p3=dddddddd-0000-4000-8000-000000000003

an_reset_settings() {
    local s
    for s in database workers max_concurrent_tasks retry_base_delay llm_provider openai_base_url openai_api_key \
             request_timeout_ms circuit_failure_threshold circuit_open_ms embedding_model max_attempts; do
        q -c "ALTER SYSTEM RESET resume_pipeline.$s" >/dev/null
    done
    q -c "SELECT pg_reload_conf()" >/dev/null
}

# an_as UUID — psql in rp_an as the end-user role with PostgREST's claim for UUID.
an_as() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_an -U rp_an_user -v ON_ERROR_STOP=0 2>&1
}

an_idle="SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')"

# an_session POSTING NAME — starts a session as the user, waits for it to end; prints id|seconds.
an_session() {
    local id t0 t1
    t0=$(date +%s.%N)
    id=$(echo "SELECT resume_pipeline.start_analysis('$1', '$2');" | an_as "$an_user")
    wait_for rp_an "SELECT status <> 'running' FROM resume_pipeline.analysis_sessions WHERE id = '$id'" 180
    t1=$(date +%s.%N)
    echo "$id|$(echo "$t1 - $t0" | bc)"
}

an_run() {
    local why
    if ! why=$(servers_have_node); then
        t_skip "analysis" "$why"
        return
    fi
    local key="sk-an-$RANDOM$RANDOM"
    if ! servers_openai "$an_dir" "$key" || ! servers_hooks "$an_dir" --secret "hook-secret"; then
        t_fail "analysis: the stand-in servers start" "$(cat "$an_dir"/*.err)"
        return
    fi
    chmod -R a+rX "$an_dir"
    fresh_db rp_an
    q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rp_an_user') THEN
              CREATE ROLE rp_an_user LOGIN IN ROLE resume_pipeline_user; END IF; END\$\$" >/dev/null
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_an'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 8" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 3000" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$key'" \
      -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_an "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_an'" 30; then
        t_fail "analysis: a worker serves the test database"
        return
    fi

    # 50 résumés in one ZIP: 25 backend engineers (written for posting 1), 25 in other trades.
    local i files=()
    for i in $(seq 1 50); do
        if [ $((i % 2)) = 0 ]; then
            printf 'Backend Person %s\nbackend%s@example.com\n\nExperience\nBackend Engineer, Company %s, 2016 - present\nGo services on PostgreSQL and Kubernetes.\n\nSkills\nGo, PostgreSQL, Kubernetes, gRPC\n' "$i" "$i" "$i" >"$an_dir/r$i.txt"
        else
            printf 'Kitchen Person %s\ncook%s@example.com\n\nExperience\nHead Chef, Bistro %s, 2014 - present\nSeasonal menus, pastry, team of twelve.\n\nSkills\nPastry, Butchery, Menu planning\n' "$i" "$i" "$i" >"$an_dir/r$i.txt"
        fi
        tools/make_documents pdf "$an_dir/r$i.pdf" "$an_dir/r$i.txt"
        files+=("r$i.pdf=$an_dir/r$i.pdf")
    done
    tools/make_documents zip "$an_dir/batch.zip" "${files[@]}"
    chmod -R a+rX "$an_dir"
    q -d rp_an >/dev/null <<SQL
INSERT INTO resume_pipeline.job_postings (id, user_id, title, description, required_skills) VALUES
    ('$an_p1', '$an_user', 'Backend Engineer', 'Go services on PostgreSQL, deployed on Kubernetes.', '{Go,PostgreSQL,Kubernetes}'),
    ('$an_p2', '$an_user', 'Pastry Chef', 'Seasonal pastry and menus for a busy bistro.', '{Pastry,"Menu planning"}'),
    ('$an_p3', '$an_user', 'Sous Chef', 'Butchery and menus.', '{Butchery}');
SELECT resume_pipeline.upload('resumes', 'batch.zip', pg_read_binary_file('$an_dir/batch.zip'), '{}', '$an_user');
SQL
    wait_for rp_an "$an_idle" 120
    t_expect "session: the 50 résumés of the batch are read" "50" \
        "$(q -d rp_an -c "SELECT count(*) FROM resume_pipeline.resumes WHERE status = 'completed'")"

    # The built-in scorer.
    local id0 id secs
    IFS='|' read -r id0 secs <<<"$(an_session "$an_p1" 'first round')"
    echo "# a 50-résumé session with the built-in scorer took $secs s"
    t_expect "session: completed with 50 analyses, one per résumé" \
        "completed|50|50|50|0|true" \
        "$(echo "SELECT p.status || '|' || p.total || '|' || p.analysed || '|' ||
                        (SELECT count(DISTINCT resume_id) FROM resume_pipeline.resume_analyses WHERE analysis_session_id = '$id0') || '|' ||
                        p.remaining || '|' || (p.completed_at IS NOT NULL)
                   FROM resume_pipeline.session_progress('$id0') p;" | an_as "$an_user")"
    t_expect "session: the backend résumés score above the chefs for the backend posting" "t" \
        "$(q -d rp_an -c "SELECT min(ra.score) FILTER (WHERE r.raw_text LIKE 'Backend%') > max(ra.score) FILTER (WHERE r.raw_text LIKE 'Kitchen%')
                            FROM resume_pipeline.resume_analyses ra JOIN resume_pipeline.resumes r ON r.id = ra.resume_id
                           WHERE ra.analysis_session_id = '$id0'")"
    t_expect "session: available_resumes for that posting is now empty; for another posting all 50" "0|50" \
        "$(echo "SELECT (SELECT count(*) FROM resume_pipeline.available_resumes('$an_p1')) || '|' ||
                        (SELECT count(*) FROM resume_pipeline.available_resumes('$an_p2'));" | an_as "$an_user")"
    IFS='|' read -r id secs <<<"$(an_session "$an_p1" 'second round')"
    t_expect "session: a second session for the same posting finds no résumé and completes at once" "completed|0|0" \
        "$(echo "SELECT status || '|' || total || '|' || analysed FROM resume_pipeline.session_progress('$id');" | an_as "$an_user")"
    IFS='|' read -r id secs <<<"$(an_session "$an_p2" 'pastry')"
    echo "# a 50-résumé session with the built-in scorer took $secs s"
    t_expect "session: a session for another posting analyses all 50" "completed|50|50" \
        "$(echo "SELECT status || '|' || total || '|' || analysed FROM resume_pipeline.session_progress('$id');" | an_as "$an_user")"
    t_expect "session: analysis_history lists each résumé's two analyses" "2" \
        "$(echo "SELECT count(*) FROM resume_pipeline.analysis_history((SELECT id FROM resume_pipeline.resumes LIMIT 1));" | an_as "$an_user")"

    # The model, answering in 500 ms.
    q -c "ALTER SYSTEM SET resume_pipeline.llm_provider = 'openai'" -c "SELECT pg_reload_conf()" >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/config" -H 'Content-Type: application/json' -d '{"latency_ms": 500}' >/dev/null
    wait_for rp_an "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_an'" 30
    sleep 1
    # The model, the worker killed once part of the session is stored: the session still ends
    # with one row per résumé (a job cut off in flight asks the model again, at most one call
    # per slot more).
    local t0 killed_at calls
    t0=$(date +%s.%N)
    id=$(echo "SELECT resume_pipeline.start_analysis('$an_p3', 'model round');" | an_as "$an_user")
    wait_for rp_an "SELECT count(*) >= 10 FROM resume_pipeline.resume_analyses WHERE analysis_session_id = '$id'" 60
    q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_an'" >/dev/null
    killed_at=$(q -d rp_an -c "SELECT count(*) FROM resume_pipeline.resume_analyses WHERE analysis_session_id = '$id'")
    wait_for rp_an "SELECT status <> 'running' FROM resume_pipeline.analysis_sessions WHERE id = '$id'" 180
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    echo "# a 50-résumé session with a 500 ms model (worker killed at $killed_at of 50) took $secs s"
    calls=$(curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests?path=/v1/chat/completions" | node -e '
                let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s).requests.length));')
    t_expect "session with the model, worker killed mid-session: completed, one analysis per résumé with its tokens" \
        "completed|50|50|50|true|true" \
        "$(q -d rp_an -c "SELECT s.status || '|' || s.total || '|' ||
                                 (SELECT count(*) FROM resume_pipeline.resume_analyses ra WHERE ra.analysis_session_id = s.id
                                     AND (ra.usage ->> 'prompt_tokens')::int > 0) || '|' ||
                                 (SELECT count(DISTINCT resume_id) FROM resume_pipeline.resume_analyses ra WHERE ra.analysis_session_id = s.id) || '|' ||
                                 ($killed_at < 50) || '|' || ($calls BETWEEN 50 AND 58)
                            FROM resume_pipeline.analysis_sessions s WHERE s.id = '$id'")"
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/config" -H 'Content-Type: application/json' -d '{"latency_ms": 0}' >/dev/null

    # The same through OpenAI's Batch API: one file, one batch, no live call; then a batch that
    # expires with 20 lines unanswered, which are analysed live.
    q -c "ALTER SYSTEM SET resume_pipeline.openai_batch = on" -c "SELECT pg_reload_conf()" >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/reset" >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/config" -H 'Content-Type: application/json' -d '{"batch_ms": 300}' >/dev/null
    q -d rp_an -c "INSERT INTO resume_pipeline.job_postings (id, user_id, title, description, required_skills) VALUES
                   ('dddddddd-0000-4000-8000-000000000005', '$an_user', 'Platform Engineer', 'Go and Kubernetes.', '{Go,Kubernetes}'),
                   ('dddddddd-0000-4000-8000-000000000006', '$an_user', 'Line Cook', 'Butchery and pastry.', '{Pastry}'),
                   ('dddddddd-0000-4000-8000-000000000007', '$an_user', 'Baker', 'Bread.', '{Baking}')" >/dev/null
    sleep 1
    IFS='|' read -r id secs <<<"$(an_session dddddddd-0000-4000-8000-000000000005 'batch round')"
    echo "# a 50-résumé session through the Batch API (the stand-in answers in 0.3 s) took $secs s"
    q -d rp_an -c "SELECT '# ' || coalesce(s.error, '') || ' ' || coalesce(string_agg(j.state || ':' || coalesce(j.last_error, ''), ', '), '')
                     FROM resume_pipeline.analysis_sessions s LEFT JOIN resume_pipeline.jobs j ON j.target_id = s.id
                    WHERE s.id = '$id' AND s.status <> 'completed' GROUP BY s.error"
    an_counts() {  # files uploads|batches created|live chat calls
        curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const r = JSON.parse(s).requests;
              console.log([r.filter(x => x.method === "POST" && x.path === "/v1/files").length,
                           r.filter(x => x.method === "POST" && x.path === "/v1/batches").length,
                           r.filter(x => x.path === "/v1/chat/completions").length].join("|")); });'
    }
    t_expect "batch: completed with 50 analyses from one uploaded file and one batch, no live model call" "completed|50|50|1|1|0" \
        "$(q -d rp_an -c "SELECT s.status || '|' || s.total || '|' ||
                                 (SELECT count(*) FROM resume_pipeline.resume_analyses ra WHERE ra.analysis_session_id = s.id
                                     AND (ra.analysis ->> 'batch')::boolean AND ra.usage ? 'batch_id' AND ra.score IS NOT NULL)
                            FROM resume_pipeline.analysis_sessions s WHERE s.id = '$id'")|$(an_counts)"
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/script?endpoint=batches" -H 'Content-Type: application/json' -d '["expired:30"]' >/dev/null
    IFS='|' read -r id secs <<<"$(an_session dddddddd-0000-4000-8000-000000000006 'expiring batch')"
    t_expect "batch that expires: 30 lines from the batch, the other 20 analysed live, completed" "completed|30|20|2|2|20" \
        "$(q -d rp_an -c "SELECT s.status || '|' ||
                                 count(*) FILTER (WHERE (ra.analysis ->> 'batch')::boolean) || '|' ||
                                 count(*) FILTER (WHERE NOT coalesce((ra.analysis ->> 'batch')::boolean, false))
                            FROM resume_pipeline.analysis_sessions s JOIN resume_pipeline.resume_analyses ra ON ra.analysis_session_id = s.id
                           WHERE s.id = '$id' GROUP BY s.status")|$(an_counts)"
    # A batch the Batch API refuses while validating (an enqueued-token limit): the session
    # fails with the API's reason, and nothing is half-written.
    curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/script?endpoint=batches" -H 'Content-Type: application/json' -d '["failed"]' >/dev/null
    IFS='|' read -r id secs <<<"$(an_session dddddddd-0000-4000-8000-000000000007 'refused batch')"
    t_expect "batch that fails validation: the session fails with the Batch API's reason, no analysis stored" "failed|true|0" \
        "$(q -d rp_an -c "SELECT s.status || '|' || (s.error LIKE '%failed: Enqueued token limit reached%') || '|' ||
                                 (SELECT count(*) FROM resume_pipeline.resume_analyses ra WHERE ra.analysis_session_id = s.id)
                            FROM resume_pipeline.analysis_sessions s WHERE s.id = '$id'")"
    q -c "ALTER SYSTEM RESET resume_pipeline.llm_provider" -c "ALTER SYSTEM RESET resume_pipeline.openai_batch" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1

    # RLS: another user cannot start a session over these résumés, nor see the analyses.
    t_expect "RLS: another user's session over this user's posting is refused like a missing one" \
        "ERROR:  job posting $an_p1 does not exist" \
        "$(echo "SELECT resume_pipeline.start_analysis('$an_p1', 'steal');" | an_as "$an_other" | head -1)"
    t_expect "RLS: another user sees none of the sessions, analyses or progress" "0|0|0|0" \
        "$(echo "SELECT (SELECT count(*) FROM resume_pipeline.analysis_sessions) || '|' ||
                        (SELECT count(*) FROM resume_pipeline.resume_analyses) || '|' ||
                        (SELECT count(*) FROM resume_pipeline.session_progress('$id0')) || '|' ||
                        (SELECT count(*) FROM resume_pipeline.available_resumes(NULL));" | an_as "$an_other")"
    id=$(echo "SELECT resume_pipeline.start_analysis(NULL, 'mine');" | an_as "$an_other")
    t_expect "RLS: another user's general session covers none of this user's résumés" "completed|0" \
        "$(q -d rp_an -c "SELECT status || '|' || total FROM resume_pipeline.analysis_sessions WHERE id = '$id'")"

    # The call machinery is the pipeline's own: a user can neither send requests through it (it
    # adds keys, and reaches any host), nor pause a service for everyone, nor read the steps.
    local fn
    for fn in "_http_call('{\"url\": \"http://127.0.0.1:1/\"}')" "_chat_request('{}', 'x', 'x', 'x')" \
              "_dependency_pause('github', 100000)" "_circuit_record('github', false)" \
              "_start_call_job(gen_random_uuid())" "_batch_request('GET', '/files')"; do
        t_expect "privileges: a user may not call resume_pipeline.${fn%%(*}" "ERROR:  permission denied for function ${fn%%(*}" \
            "$(echo "SELECT resume_pipeline.$fn;" | an_as "$an_user" | head -1)"
    done
    t_expect "privileges: a user may not read the registered steps" "ERROR:  permission denied for table steps" \
        "$(echo "SELECT * FROM resume_pipeline.steps;" | an_as "$an_user" | head -1)"
    t_expect "privileges: a user may call score_fit" "t" \
        "$(echo "SELECT (resume_pipeline.score_fit('{}', 'Go developer', '{\"title\": \"Go\"}') ->> 'score') IS NOT NULL;" | an_as "$an_user")"

    # Steps users register: a SQL function and an HTTP endpoint.
    q -d rp_an >/dev/null <<SQL
CREATE FUNCTION public.name_length(applicant jsonb) RETURNS jsonb LANGUAGE sql
    RETURN jsonb_build_object('name_length', length(applicant ->> 'name'));
-- Fails with an I/O error (transient) on its very first call, then answers. The count is a
-- sequence: the failed call's rollback does not undo it.
CREATE SEQUENCE public.flaky_seq;
CREATE FUNCTION public.flaky(applicant jsonb) RETURNS jsonb LANGUAGE plpgsql AS \$f\$
DECLARE
    n bigint := nextval('public.flaky_seq');
BEGIN
    IF n = 1 THEN
        RAISE EXCEPTION 'flaky: first call fails' USING ERRCODE = 'io_error';
    END IF;
    RETURN jsonb_build_object('calls', n);
END
\$f\$;
SELECT resume_pipeline.register_step('flaky', \$\$NEW.name IS NOT NULL\$\$, 'public.flaky(jsonb)');
ALTER TABLE resume_pipeline.applicants ADD COLUMN notify_status resume_pipeline.processing_status NOT NULL DEFAULT 'not_provided',
                                       ADD COLUMN notify_data jsonb;
SELECT resume_pipeline.register_step('name_length', \$\$NEW.name IS NOT NULL\$\$, 'public.name_length(jsonb)');
SELECT resume_pipeline.register_step('notify', \$\$NEW.name IS NOT NULL\$\$, http_url => 'http://127.0.0.1:$RP_HOOKS_PORT/hooks/notify',
                                     status_column => 'notify_status', data_column => 'notify_data',
                                     http_headers => '{"Authorization": "Bearer hook-secret"}');
SQL
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/script?hook=notify" -H 'Content-Type: application/json' -d '["500"]' >/dev/null
    local channel payloads
    channel=$(q -d rp_an -c "SELECT resume_pipeline.notification_channel('$an_user')")
    payloads=$({ echo "LISTEN $channel;"
                 echo "INSERT INTO resume_pipeline.applicants (id, user_id, name) VALUES ('e0000000-0000-4000-8000-000000000001', '$an_user', 'Ada Lovelace');"
                 echo "SELECT pg_sleep(4);"; } | psql -X -q -A -t -d rp_an 2>&1 |
               sed -n "s/^Asynchronous notification \"$channel\" with payload \"\(.*\)\" received.*/\1/p" | grep applicant_steps)
    wait_for rp_an "SELECT count(*) = 3 FROM resume_pipeline.applicant_steps WHERE status = 'ready'" 30
    wait_for rp_an "SELECT count(*) = 1 FROM resume_pipeline.applicant_steps WHERE step = 'flaky' AND status = 'ready'" 30
    t_expect "steps: a SQL step that fails transiently is retried and ends ready" "ready|2|2" \
        "$(q -d rp_an -c "SELECT s.status || '|' || (s.data ->> 'calls') || '|' ||
                                 (SELECT j.attempts FROM resume_pipeline.jobs j WHERE j.kind = 'step' AND j.payload ->> 'step' = 'flaky')
                            FROM resume_pipeline.applicant_steps s WHERE s.step = 'flaky'")"
    t_expect "steps: the SQL step's result, from the applicant's row" "ready|12" \
        "$(echo "SELECT status || '|' || (data ->> 'name_length') FROM resume_pipeline.applicant_steps WHERE step = 'name_length';" | an_as "$an_user")"
    t_expect "steps: the HTTP step retried after a 500 and stored the endpoint's answer in its columns" "ready|true|ready|2" \
        "$(q -d rp_an -c "SELECT s.status || '|' || (a.notify_data ->> 'ok') || '|' || a.notify_status || '|' ||
                                 (SELECT j.attempts FROM resume_pipeline.jobs j WHERE j.kind = 'step' AND j.payload ->> 'step' = 'notify')
                            FROM resume_pipeline.applicant_steps s JOIN resume_pipeline.applicants a ON a.id = s.applicant_id
                           WHERE s.step = 'notify'")"
    t_expect "steps: the endpoint got the applicant's JSON with the registered header" "2|2|Ada Lovelace" \
        "$(curl -s "http://127.0.0.1:$RP_HOOKS_PORT/_control/requests?path=/hooks/notify" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const r = JSON.parse(s).requests;
              console.log([r.length, r.filter(x => (x.headers || {}).authorization === "Bearer hook-secret").length,
                           (r[r.length - 1].json || r[r.length - 1].body || {}).applicant.name].join("|")); });')"
    t_expect "steps: every status change announced on the user's channel" "t|t|t" \
        "$(node -e '
            const p = process.argv[1].split("\n").filter(Boolean).map(JSON.parse);
            const has = (step, n) => p.some(x => x.table === "applicant_steps" && x.step === step && x.new === n);
            console.log([has("name_length", "pending"), has("name_length", "ready"), has("notify", "ready")].map(b => b ? "t" : "f").join("|"));' "$payloads")"
    t_expect "steps: the other user sees none of this user's step rows" "0" \
        "$(echo "SELECT count(*) FROM resume_pipeline.applicant_steps;" | an_as "$an_other")"
    t_expect "steps: a user cannot register steps" "ERROR:  permission denied for function register_step" \
        "$(echo "SELECT resume_pipeline.register_step('evil', 'true', 'public.name_length(jsonb)');" | an_as "$an_user" | head -1)"

    # An endpoint that is down: its circuit opens, jobs wait instead of failing, and all end ready
    # once it is back.
    q -c "ALTER SYSTEM SET resume_pipeline.circuit_failure_threshold = 3" -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 1000" \
      -c "ALTER SYSTEM SET resume_pipeline.max_attempts = 20" -c "SELECT pg_reload_conf()" >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/down" -H 'Content-Type: application/json' -d '{"hook": "notify", "down": true}' >/dev/null
    q -d rp_an -c "INSERT INTO resume_pipeline.applicants (user_id, name) SELECT '$an_user', 'Person ' || i FROM generate_series(1, 6) i" >/dev/null
    if wait_for rp_an "SELECT resume_pipeline._circuit_state('step:notify') ->> 'state' IN ('open', 'half_open')" 30; then
        t_pass "steps: an endpoint that is down opens its circuit"
    else
        t_fail "steps: an endpoint that is down opens its circuit" "$(q -d rp_an -c "SELECT resume_pipeline._circuit_state('step:notify')")"
    fi
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/down" -H 'Content-Type: application/json' -d '{"hook": "notify", "down": false}' >/dev/null
    wait_for rp_an "SELECT count(*) = 7 FROM resume_pipeline.applicant_steps WHERE step = 'notify' AND status = 'ready'" 60
    t_expect "steps: once the endpoint is back the circuit closes and every step ends ready" "7|closed" \
        "$(q -d rp_an -c "SELECT count(*) FILTER (WHERE status = 'ready') || '|' || (resume_pipeline._circuit_state('step:notify') ->> 'state')
                            FROM resume_pipeline.applicant_steps WHERE step = 'notify'")"

    # Unregistering a step: its trigger goes (a new applicant gets the other steps only), its
    # queued jobs too; registered_steps lists what is left, never the headers.
    t_expect "steps: registered_steps lists the steps, without their headers" "flaky,name_length,notify|0" \
        "$(q -d rp_an -c "SELECT string_agg(name, ',' ORDER BY name) || '|' ||
                                 (SELECT count(*) FROM information_schema.columns
                                   WHERE table_schema = 'resume_pipeline' AND table_name = 'registered_steps' AND column_name ~ 'header')
                            FROM resume_pipeline.registered_steps")"
    t_expect "steps: a user cannot unregister steps" "ERROR:  permission denied for function unregister_step" \
        "$(echo "SELECT resume_pipeline.unregister_step('name_length');" | an_as "$an_user" | head -1)"
    t_expect "steps: unregister_step removes a step once" "t|f|flaky,notify" \
        "$(q -d rp_an -c "SET client_min_messages = warning" -c "SELECT resume_pipeline.unregister_step('name_length')" \
                      -c "SELECT resume_pipeline.unregister_step('name_length')" \
                      -c "SELECT string_agg(name, ',' ORDER BY name) FROM resume_pipeline.registered_steps" | paste -sd'|')"
    q -d rp_an -c "INSERT INTO resume_pipeline.applicants (id, user_id, name) VALUES ('e0000000-0000-4000-8000-000000000009', '$an_user', 'Grace Hopper')" >/dev/null
    wait_for rp_an "SELECT count(*) = 2 FROM resume_pipeline.applicant_steps WHERE applicant_id = 'e0000000-0000-4000-8000-000000000009' AND status = 'ready'" 30
    t_expect "steps: an applicant written after it gets the remaining steps only" "flaky,notify|0" \
        "$(q -d rp_an -c "SELECT string_agg(step, ',' ORDER BY step) || '|' ||
                                 (SELECT count(*) FROM resume_pipeline.jobs WHERE kind = 'step' AND payload ->> 'step' = 'name_length' AND state = 'queued')
                            FROM resume_pipeline.applicant_steps WHERE applicant_id = 'e0000000-0000-4000-8000-000000000009'")"

    # Semantic match with pgvector.
    if ! bash scripts/install_pgvector.sh >"$an_dir/pgvector.log" 2>&1; then
        t_fail "pgvector: installed from the Debian archive's source" "$(tail -5 "$an_dir/pgvector.log")"
        return
    fi
    q -d rp_an -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
    q -c "ALTER SYSTEM SET resume_pipeline.embedding_model = 'text-embedding-3-small'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    q -d rp_an >/dev/null <<SQL
INSERT INTO resume_pipeline.job_postings (id, user_id, title, description, required_skills) VALUES
    ('dddddddd-0000-4000-8000-000000000004', '$an_user', 'Site Reliability Engineer',
     'Terraform, Prometheus and Kubernetes on call rotation for observability.', '{Terraform,Prometheus}');
SQL
    printf 'Sam Reliable\nsam@example.com\n\nExperience\nSite Reliability Engineer, Cloudy, 2018 - present\nTerraform, Prometheus and Kubernetes; on call rotation; observability.\n\nSkills\nTerraform, Prometheus, Kubernetes\n' >"$an_dir/sre.txt"
    tools/make_documents pdf "$an_dir/sre.pdf" "$an_dir/sre.txt"
    chmod a+r "$an_dir/sre.pdf"
    q -d rp_an -c "SELECT resume_pipeline.upload('resumes', 'sre.pdf', pg_read_binary_file('$an_dir/sre.pdf'), '{}', '$an_user')" >/dev/null
    # The other résumés and the backend posting were written before embeddings were on: touch
    # them to have them embedded.
    q -d rp_an -c "UPDATE resume_pipeline.resumes SET status = 'completed' WHERE status = 'completed'" \
               -c "UPDATE resume_pipeline.job_postings SET description = description || ' ' WHERE id = '$an_p1'" >/dev/null
    wait_for rp_an "$an_idle" 120
    t_expect "pgvector: every résumé and the two postings written since have an embedding" "53|true" \
        "$(q -d rp_an -c "SELECT count(*) || '|' || bool_and(cardinality(embedding) > 0) FROM resume_pipeline.embeddings")"
    t_expect "pgvector: match_resumes ranks the résumé written for the posting first" "sre.pdf" \
        "$(echo "SELECT original_filename FROM resume_pipeline.match_resumes('dddddddd-0000-4000-8000-000000000004', 3) LIMIT 1;" | an_as "$an_user")"
    t_expect "pgvector: for the backend posting the backend résumés come first, with their fit scores" "true|true" \
        "$(echo "SELECT bool_and(original_filename ~ 'r[0-9]*[02468][.]pdf') || '|' || bool_and(overall_fit_score IS NOT NULL)
                   FROM resume_pipeline.match_resumes('$an_p1', 20);" | an_as "$an_user")"
    t_expect "pgvector: another user matches nothing of this user's" \
        "ERROR:  job posting dddddddd-0000-4000-8000-000000000004 has no embedding (yet)" \
        "$(echo "SELECT * FROM resume_pipeline.match_resumes('dddddddd-0000-4000-8000-000000000004', 3);" | an_as "$an_other" | head -1)"
    t_expect "pgvector: the posting's new text is embedded again" "t" \
        "$(q -d rp_an -c "SELECT content_sha256 FROM resume_pipeline.embeddings WHERE job_posting_id = 'dddddddd-0000-4000-8000-000000000004'" >"$an_dir/h1";
           q -d rp_an -c "UPDATE resume_pipeline.job_postings SET description = description || ' Also Go.' WHERE id = 'dddddddd-0000-4000-8000-000000000004'" >/dev/null;
           wait_for rp_an "$an_idle" 30;
           [ "$(q -d rp_an -c "SELECT content_sha256 FROM resume_pipeline.embeddings WHERE job_posting_id = 'dddddddd-0000-4000-8000-000000000004'")" != "$(cat "$an_dir/h1")" ] && echo t || echo f)"
}

an_run
servers_stop
an_reset_settings
rm -rf "$an_dir"
