# Ashby ATS sync and push through the background workers, against the Ashby stand-in
# (test/ashby_fake): a full sync of 250 candidates in 3 pages makes exactly 250 applicants whose
# résumés are downloaded (file.info, then the presigned URL without the key) and parsed; a second
# sync is incremental (only the changed candidates; the token saved only after the last page, kept
# when a page fails); an expired token and incremental_sync_too_large fall back to a full sync
# without duplicates; a bad key, a key without permission and a business error (HTTP 200
# success:false) fail with clear messages that never hold the key (job, users row, NOTIFY, server
# log); 429 (with and without Retry-After) is waited out uncharged, 5xx retried; a worker killed
# mid-sync resumes from its cursor without duplicates; concurrent upserts keep one applicant per
# candidate; a verdict is pushed once (note, or custom field); user B neither sees nor syncs user
# A's Ashby data; hostile answers (huge, malformed, path-like file names, a non-résumé file, a
# download URL on another host) are handled.
as_dir=$(mktemp -d /tmp/rp-ashby.XXXXXX)
chmod 755 "$as_dir"
as_a=aaaaaaaa-0000-4000-8000-0000000000a1
as_b=bbbbbbbb-0000-4000-8000-0000000000b2
as_c=cccccccc-0000-4000-8000-0000000000c3
as_key_a="ashbyKeyA_$RANDOM$RANDOM"
as_key_b="ashbyKeyB_$RANDOM$RANDOM"
as_key_c="ashbyBadKey_$RANDOM$RANDOM"

as_reset_settings() {
    local s
    for s in database workers max_concurrent_tasks retry_base_delay request_timeout_ms ashby_base_url max_file_size; do
        q -c "ALTER SYSTEM RESET resume_pipeline.$s" >/dev/null
    done
    q -c "SELECT pg_reload_conf()" >/dev/null
}

# as_user UUID — psql in rp_ashby as the end-user role with PostgREST's claim for UUID.
as_user() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_ashby -U rp_ashby_user -v ON_ERROR_STOP=0 2>&1
}
as_api() { curl -s --max-time 10 "http://127.0.0.1:$RP_ASHBY_PORT$1"; }
as_control() { curl -s --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary "${2:-}" "http://127.0.0.1:$RP_ASHBY_PORT$1"; }
as_q() { q -d rp_ashby -c "$1"; }
# as_sync USER — ats_sync() as the user, then waits until that job has ended; prints its state.
as_sync() {
    local job
    job=$(echo "SELECT resume_pipeline.ats_sync();" | as_user "$1")
    wait_for rp_ashby "SELECT state IN ('done', 'failed') FROM resume_pipeline.jobs WHERE id = '$job'" "${2:-90}"
    as_q "SELECT state FROM resume_pipeline.jobs WHERE id = '$job'"
}
# as_requests PATH JQ-FILTER — a jq expression over the stand-in's request log for PATH.
as_requests() { as_api "/_control/requests?path=$1" | jq -r ".requests | $2"; }
as_idle() { wait_for rp_ashby "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" "${1:-120}"; }

