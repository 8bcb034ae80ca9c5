# The hooks stand-in (test/hooks_fake/server.mjs) against curl. (a) The LinkedIn-profile provider:
# a seeded profile comes back as seeded, an unseeded /in/<id> URL gets a deterministic generated
# profile in the documented shape, unknown profiles 404, a bad key 401, a scripted 429 carries
# retry-after, and so does a used-up request limit. (b) HTTP step endpoints: POST /hooks/<name>
# echoes the applicant's id and name length, scripted outcomes per hook (500, 503, hang, reset,
# down for a count, raw), /_control/down keeps a hook at 503 until it is brought back up, and
# --secret requires the bearer. The control API logs requests with their parsed bodies. Needs
# node, curl and jq, not the cluster.
hf_dir=$(mktemp -d /tmp/rp-hooks-fake.XXXXXX)
hf_key=lk_test_key_123
hf_secret=whsec_test_456
hf_port=

# hf_call METHOD PATH [curl args...]: body in $hf_dir/b, headers in $hf_dir/h; prints the status
# (000 when there was no answer); curl's exit status in $hf_dir/rc.
hf_call() {
    local method=$1 path=$2
    shift 2
    : >"$hf_dir/b"
    : >"$hf_dir/h"
    curl -s -o "$hf_dir/b" -D "$hf_dir/h" -w '%{http_code}' -X "$method" --max-time 10 "$@" "http://127.0.0.1:$hf_port$path"
    echo $? >"$hf_dir/rc"
}
hf_rc() { cat "$hf_dir/rc"; }
hf_header() { sed -n "s/^$1: *//Ip" "$hf_dir/h" | tr -d '\r' | head -1; }
hf_jq() { jq -r "$1" "$hf_dir/b" 2>/dev/null; }
# hf_profile URL [curl args...]: GET /linkedin/profile?url=URL with the key.
hf_profile() {
    local url=$1
    shift
    hf_call GET "/linkedin/profile?url=$(jq -rn --arg u "$url" '$u | @uri')" -H "Authorization: Bearer $hf_key" "$@"
}
# hf_hook NAME JSON [curl args...]: POST /hooks/NAME with the secret.
hf_hook() {
    local name=$1 body=$2
    shift 2
    hf_call POST "/hooks/$name" -H 'Content-Type: application/json' -H "Authorization: Bearer $hf_secret" --data-binary "$body" "$@"
}
hf_control() { # METHOD PATH [JSON]
    if [ -n "${3:-}" ]; then
        curl -s -X "$1" --max-time 10 -H 'Content-Type: application/json' --data-binary "$3" "http://127.0.0.1:$hf_port$2"
    else
        curl -s -X "$1" --max-time 10 "http://127.0.0.1:$hf_port$2"
    fi
}

if ! command -v node >/dev/null || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    t_skip "hooks_fake" "node, curl or jq is missing"
elif ! servers_hooks "$hf_dir" --key "$hf_key" --secret "$hf_secret"; then
    t_fail "hooks_fake: servers_hooks starts the server on a free port" "$(cat "$hf_dir"/hooks.* 2>/dev/null)"
