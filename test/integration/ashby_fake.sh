# The Ashby API stand-in (test/ashby_fake/server.mjs) against curl: what a client author relies
# on. HTTP Basic auth (401 without a key, 403 for an unknown key and for a key without the
# endpoint's permission); candidate.list walks 250 candidates in 3 pages of at most 100 with
# nextCursor, the syncToken only on the last page; an incremental listing with it returns only the
# candidates changed since; an expired token gets sync_token_expired and a scripted
# incremental_sync_too_large comes as HTTP 200 success:false; business errors; 429 with and without
# Retry-After; 5xx; file.info hands out a presigned URL on the stand-in that downloads the résumé
# PDF without auth and expires; createNote and setValues are recorded; the server stops on SIGTERM.
# Needs node, curl and jq, not the cluster.
af_dir=$(mktemp -d /tmp/rp-ashby-fake.XXXXXX)
af_key=ashby_key_$RANDOM$RANDOM
af_port=

# af_api ENDPOINT JSON [curl args...]: the body in $af_dir/b, headers in $af_dir/h; prints the
# status. Sends the key as Basic auth unless the arguments carry an Authorization.
af_api() {
    local endpoint=$1 body=$2
    shift 2
    local auth=(-u "$af_key:") args=" ${*,,}"
    [[ $args == *"authorization:"* || $args == *" -u "* ]] && auth=()
    curl -s -o "$af_dir/b" -D "$af_dir/h" -w '%{http_code}' -X POST --max-time 10 "${auth[@]}" \
        -H 'Content-Type: application/json' -H 'Accept: application/json; version=1' "$@" \
        --data-binary "$body" "http://127.0.0.1:$af_port/$endpoint"
}
af_jq() { jq -r "$1" "$af_dir/b" 2>/dev/null; }
af_header() { sed -n "s/^$1: *//Ip" "$af_dir/h" | tr -d '\r' | head -1; }
af_control() { # METHOD PATH [JSON]
    if [ -n "${3:-}" ]; then
        curl -s -X "$1" --max-time 10 -H 'Content-Type: application/json' --data-binary "$3" "http://127.0.0.1:$af_port$2"
    else
        curl -s -X "$1" --max-time 10 "http://127.0.0.1:$af_port$2"
    fi
}

if ! command -v node >/dev/null || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    t_skip "ashby_fake" "node, curl or jq is missing"
elif ! servers_ashby "$af_dir" --key "$af_key"; then
    t_fail "ashby_fake: servers_ashby starts the server on a free port" "$(cat "$af_dir"/ashby.* 2>/dev/null)"