as_run() {
    local why
    if ! why=$(servers_have_node); then
        t_skip "ashby" "$why"
        return
    fi
    if ! servers_ashby "$as_dir" --key "$as_key_a" --key "$as_key_b"; then
        t_fail "ashby: the stand-in starts" "$(cat "$as_dir"/ashby.err)"
        return
    fi
    fresh_db rp_ashby
    q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rp_ashby_user') THEN
              CREATE ROLE rp_ashby_user LOGIN IN ROLE resume_pipeline_user; END IF; END\$\$" >/dev/null
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_ashby'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 16" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 5000" \
      -c "ALTER SYSTEM SET resume_pipeline.ashby_base_url = 'http://127.0.0.1:$RP_ASHBY_PORT'" \
      -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_ashby "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_ashby'" 30; then
        t_fail "ashby: a worker serves the test database" "$(q -c "SELECT backend_type, datname FROM pg_stat_activity")"
        return
    fi
    local u k
    for u in "$as_a:$as_key_a" "$as_b:$as_key_b" "$as_c:$as_key_c"; do
        k=${u#*:}; u=${u%%:*}
        echo "INSERT INTO resume_pipeline.users (id, email, ashby_api_key) VALUES ('$u', '$u@example.com', '$k');" | as_user "$u" >/dev/null
    done

    # 1. A full sync: 250 candidates in 3 pages, 250 applicants, every résumé fetched and parsed.
    as_control /_control/candidates '{"generate": 250}' >/dev/null
    local t0=$SECONDS
    t_expect "full sync: the job ends done" "done" "$(as_sync $as_a)"
    t_expect "full sync: exactly 250 applicants, one per candidate, with name and e-mail from Ashby" "250|250|250" \
        "$(as_q "SELECT count(*) || '|' || count(DISTINCT ashby_candidate_id) || '|' || count(*) FILTER (WHERE name LIKE 'Candidate %' AND email LIKE 'candidate.%@example.com')
                   FROM resume_pipeline.applicants WHERE user_id = '$as_a'")"
    t_expect "full sync: 3 pages of candidate.list, the first without cursor or token, then with the cursor; Basic auth and version=1" \
        "3|1|2|3|3" \
        "$(as_requests /candidate.list "[length, ([.[] | select(.body.cursor == null and .body.syncToken == null)] | length),
              ([.[] | select(.body.cursor != null)] | length), ([.[] | select(.key == \"$as_key_a\" and .body.limit == 100)] | length),
              ([.[] | select(.headers.accept == \"application/json; version=1\" and (.headers[\"content-type\"] | startswith(\"application/json\")))] | length)]
              | map(tostring) | join(\"|\")")"
    t_expect "full sync: the users row shows the outcome (ok, 250 candidates, full) and keeps the new token" "ok|250|true|true|" \
        "$(echo "SELECT ashby_last_sync_status || '|' || ashby_last_sync_candidates || '|' || ashby_last_sync_full || '|' ||
                        (ashby_sync_cursor LIKE 'st_%') || '|' || coalesce(ashby_last_sync_error, '') FROM resume_pipeline.users;" | as_user $as_a)"
    if wait_for rp_ashby "SELECT count(*) = 250 FROM resume_pipeline.applicants WHERE user_id = '$as_a' AND cv_status = 'ready'" 180; then
        t_pass "full sync: all 250 résumés are downloaded and parsed (cv ready) in $((SECONDS - t0)) s"
    else
        t_fail "full sync: all 250 résumés are downloaded and parsed" "$(as_q "SELECT cv_status, count(*) FROM resume_pipeline.applicants GROUP BY 1")
$(as_q "SELECT kind, state, last_error, count(*) FROM resume_pipeline.jobs GROUP BY 1, 2, 3")"
    fi
    t_expect "full sync: the parsed CV has the e-mail Ashby gave; files stored under ashby/<candidate>/" "250|250" \
        "$(as_q "SELECT count(*) FILTER (WHERE cv_data #>> '{basics,email}' = a.ashby_data ->> 'email') || '|' ||
                        count(*) FILTER (WHERE f.name = a.user_id || '/ashby/' || a.ashby_candidate_id || '/' || regexp_replace(a.name, ' ', '_') || '_resume.pdf')
                   FROM resume_pipeline.applicants a JOIN resume_pipeline.files f ON f.id = a.cv_file_id WHERE a.user_id = '$as_a'")"
    # A step retried (a lock a busy machine held too long) asks file.info and downloads again:
    # counted by file, not by request.
    t_expect "full sync: file.info asked for each of the 250 files, always with the key; each downloaded, never with it" "250|0|250|0" \
        "$(as_api /_control/requests | jq -r "[([.requests[] | select(.path == \"/file.info\") | .body.fileHandle] | unique | length),
              ([.requests[] | select(.path == \"/file.info\" and .key != \"$as_key_a\")] | length),
              ([.requests[] | select(.path | startswith(\"/_files/\")) | .path] | unique | length),
              ([.requests[] | select((.path | startswith(\"/_files/\")) and .headers.authorization != null)] | length)] | map(tostring) | join(\"|\")")"
    as_idle

    # 2. Incremental: only the changed candidates; an unchanged résumé is not fetched again.
    local token1 ids renamed newcv
    token1=$(as_q "SELECT ashby_sync_cursor FROM resume_pipeline.users WHERE id = '$as_a'")
    ids=$(as_api /_control/candidates | jq -r '.candidates[0:2] | map(.id) | join(" ")')
    renamed=${ids%% *}; newcv=${ids##* }
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"]}" >/dev/null
    as_control /_control/candidates "[{\"id\": \"$renamed\", \"name\": \"Renamed Person\"},
        {\"id\": \"$newcv\", \"resume\": {\"name\": \"new_cv.pdf\", \"lines\": [\"Second Version\", \"second@example.com\", \"Skills\", \"Rust\"]}},
        {\"name\": \"Brand New\"}]" >/dev/null
    t_expect "incremental sync: done" "done" "$(as_sync $as_a)"
    t_expect "incremental sync: one page asked with the saved token; 251 applicants; the renamed one renamed" \
        "1|$token1|251|Renamed Person" \
        "$(as_requests /candidate.list 'length')|$(as_requests /candidate.list '.[0].body.syncToken')|$(
           as_q "SELECT count(*) FROM resume_pipeline.applicants WHERE user_id = '$as_a'")|$(
           as_q "SELECT name FROM resume_pipeline.applicants WHERE ashby_candidate_id = '$renamed'")"
    as_idle
    t_expect "incremental sync: only the new résumé and the new candidate's are fetched (2 file.info); the new CV is parsed" \
        "2|3|Second Version|f" \
        "$(as_requests /file.info 'length')|$(as_q "SELECT ashby_last_sync_candidates FROM resume_pipeline.users WHERE id = '$as_a'")|$(
           as_q "SELECT cv_data #>> '{basics,name}' FROM resume_pipeline.applicants WHERE ashby_candidate_id = '$newcv'")|$(
           as_q "SELECT ashby_sync_cursor = '$token1' FROM resume_pipeline.users WHERE id = '$as_a'")"

    # A page that fails: the token is not advanced (nothing saved before the last page).
    local token2
    token2=$(as_q "SELECT ashby_sync_cursor FROM resume_pipeline.users WHERE id = '$as_a'")
    as_control /_control/candidates '{"generate": 120, "prefix": "Batch"}' >/dev/null
    as_control /_control/script '[{"path": "/candidate.list", "behaviour": "ok"}, {"path": "/candidate.list", "behaviour": "error", "code": "invalid_input", "message": "Scripted failure"}]' >/dev/null
    t_expect "a business error (200 success:false) on page 2 fails the sync" "failed" "$(as_sync $as_a)"
    t_expect "…with a clear message on the users row and the job; the token is not advanced" \
        "failed|Ashby refused candidate.list: invalid_input: Scripted failure|true|t" \
        "$(as_q "SELECT ashby_last_sync_status || '|' || ashby_last_sync_error || '|' || (ashby_sync_cursor = '$token2') FROM resume_pipeline.users WHERE id = '$as_a'")|$(
           as_q "SELECT last_error LIKE 'Ashby refused candidate.list: invalid_input%' FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")"
    t_expect "the next sync starts again from the old token and reads both pages" "done|$token2|371" \
        "$(as_sync $as_a)|$(as_requests /candidate.list '.[-2].body.syncToken')|$(as_q "SELECT count(*) FROM resume_pipeline.applicants WHERE user_id = '$as_a'")"
    as_idle

    # 3. The token expired, or the change set is too large: a full sync, no duplicates.
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"]}" >/dev/null
    as_control /_control/expire_tokens >/dev/null
    t_expect "expired token: the sync falls back to a full listing and ends done" "done" "$(as_sync $as_a)"
    t_expect "expired token: sync_token_expired, then 4 full pages; 371 applicants, none duplicated; full" \
        "sync_token_expired|4|371|371|t" \
        "$(as_q "SELECT payload ->> 'fallback' FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")|$(
           as_requests /candidate.list '[.[] | select(.body.syncToken == null)] | length')|$(
           as_q "SELECT count(*) || '|' || count(DISTINCT ashby_candidate_id) FROM resume_pipeline.applicants WHERE user_id = '$as_a'")|$(
           as_q "SELECT ashby_last_sync_full FROM resume_pipeline.users WHERE id = '$as_a'")"
    as_control /_control/script '["incremental_sync_too_large"]' >/dev/null
    t_expect "incremental_sync_too_large: a full sync too, still 371 applicants" "done|incremental_sync_too_large|371" \
        "$(as_sync $as_a)|$(as_q "SELECT payload ->> 'fallback' FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")|$(
           as_q "SELECT count(*) FROM resume_pipeline.applicants WHERE user_id = '$as_a'")"
    as_idle

    # 4. Keys: unknown, without permission, missing. Clear messages; the key nowhere.
    local chan
    chan=$(as_q "SELECT resume_pipeline.notification_channel('$as_c')")
    ( echo "LISTEN \"$chan\";"; echo "SELECT pg_sleep(6);"; echo "SELECT 1;" ) | q -d rp_ashby >"$as_dir/notify.out" 2>&1 &
    local listener=$!
    sleep 0.5
    t_expect "bad key: the sync fails" "failed" "$(as_sync $as_c)"
    wait $listener
    t_expect "bad key: the error says Ashby refused the key (403 invalid_api_key), on the job and the users row" "t|t" \
        "$(as_q "SELECT last_error LIKE 'Ashby refused the API key for candidate.list (HTTP 403: invalid_api_key)%' FROM resume_pipeline.jobs WHERE user_id = '$as_c' AND kind = 'ats_sync'")|$(
           echo "SELECT ashby_last_sync_error LIKE 'Ashby refused the API key%' FROM resume_pipeline.users;" | as_user $as_c)"
    t_expect "bad key: the failure is announced on the user's channel" "1" "$(grep -c '"ashby_sync" : "failed"' "$as_dir/notify.out")"
    t_expect "bad key: the key is in no job row, users column the user reads, NOTIFY or server log" "0|0|0|0" \
        "$(as_q "SELECT count(*) FROM resume_pipeline.jobs WHERE payload::text LIKE '%$as_key_c%' OR last_error LIKE '%$as_key_c%'")|$(
           echo "SELECT count(*) FROM resume_pipeline.users WHERE ashby_last_sync_error LIKE '%$as_key_c%' OR ashby_sync_cursor LIKE '%$as_key_c%';" | as_user $as_c)|$(
           grep -c -- "$as_key_c" "$as_dir/notify.out")|$(grep -c -- "$as_key_c" "$RP_SERVER_LOG")"
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"], \"no_permission_keys\": [\"$as_key_c\"]}" >/dev/null
    t_expect "a key without permission: fails with missing_endpoint_permission" "failed|t" \
        "$(as_sync $as_c)|$(as_q "SELECT last_error LIKE '%HTTP 403: missing_endpoint_permission%' AND last_error NOT LIKE '%$as_key_c%' FROM resume_pipeline.jobs WHERE user_id = '$as_c' AND kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")"
    echo "UPDATE resume_pipeline.users SET ashby_api_key = NULL;" | as_user $as_c >/dev/null
    t_expect "no key: ats_sync() refuses at once with a clear message" "ERROR:  ats_sync: no Ashby API key is set for this user" \
        "$(echo "SELECT resume_pipeline.ats_sync();" | as_user $as_c | grep -m1 -o 'ERROR:.*')"
    t_expect "a user cannot read any key back" "ERROR:  permission denied for table users" \
        "$(echo "SELECT ashby_api_key FROM resume_pipeline.users;" | as_user $as_a | grep -m1 -o 'ERROR:.*')"

    # 5. Rate limits (uncharged) and server errors (retried).
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"]}" >/dev/null
    as_control /_control/script '[{"path": "/candidate.list", "behaviour": "429", "retry_after_s": 1}, {"path": "/candidate.list", "behaviour": "429"}]' >/dev/null
    t_expect "429 with and without Retry-After: waited out, the sync ends done, no attempt charged" "done|3|1|t" \
        "$(as_sync $as_a)|$(as_requests /candidate.list 'length')|$(
           as_q "SELECT attempts FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")|$(
           as_q "SELECT (max(time) - min(time)) >= interval '1 s' FROM (SELECT '$(as_requests /candidate.list '.[0].time')'::timestamptz AS time
                   UNION ALL SELECT '$(as_requests /candidate.list '.[1].time')'::timestamptz) t")"
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"]}" >/dev/null
    as_control /_control/script '[{"path": "/candidate.list", "behaviour": "500"}, {"path": "/candidate.list", "behaviour": "503"}]' >/dev/null
    t_expect "500 then 503: retried, the sync ends done on the third attempt" "done|3|3" \
        "$(as_sync $as_a)|$(as_requests /candidate.list 'length')|$(
           as_q "SELECT attempts FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")"

    # 6. A worker killed mid-sync: resumed from its cursor, no duplicates.
    as_q "UPDATE resume_pipeline.users SET ashby_sync_cursor = NULL WHERE id = '$as_a'" >/dev/null
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"], \"latency_ms\": 1200}" >/dev/null
    local job
    job=$(echo "SELECT resume_pipeline.ats_sync();" | as_user $as_a)
    wait_for rp_ashby "SELECT (payload ->> 'pages')::int >= 1 FROM resume_pipeline.jobs WHERE id = '$job'" 30
    q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_ashby'" >/dev/null
    wait_for rp_ashby "SELECT state IN ('done', 'failed') FROM resume_pipeline.jobs WHERE id = '$job'" 90
    t_expect "killed mid-sync: the job ends done, resumed from the cursor (one listing from the start), 371 applicants, none duplicated" \
        "done|1|371|371" \
        "$(as_q "SELECT state FROM resume_pipeline.jobs WHERE id = '$job'")|$(as_requests /candidate.list '[.[] | select(.body.cursor == null)] | length')|$(
           as_q "SELECT count(*) || '|' || count(DISTINCT ashby_candidate_id) FROM resume_pipeline.applicants WHERE user_id = '$as_a'")"
    as_control /_control/config '{"latency_ms": 0}' >/dev/null
    wait_for rp_ashby "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_ashby'" 30

    # Concurrent upserts of the same candidates: one applicant each.
    local cands
    cands=$(jq -nc '[range(0; 200) | {id: ("conc-\(.)"), name: "Concurrent \(.)"}]')
    local pids=()
    for _ in 1 2 3; do
        as_q "SELECT resume_pipeline._ashby_upsert_candidate('$as_b', c) FROM jsonb_array_elements('$cands') c" >/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    t_expect "three sessions upserting the same 200 candidates at once leave 200 applicants" "200" \
        "$(as_q "SELECT count(*) FROM resume_pipeline.applicants WHERE user_id = '$as_b' AND ashby_candidate_id LIKE 'conc-%'")"
    as_q "DELETE FROM resume_pipeline.applicants WHERE user_id = '$as_b'" >/dev/null
    as_idle

    # 7. Push: a verdict written back once, as a note or into a custom field.
    local p1 p2 p3
    read -r p1 p2 p3 < <(as_q "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM resume_pipeline.applicants
                                 WHERE user_id = '$as_a' AND ai_status = 'ready' ORDER BY name LIMIT 3) q")
    echo "UPDATE resume_pipeline.users SET ashby_features = '{\"push\": true}';
          UPDATE resume_pipeline.applicants SET ai_status = 'pending' WHERE id IN ('$p1', '$p2');" | as_user $as_a >/dev/null
    wait_for rp_ashby "SELECT count(*) = 2 FROM resume_pipeline.applicants WHERE id IN ('$p1', '$p2') AND ashby_pushed IS NOT NULL" 60
    as_idle
    t_expect "push: a finished verdict makes one note per candidate, with the score and summary" "2|2|2" \
        "$(as_api /_control/notes | jq -r '.count')|$(as_api /_control/notes | jq -r '[.notes[] | select(.content | startswith("resume_pipeline fit score: "))] | length')|$(
           as_api /_control/notes | jq -r '[.notes[].candidateId] | unique | length')"
    t_expect "push: the note names the applicant's score" "t" \
        "$(as_q "SELECT bool_and(position(format('fit score: %s/100', ai_data ->> 'score') IN '$(as_api /_control/notes | jq -r '[.notes[].content] | join(" ")' | tr "'" ' ')') > 0)
                   FROM resume_pipeline.applicants WHERE id IN ('$p1', '$p2')")"
    echo "UPDATE resume_pipeline.applicants SET ai_status = 'pending' WHERE id = '$p1';" | as_user $as_a >/dev/null
    wait_for rp_ashby "SELECT ai_status = 'ready' FROM resume_pipeline.applicants WHERE id = '$p1'" 30
    as_idle
    t_expect "push: the same verdict again is not written a second time" "2" "$(as_api /_control/notes | jq -r '.count')"
    echo "UPDATE resume_pipeline.users SET ashby_features = '{\"push\": true, \"score_field_id\": \"fld_fit\"}';
          UPDATE resume_pipeline.applicants SET ai_status = 'pending' WHERE id = '$p3';" | as_user $as_a >/dev/null
    wait_for rp_ashby "SELECT ashby_pushed IS NOT NULL FROM resume_pipeline.applicants WHERE id = '$p3'" 60
    t_expect "push with score_field_id: customField.setValues with the score, no note" "1|fld_fit|Candidate|$(as_q "SELECT score FROM resume_pipeline.applicants WHERE id = '$p3'")|2" \
        "$(as_api /_control/custom_fields | jq -r '[(.count | tostring), .custom_fields[0].values[0].fieldId, .custom_fields[0].objectType, (.custom_fields[0].values[0].fieldValue | tostring)] | join("|")')|$(
           as_api /_control/notes | jq -r '.count')"

    # 8. User B: none of A's Ashby data, no sync for A.
    t_expect "user B sees none of A's applicants, users rows or jobs" "0|1|0" \
        "$(echo "SELECT count(*) FROM resume_pipeline.applicants WHERE ashby_candidate_id IS NOT NULL;
                 SELECT count(*) FROM resume_pipeline.users;
                 SELECT count(*) FROM resume_pipeline.jobs WHERE user_id = '$as_a';" | as_user $as_b | paste -sd'|')"
    t_expect "user B cannot call ats_sync for A" "ERROR:  ats_sync: a user may sync only their own Ashby candidates" \
        "$(echo "SELECT resume_pipeline.ats_sync('$as_a');" | as_user $as_b | grep -m1 -o 'ERROR:.*')"
    t_expect "user B cannot run the sync machinery" "ERROR:  permission denied for function _ats_sync_queue" \
        "$(echo "SELECT resume_pipeline._ats_sync_queue('$as_a', 'x');" | as_user $as_b | grep -m1 -o 'ERROR:.*')"

    # 9. The schedule: users with {"sync": true} are queued once per interval, never twice.
    as_q "UPDATE resume_pipeline.users SET ashby_api_key = '$as_key_c', ashby_features = '{\"sync\": true}',
                 ashby_sync_requested_at = now() - interval '2 hours' WHERE id = '$as_c'" >/dev/null
    t_expect "housekeeping queues one sync for a user who enabled it, and not again while it is due" "1|0" \
        "$(as_q "SELECT resume_pipeline._ashby_sync_due()")|$(as_q "SELECT resume_pipeline._ashby_sync_due()")"
    as_idle

    # 10. Hostile answers.
    as_control /_control/reset?keep_data=1 >/dev/null
    as_control /_control/config "{\"keys\": [\"$as_key_a\", \"$as_key_b\"]}" >/dev/null
    as_control /_control/script '["huge"]' >/dev/null
    t_expect "a 20 MB answer: the sync fails at once, saying so" "failed|t|1" \
        "$(as_sync $as_a)|$(as_q "SELECT last_error = 'Ashby answered candidate.list with more than 8 MB' FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")|$(
           as_requests /candidate.list 'length')"
    as_control /_control/script '["malformed"]' >/dev/null
    t_expect "a truncated JSON answer: retried, then done" "done|t" \
        "$(as_sync $as_a)|$(as_q "SELECT attempts = 2 FROM resume_pipeline.jobs WHERE kind = 'ats_sync' ORDER BY created_at DESC LIMIT 1")"
    as_control /_control/candidates '[{"id": "../../evil id", "name": "Path Person", "resume": {"name": "../../etc/passwd.pdf"}},
                                      {"id": "txt-1", "name": "Text Person", "resume": {"name": "notes.pdf", "text": "just text, not a CV"}}]' >/dev/null
    t_expect "hostile candidates: the sync ends done" "done" "$(as_sync $as_a)"
    as_idle
    t_expect "a path-like file name and id stay inside the user's ashby/ prefix; the résumé is parsed" "true|ready" \
        "$(as_q "SELECT (f.name = '$as_a/ashby/x' || md5(a.ashby_candidate_id) || '/passwd.pdf') || '|' || a.cv_status FROM resume_pipeline.applicants a JOIN resume_pipeline.files f ON f.id = a.cv_file_id
                  WHERE a.ashby_candidate_id = '../../evil id'")"
    t_expect "a file that is no document fails its ats_file job clearly; the applicant keeps no CV" "failed|true|" \
        "$(as_q "SELECT j.state || '|' || (j.last_error LIKE 'the résumé file in Ashby is not a document the pipeline reads%') || '|' || coalesce(a.cv_file_id::text, '')
                   FROM resume_pipeline.jobs j JOIN resume_pipeline.applicants a ON a.id = j.target_id
                  WHERE j.kind = 'ats_file' AND a.ashby_candidate_id = 'txt-1'")"
    # A presigned URL in plain HTTP on another host (here localhost; a cloud metadata address in an
    # attack) is refused without being fetched; every download went without the key.
    as_control /_control/config "{\"file_url_base\": \"http://localhost:$RP_ASHBY_PORT\"}" >/dev/null
    as_control /_control/candidates '[{"id": "far-1", "name": "Far Person", "resume": {"name": "far.pdf"}}]' >/dev/null
    as_sync $as_a >/dev/null
    as_idle
    t_expect "a plain-HTTP download URL outside Ashby's address is refused, never fetched" "failed|true|0" \
        "$(as_q "SELECT j.state || '|' || (j.last_error LIKE '%plain-HTTP download URL outside Ashby''s own address%')
                   FROM resume_pipeline.jobs j JOIN resume_pipeline.applicants a ON a.id = j.target_id
                  WHERE j.kind = 'ats_file' AND a.ashby_candidate_id = 'far-1'")|$(
           as_api /_control/requests | jq -r '[.requests[] | select((.path | startswith("/_files/")) and .headers.host != null and (.headers.host | startswith("localhost")))] | length')"
    t_expect "every download went without the key" "0" \
        "$(as_api /_control/requests | jq -r '[.requests[] | select((.path | startswith("/_files/")) and .headers.authorization != null)] | length')"
}

as_run
servers_stop
as_reset_settings
rm -rf "$as_dir"