else
    hf_port=$RP_HOOKS_PORT
    t_pass "hooks_fake: servers_hooks starts the server and sets RP_HOOKS_PORT ($hf_port)"

    # ---- (a) LinkedIn-profile provider -------------------------------------------------------
    hf_out=$(hf_control POST /_control/profiles '[{"url": "https://www.linkedin.com/in/ada-lovelace/",
        "full_name": "Ada Lovelace", "headline": "Analyst at Analytical Engines", "city": "London", "country": "GB",
        "experiences": [{"company": "Analytical Engines", "title": "Analyst", "starts_at": {"year": 1842, "month": 1}, "ends_at": null}],
        "skills": ["Mathematics", "Poetry"], "connections": 500},
        {"url": "linkedin.com/in/charles-gone", "not_found": true}]')
    t_expect "hooks_fake: POST /_control/profiles seeds profiles by URL" "2 ada-lovelace" "$(jq -r '"\(.count) \(.identifiers[0])"' <<<"$hf_out" 2>/dev/null)"
    hf_status=$(hf_profile "https://uk.linkedin.com/in/Ada-Lovelace?trk=public_profile")
    if [ "$hf_status" = 200 ] && jq -e '.public_identifier == "ada-lovelace" and .full_name == "Ada Lovelace"
            and .headline == "Analyst at Analytical Engines" and .city == "London" and .country == "GB" and .summary == null
            and .experiences[0].company == "Analytical Engines" and .experiences[0].ends_at == null
            and .education == [] and .skills == ["Mathematics", "Poetry"] and .connections == 500' "$hf_dir/b" >/dev/null; then
        t_pass "hooks_fake: a seeded profile comes back as seeded (any form of its URL; missing fields null or empty)"
    else
        t_fail "hooks_fake: a seeded profile comes back as seeded" "status $hf_status: $(cat "$hf_dir/b")"
    fi
    hf_status=$(hf_profile "https://www.linkedin.com/in/jane-doe-4b2a1/")
    jq -S . "$hf_dir/b" >"$hf_dir/gen1.json" 2>/dev/null
    if [ "$hf_status" = 200 ] && jq -e '.public_identifier == "jane-doe-4b2a1" and .full_name == "Jane Doe"
            and (.headline | type == "string") and (.summary | type == "string") and (.city | type == "string")
            and (.country | test("^[A-Z]{2}$")) and (.connections | type == "number")
            and (.experiences | length >= 1) and .experiences[0].ends_at == null
            and (.experiences | all(has("company") and has("title") and (.starts_at | has("year") and has("month")) and has("ends_at")))
            and (.education | length >= 1) and (.skills | length >= 4)' "$hf_dir/b" >/dev/null 2>&1; then
        t_pass "hooks_fake: an unseeded /in/<id> URL gets a generated profile in the documented shape (name from the id)"
    else
        t_fail "hooks_fake: an unseeded /in/<id> URL gets a generated profile" "status $hf_status: $(cat "$hf_dir/b")"
    fi
    hf_profile "linkedin.com/in/jane-doe-4b2a1" >/dev/null
    t_expect "hooks_fake: the generated profile is deterministic" "$(cat "$hf_dir/gen1.json")" "$(jq -S . "$hf_dir/b" 2>/dev/null)"
    hf_s1=$(hf_profile "https://www.linkedin.com/in/charles-gone/")
    hf_b1=$(jq -c . "$hf_dir/b")
    hf_s2=$(hf_profile "https://www.linkedin.com/in/unknown-person-1")
    t_expect "hooks_fake: a profile seeded as not found and an unknown-* identifier get 404 {\"error\":\"Profile not found\"}" \
        '404 {"error":"Profile not found"} 404' "$hf_s1 $hf_b1 $hf_s2"
    t_expect "hooks_fake: a URL that is not a LinkedIn profile gets 400" 400 "$(hf_profile "https://example.com/in/someone")"
    t_expect "hooks_fake: a wrong key and no key get 401" "401 401 Invalid API key" \
        "$(hf_call GET '/linkedin/profile?url=linkedin.com%2Fin%2Fabc' -H 'Authorization: Bearer nope') $(hf_call GET '/linkedin/profile?url=linkedin.com%2Fin%2Fabc') $(hf_jq .error)"
    hf_control POST '/_control/script?provider=linkedin' '["429:3", "500", "ok"]' >/dev/null
    hf_s1=$(hf_profile "linkedin.com/in/ada-lovelace")
    hf_ra=$(hf_header retry-after)
    hf_s2=$(hf_profile "linkedin.com/in/ada-lovelace")
    hf_s3=$(hf_profile "linkedin.com/in/ada-lovelace")
    t_expect "hooks_fake: scripted provider outcomes: 429 with retry-after 3, 500, then the profile" "429 3 500 200" "$hf_s1 $hf_ra $hf_s2 $hf_s3"
    hf_control POST /_control/config '{"linkedin_limit": 2, "linkedin_window_s": 60}' >/dev/null
    hf_seen="$(hf_profile linkedin.com/in/ada-lovelace) $(hf_profile linkedin.com/in/ada-lovelace) $(hf_profile linkedin.com/in/ada-lovelace)"
    hf_ra=$(hf_header retry-after)
    if [ "$hf_seen" = "200 200 429" ] && [ "$hf_ra" -ge 1 ] && [ "$hf_ra" -le 60 ]; then
        t_pass "hooks_fake: with linkedin_limit 2 the third request in the window gets 429 with retry-after $hf_ra"
    else
        t_fail "hooks_fake: a used-up provider limit gets 429 with retry-after" "$hf_seen retry-after '$hf_ra'"
    fi
    hf_control POST /_control/config '{"linkedin_limit": 0}' >/dev/null

    # ---- (b) HTTP step endpoints -------------------------------------------------------------
    hf_status=$(hf_hook score '{"id": 42, "name": "José Núñez", "email": "jose@example.org"}')
    if [ "$hf_status" = 200 ] && jq -e '.ok == true and .result.echo_id == 42 and .result.name_length == 10
            and (.result.received_at | test("^\\d{4}-\\d\\d-\\d\\dT"))' "$hf_dir/b" >/dev/null; then
        t_pass "hooks_fake: POST /hooks/<name> answers {ok, result: {echo_id, name_length (characters), received_at}}"
    else
        t_fail "hooks_fake: POST /hooks/<name> default answer" "status $hf_status: $(cat "$hf_dir/b")"
    fi
    hf_hook other '{"id": "a-1"}' >/dev/null
    t_expect "hooks_fake: any hook name works; name_length is null without a name" '"a-1"|null' "$(hf_jq '"\(.result.echo_id | tojson)|\(.result.name_length)"')"
    t_expect "hooks_fake: a body that is not JSON gets 400" 400 "$(hf_hook score '{"id": ')"
    t_expect "hooks_fake: --secret: a wrong bearer and none get 401" "401 401 unauthorized" \
        "$(hf_call POST /hooks/score -H 'Authorization: Bearer wrong' --data-binary '{}') $(hf_call POST /hooks/score --data-binary '{}') $(hf_jq .error)"

    hf_control POST '/_control/script?hook=score' '["500", "503", {"status": 202, "body": {"queued": true}, "headers": {"x-step": "later"}}, "reset", "hang", "down:2", "ok"]' >/dev/null
    hf_seen=
    for _ in 1 2 3; do hf_seen+="$(hf_hook score '{"id": 1}'):$(jq -c . "$hf_dir/b") "; done
    t_expect "hooks_fake: scripted 500, 503 and a raw answer (status, body, headers) for one hook" \
        '500:{"ok":false,"error":"Internal Server Error"} 503:{"ok":false,"error":"Service Unavailable"} 202:{"queued":true} later' \
        "$hf_seen$(hf_header x-step)"
    t_expect "hooks_fake: another hook is not affected by that script" 200 "$(hf_hook other '{"id": 2}')"
    hf_status=$(hf_hook score '{"id": 1}')
    t_expect "hooks_fake: scripted reset closes the connection without an answer" "000 52" "$hf_status $(hf_rc)"
    hf_status=$(hf_hook score '{"id": 1}' --max-time 0.5)
    t_expect "hooks_fake: scripted hang never answers (the client times out)" "000 28" "$hf_status $(hf_rc)"
    hf_s1="$(hf_hook score '{"id": 1}') $(hf_rc)"
    hf_s2="$(hf_hook score '{"id": 1}') $(hf_rc)"
    hf_s3=$(hf_hook score '{"id": 7}')
    t_expect "hooks_fake: down:2 refuses two requests (connection closed at once), then the endpoint answers again" \
        "000 52|000 52|200 7" "$hf_s1|$hf_s2|$hf_s3 $(hf_jq .result.echo_id)"

    hf_control POST /_control/down '{"hook": "score", "down": true}' >/dev/null
    hf_seen="$(hf_hook score '{"id": 1}') $(hf_hook score '{"id": 1}') $(hf_hook score '{"id": 1}')"
    hf_other=$(hf_hook other '{"id": 1}')
    hf_control POST /_control/down '{"hook": "score", "down": false}' >/dev/null
    t_expect "hooks_fake: /_control/down keeps a hook at 503 until it is brought up (other hooks answer)" \
        "503 503 503 200 200" "$hf_seen $hf_other $(hf_hook score '{"id": 1}')"

    hf_out=$(hf_control GET '/_control/requests?path=/hooks/score')
    if jq -e '.count >= 10 and .requests[0].method == "POST" and .requests[0].hook == "score"
            and .requests[0].json.name == "José Núñez" and .requests[0].headers.authorization == "Bearer whsec_test_456"
            and .requests[0].status == 200 and (.requests | map(.status) | index("refused") != null)' <<<"$hf_out" >/dev/null 2>&1; then
        t_pass "hooks_fake: GET /_control/requests?path= logs each call with headers, parsed body and status (refused ones too)"
    else
        t_fail "hooks_fake: GET /_control/requests?path=" "$(head -c 2000 <<<"$hf_out")"
    fi
    hf_control POST /_control/reset >/dev/null
    t_expect "hooks_fake: /_control/reset empties the log and forgets seeded profiles (the URL now gets a generated one)" "0 200 true" \
        "$(hf_control GET /_control/requests | jq -r .count) $(hf_profile linkedin.com/in/ada-lovelace) $(hf_jq '.headline != "Analyst at Analytical Engines"')"
    t_expect "hooks_fake: GET /_control/health" "true" "$(hf_control GET /_control/health | jq -r .ok)"

    # ---- Lifetime ----------------------------------------------------------------------------
    hf_pid=${RP_SERVER_PIDS[-1]}
    kill -TERM "$hf_pid"
    hf_gone=no
    for _ in $(seq 50); do kill -0 "$hf_pid" 2>/dev/null || { hf_gone=yes; break; }; sleep 0.05; done
    t_expect "hooks_fake: the server stops on SIGTERM" yes "$hf_gone"
    (
        node test/hooks_fake/server.mjs --port 0 >"$hf_dir/orphan.out" 2>&1 &
        echo $! >"$hf_dir/orphan.pid"
        for _ in $(seq 100); do grep -q '^listening ' "$hf_dir/orphan.out" && break; sleep 0.05; done
    )
    hf_orphan=$(cat "$hf_dir/orphan.pid")
    hf_gone=no
    for _ in $(seq 60); do kill -0 "$hf_orphan" 2>/dev/null || { hf_gone=yes; break; }; sleep 0.05; done
    [ "$hf_gone" = yes ] || kill "$hf_orphan" 2>/dev/null
    t_expect "hooks_fake: the server stops by itself when its parent process dies" yes "$hf_gone"
fi
servers_stop
rm -rf "$hf_dir"
unset -f hf_call hf_rc hf_header hf_jq hf_profile hf_hook hf_control