else
    af_port=$RP_ASHBY_PORT
    t_pass "ashby_fake: servers_ashby starts the server and sets RP_ASHBY_PORT ($af_port)"

    # ---- Auth --------------------------------------------------------------------------------
    af_status=$(curl -s -o "$af_dir/b" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$af_port/candidate.list")
    t_expect "ashby_fake: a request without a key gets 401 success:false unauthenticated" "401|false|unauthenticated" \
        "$af_status|$(af_jq '[(.success | tostring), .errorInfo.code] | join("|")')"
    t_expect "ashby_fake: an unknown key gets 403 invalid_api_key" "403|invalid_api_key" \
        "$(af_api candidate.list '{}' -u 'wrong:')|$(af_jq .errorInfo.code)"
    af_control POST /_control/config "{\"no_permission_keys\": [\"readonly\"], \"denied_endpoints\": [\"customField.setValues\"]}" >/dev/null
    t_expect "ashby_fake: a key without the endpoint's permission gets 403 missing_endpoint_permission" \
        "403|missing_endpoint_permission|403|missing_endpoint_permission" \
        "$(af_api candidate.list '{}' -u 'readonly:')|$(af_jq .errorInfo.code)|$(af_api customField.setValues '{}')|$(af_jq .errorInfo.code)"
    af_control POST /_control/config '{"denied_endpoints": []}' >/dev/null

    # ---- Pagination and sync tokens ----------------------------------------------------------
    af_control POST /_control/candidates '{"generate": 250}' >/dev/null
    af_cursor=null af_pages=0 af_total=0 af_tokens=0 af_token=
    while :; do
        af_api candidate.list "{\"limit\": 100, \"cursor\": $af_cursor}" >/dev/null
        af_pages=$((af_pages + 1)); af_total=$((af_total + $(af_jq '.results | length')))
        [ "$(af_jq '.syncToken // empty')" != "" ] && { af_tokens=$((af_tokens + 1)); af_token=$(af_jq .syncToken); }
        [ "$(af_jq .moreDataAvailable)" = true ] || break
        af_cursor=$(af_jq '.nextCursor | tojson')
        [ $af_pages -lt 10 ] || break
    done
    t_expect "ashby_fake: 250 candidates come in 3 pages, the syncToken only on the last" "3|250|1" "$af_pages|$af_total|$af_tokens"
    af_api candidate.list '{"limit": 500}' >/dev/null
    t_expect "ashby_fake: limit is capped at 100; candidates have id, name, emailAddresses, applicationIds, fileHandles, resumeFileHandle" \
        "100|true" "$(af_jq '.results | length')|$(af_jq '.results[0] | has("id") and has("name") and has("emailAddresses") and has("applicationIds") and has("fileHandles") and (.resumeFileHandle.handle | type == "string")')"
    af_api candidate.list "{\"syncToken\": \"$af_token\"}" >/dev/null
    t_expect "ashby_fake: an incremental listing with nothing changed is empty, with a new token" "0|false|true" \
        "$(af_jq '.results | length')|$(af_jq .moreDataAvailable)|$(af_jq '.syncToken | type == "string"')"
    af_api candidate.list '{"limit": 2}' >/dev/null
    af_first=$(af_jq .results[0].id)
    af_changed=$(af_jq .results[1].id)
    af_control POST /_control/candidates "[{\"id\": \"$af_changed\", \"name\": \"Renamed Candidate\"}, {\"name\": \"New Candidate\"}]" >/dev/null
    af_api candidate.list "{\"syncToken\": \"$af_token\"}" >/dev/null
    t_expect "ashby_fake: an incremental listing returns only the changed and new candidates" "Renamed Candidate,New Candidate" \
        "$(af_jq '[.results[].name] | join(",")')"
    af_control POST /_control/expire_tokens >/dev/null
    t_expect "ashby_fake: an expired token gets HTTP 200 success:false sync_token_expired" "200|false|sync_token_expired" \
        "$(af_api candidate.list "{\"syncToken\": \"$af_token\"}")|$(af_jq .success)|$(af_jq .errorInfo.code)"
    af_control POST /_control/script '["incremental_sync_too_large", "error:candidate_not_found"]' >/dev/null
    t_expect "ashby_fake: scripted incremental_sync_too_large and business errors come as HTTP 200 success:false" \
        "200|incremental_sync_too_large|200|candidate_not_found" \
        "$(af_api candidate.list '{}')|$(af_jq .errorInfo.code)|$(af_api candidate.list '{}')|$(af_jq .errorInfo.code)"

    # ---- Rate limits and failures ------------------------------------------------------------
    af_control POST /_control/script '["429:2", "429", "500", "503", "malformed"]' >/dev/null
    t_expect "ashby_fake: 429 rate_limit_exceeded with Retry-After, then without" "429|rate_limit_exceeded|2|429|" \
        "$(af_api candidate.list '{}')|$(af_jq .errorInfo.code)|$(af_header retry-after)|$(af_api candidate.list '{}')|$(af_header retry-after)"
    t_expect "ashby_fake: scripted 500 and 503, then a malformed body" "500|503|200|bad" \
        "$(af_api candidate.list '{}')|$(af_api candidate.list '{}')|$(af_api candidate.list '{}')|$(jq . "$af_dir/b" >/dev/null 2>&1 && echo good || echo bad)"

    # ---- Files -------------------------------------------------------------------------------
    af_handle=$(af_control GET /_control/candidates | jq -r '.candidates[0].resumeFileHandle.handle')
    af_api file.info "{\"fileHandle\": \"$af_handle\"}" >/dev/null
    af_url=$(af_jq .results.url)
    t_expect "ashby_fake: file.info gives a presigned URL on the stand-in" "yes" \
        "$([[ $af_url == "http://127.0.0.1:$af_port/_files/"*"expires="*"sig="* ]] && echo yes || echo "$af_url")"
    curl -s -o "$af_dir/cv.pdf" -w '%{http_code}' "$af_url" >"$af_dir/status"
    t_expect "ashby_fake: the URL downloads the résumé without auth: a PDF naming the candidate" "200|Candidate 0001" \
        "$(cat "$af_dir/status")|$(pdftotext "$af_dir/cv.pdf" - 2>/dev/null | head -1)"
    t_expect "ashby_fake: an unknown handle gets file_not_found" "file_not_found" \
        "$(af_api file.info '{"fileHandle": "nope"}' >/dev/null; af_jq .errorInfo.code)"
    af_control POST /_control/config '{"url_ttl_ms": 200}' >/dev/null
    af_api file.info "{\"fileHandle\": \"$af_handle\"}" >/dev/null
    af_url=$(af_jq .results.url)
    sleep 0.4
    t_expect "ashby_fake: a presigned URL expires (403 AccessDenied)" "403" "$(curl -s -o "$af_dir/b" -w '%{http_code}' "$af_url")"

    # ---- Writes ------------------------------------------------------------------------------
    af_api candidate.createNote "{\"candidateId\": \"$af_first\", \"note\": \"Score 80/100\"}" >/dev/null
    af_api customField.setValues "{\"objectId\": \"$af_first\", \"objectType\": \"Candidate\", \"values\": [{\"fieldId\": \"f1\", \"fieldValue\": 80}]}" >/dev/null
    t_expect "ashby_fake: createNote and setValues are recorded" "1|Score 80/100|1|80" \
        "$(af_control GET /_control/notes | jq -r '[(.count | tostring), .notes[0].content] | join("|")')|$(
           af_control GET /_control/custom_fields | jq -r '[(.count | tostring), (.custom_fields[0].values[0].fieldValue | tostring)] | join("|")')"
    t_expect "ashby_fake: createNote for an unknown candidate is candidate_not_found" "200|candidate_not_found" \
        "$(af_api candidate.createNote '{"candidateId": "nope", "note": "x"}')|$(af_jq .errorInfo.code)"
    t_expect "ashby_fake: the request log has the key each request used" "true" \
        "$(af_control GET '/_control/requests?path=/candidate.createNote' | jq -r --arg k "$af_key" '[.requests[] | .key == $k] | all')"

    # ---- Lifetime ----------------------------------------------------------------------------
    af_pid=${RP_SERVER_PIDS[-1]}
    kill -TERM "$af_pid"
    af_gone=no
    for _ in $(seq 50); do kill -0 "$af_pid" 2>/dev/null || { af_gone=yes; break; }; sleep 0.05; done
    t_expect "ashby_fake: the server stops on SIGTERM" yes "$af_gone"
fi
servers_stop
rm -rf "$af_dir"
unset -f af_api af_jq af_header af_control
