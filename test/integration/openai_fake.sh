# The OpenAI stand-in (test/openai_fake/server.mjs) against curl: what a client author relies on.
# A strict structured-outputs request gets a completion whose content is JSON valid against the
# request's schema and carries the name and e-mail of the résumé text; the real API's checks
# (key, JSON body, model, messages, strict schema rules) answer its error format and statuses;
# every scripted failure gives its documented status, headers and body; the control API counts
# the calls; /v1/embeddings answers the real API's shape (floats or base64, 256 or `dimensions`
# values) with vectors under which a résumé written for a posting is closer to it than unrelated
# ones, its errors and scripted failures; the Files and Batch APIs take a curl -F upload, run a
# batch through validating, in_progress, finalizing and completed with each line answered as it
# would be live (markers included), write the output and error files to join on custom_id, fail a
# batch with bad lines, expire or cancel one, and fail their own endpoints when scripted; the
# server stops on SIGTERM and when its parent dies.
# Needs node and curl, not the cluster. The server is stopped by PID at the end (and stops by
# itself if this shell dies).
of_dir=$(mktemp -d /tmp/rp-openai-fake.XXXXXX)
of_srv=test/openai_fake/server.mjs
of_pid=
of_port=

# of_start LOGFILE [ARGS...]: starts a server on a free port; sets of_started_pid, of_started_port.
of_start() {
    local out=$1
    shift
    node "$of_srv" --port 0 "$@" >"$out" 2>"$out.err" &
    of_started_pid=$!
    of_started_port=
    for _ in $(seq 100); do
        of_started_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out" 2>/dev/null)
        [ -n "$of_started_port" ] && return 0
        kill -0 "$of_started_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# of_call METHOD PATH [BODYFILE] [curl args...]: body in $of_dir/b, headers in $of_dir/h; prints
# the status (000 when there was no answer); curl's exit status is in $of_dir/rc (see of_rc).
of_call() {
    local method=$1 path=$2 body=${3:-}
    shift 3 2>/dev/null || shift $#
    local args=(-s -o "$of_dir/b" -D "$of_dir/h" -w '%{http_code}' -X "$method" --max-time 10)
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
    : >"$of_dir/b"
    : >"$of_dir/h"
    curl "${args[@]}" "$@" "http://127.0.0.1:$of_port$path"
    echo $? >"$of_dir/rc"
}
of_rc() { cat "$of_dir/rc"; }
of_chat() { of_call POST /v1/chat/completions "$1" -H 'Authorization: Bearer sk-fake-test' "${@:2}"; }
of_header() { sed -n "s/^$1: *//Ip" "$of_dir/h" | tr -d '\r' | head -1; }
of_jq() { jq -r "$1" "$of_dir/b" 2>/dev/null; }
of_content() { jq -r '.choices[0].message.content' "$of_dir/b" >"$of_dir/content.json"; }
# of_error_is STATUS TYPE CODE PARAM: the body is {"error": {message, type, param, code}} so.
of_error_is() {
    jq -e --arg t "$2" --arg c "$3" --arg p "$4" '
        (.error | keys | sort) == ["code", "message", "param", "type"]
        and (.error.message | type == "string" and length > 0)
        and .error.type == $t
        and (.error.code // "null") == $c
        and (.error.param // "null") == $p' "$of_dir/b" >/dev/null 2>&1
}
of_script() {
    printf '%s' "$1" >"$of_dir/script.json"
    of_call POST /_control/script "$of_dir/script.json" >/dev/null
}

if ! command -v node >/dev/null || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    t_skip "openai_fake" "node, curl or jq is missing"
elif ! of_start "$of_dir/server.out" --key sk-fake-test; then
    t_fail "openai_fake: the server starts on a free port and prints it" "$(cat "$of_dir/server.out" "$of_dir/server.out.err" 2>/dev/null)"
else
    of_pid=$of_started_pid
    of_port=$of_started_port
    t_pass "openai_fake: the server starts on a free port and prints 'listening 127.0.0.1:$of_port'"

    # ---- A valid strict request ------------------------------------------------------------
    cat >"$of_dir/schema.json" <<'JSON'
{"type": "object", "additionalProperties": false,
 "required": ["name", "email", "phone", "label", "skills", "profiles", "location", "work"],
 "properties": {
   "name": {"type": "string"},
   "email": {"type": ["string", "null"]},
   "phone": {"type": ["string", "null"]},
   "label": {"type": ["string", "null"]},
   "skills": {"type": "array", "items": {"type": "string"}},
   "profiles": {"type": "array", "items": {"type": "object", "additionalProperties": false,
     "required": ["network", "url"], "properties": {"network": {"type": ["string", "null"]}, "url": {"type": "string"}}}},
   "location": {"anyOf": [{"$ref": "#/$defs/place"}, {"type": "null"}]},
   "work": {"type": "array", "items": {"$ref": "#/$defs/job"}}},
 "$defs": {
   "place": {"type": "object", "additionalProperties": false, "required": ["city"], "properties": {"city": {"type": ["string", "null"]}}},
   "job": {"type": "object", "additionalProperties": false, "required": ["name", "start"],
           "properties": {"name": {"type": "string"}, "start": {"type": ["string", "null"], "format": "date"}}}}}
JSON
    of_resume=$'Ada Lovelace\nAnalyst of Engines\nLondon, UK\nada.lovelace@example.org | +44 20 7946 0958 | https://github.com/ada\nSkills: Mathematics, Poetry, Notes\nExperience\n1842 - 1843 Translator'
    # of_request FILE TEXT [STRICT] [SCHEMAFILE] [MODEL]
    of_request() {
        jq -n --arg text "$2" --argjson strict "${3:-true}" --slurpfile schema "${4:-$of_dir/schema.json}" --arg model "${5:-gpt-4o-2024-08-06}" '
            {model: $model, max_completion_tokens: 2000,
             messages: [{role: "system", content: "Extract the candidate profile from the résumé."},
                        {role: "user", content: $text}],
             response_format: {type: "json_schema",
                               json_schema: {name: "profile", strict: $strict, schema: $schema[0]}}}' >"$1"
    }
    of_request "$of_dir/ok.json" "$of_resume"

    of_status=$(of_chat "$of_dir/ok.json")
    of_content
    if [ "$of_status" = 200 ] &&
        jq -e '.object == "chat.completion" and (.id | startswith("chatcmpl-")) and (.created | type == "number")
               and .model == "gpt-4o-2024-08-06" and .choices[0].finish_reason == "stop"
               and .choices[0].message.role == "assistant" and .choices[0].message.refusal == null
               and (.choices[0].message.content | type == "string")
               and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens and .usage.prompt_tokens > 0' \
            "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: a valid strict request gets 200 with a chat.completion (stop, refusal null, usage adds up)"
    else
        t_fail "openai_fake: a valid strict request gets 200 with a chat.completion" "status $of_status: $(head -c 2000 "$of_dir/b")"
    fi
    if of_err=$(node test/openai_fake/validate.mjs "$of_dir/schema.json" "$of_dir/content.json" --strict); then
        t_pass "openai_fake: the content is JSON valid against the request's strict schema"
    else
        t_fail "openai_fake: the content is JSON valid against the request's strict schema" "$of_err"$'\n'"$(cat "$of_dir/content.json")"
    fi
    t_expect "openai_fake: the content's name is the résumé's first line" "Ada Lovelace" "$(jq -r .name "$of_dir/content.json" 2>/dev/null)"
    t_expect "openai_fake: the content's email is the résumé's e-mail address" "ada.lovelace@example.org" "$(jq -r .email "$of_dir/content.json" 2>/dev/null)"
    t_expect "openai_fake: phone, profiles and skills come from the text, unknown arrays are empty" \
        "+44 20 7946 0958|https://github.com/ada|Mathematics,Poetry,Notes|0" \
        "$(jq -r '[.phone, .profiles[0].url, (.skills | join(",")), (.work | length | tostring)] | join("|")' "$of_dir/content.json" 2>/dev/null)"
    of_missing=
    for h in x-request-id x-ratelimit-limit-requests x-ratelimit-remaining-requests x-ratelimit-limit-tokens \
        x-ratelimit-remaining-tokens x-ratelimit-reset-requests x-ratelimit-reset-tokens; do
        [ -n "$(of_header "$h")" ] || of_missing+=" $h"
    done
    if [ -z "$of_missing" ] && [[ $(of_header x-ratelimit-reset-requests) =~ ^[0-9.hms]+$ ]] &&
        [[ $(of_header x-ratelimit-remaining-requests) =~ ^[0-9]+$ ]]; then
        t_pass "openai_fake: x-request-id and the six x-ratelimit-* headers (Go-style reset durations)"
    else
        t_fail "openai_fake: x-request-id and the six x-ratelimit-* headers" "missing:${of_missing}"$'\n'"$(cat "$of_dir/h")"
    fi
    # Another text, another answer: the content follows the text, not anything else.
    of_request "$of_dir/other.json" $'\n\n  Charles Babbage  \ncb@engine.example\n'
    of_chat "$of_dir/other.json" >/dev/null
    of_content
    t_expect "openai_fake: another résumé text gives another name and e-mail (null where nothing is found)" \
        "Charles Babbage|cb@engine.example|null" "$(jq -r '[.name, .email, (.phone // "null")] | join("|")' "$of_dir/content.json" 2>/dev/null)"

    # ---- What the real API checks ----------------------------------------------------------
    of_status=$(of_call POST /v1/chat/completions "$of_dir/ok.json" -H 'Authorization: Bearer sk-wrong-key-0000')
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error invalid_api_key null; then
        t_pass "openai_fake: a wrong key gets 401 invalid_api_key in the error format"
    else
        t_fail "openai_fake: a wrong key gets 401 invalid_api_key in the error format" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_call POST /v1/chat/completions "$of_dir/ok.json")
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error null null && of_jq .error.message | grep -q "didn't provide an API key"; then
        t_pass "openai_fake: no key gets 401 (\"You didn't provide an API key\", code null, as the real API)"
    else
        t_fail "openai_fake: no key gets 401" "status $of_status: $(cat "$of_dir/b")"
    fi
    printf '{"model": "gpt-4o", "messages": [' >"$of_dir/broken.json"
    of_status=$(of_chat "$of_dir/broken.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error null null && of_jq .error.message | grep -q 'could not parse the JSON body'; then
        t_pass "openai_fake: a malformed JSON body gets 400"
    else
        t_fail "openai_fake: a malformed JSON body gets 400" "status $of_status: $(cat "$of_dir/b")"
    fi
    jq 'del(.model)' "$of_dir/ok.json" >"$of_dir/nomodel.json"
    of_status=$(of_chat "$of_dir/nomodel.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error null null; then
        t_pass "openai_fake: a request without model gets 400"
    else
        t_fail "openai_fake: a request without model gets 400" "status $of_status: $(cat "$of_dir/b")"
    fi
    jq 'del(.messages)' "$of_dir/ok.json" >"$of_dir/nomessages.json"
    of_status=$(of_chat "$of_dir/nomessages.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error missing_required_parameter messages; then
        t_pass "openai_fake: a request without messages gets 400 missing_required_parameter (param messages)"
    else
        t_fail "openai_fake: a request without messages gets 400 missing_required_parameter" "status $of_status: $(cat "$of_dir/b")"
    fi
    jq '. + {temprature: 0}' "$of_dir/ok.json" >"$of_dir/typo.json"
    of_status=$(of_chat "$of_dir/typo.json")
    if [ "$of_status" = 400 ] && of_jq .error.message | grep -q 'Unrecognized request argument supplied: temprature'; then
        t_pass "openai_fake: an unknown request parameter gets 400 (Unrecognized request argument)"
    else
        t_fail "openai_fake: an unknown request parameter gets 400" "status $of_status: $(cat "$of_dir/b")"
    fi
    printf '{"models": ["gpt-4o-2024-08-06"]}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null
    of_request "$of_dir/unknown_model.json" "$of_resume" true "$of_dir/schema.json" gpt-nonexistent
    of_status=$(of_chat "$of_dir/unknown_model.json")
    if [ "$of_status" = 404 ] && of_error_is 404 invalid_request_error model_not_found null &&
        [ "$(of_chat "$of_dir/ok.json")" = 200 ]; then
        t_pass "openai_fake: a model outside the configured list gets 404 model_not_found, a listed one 200"
    else
        t_fail "openai_fake: a model outside the configured list gets 404 model_not_found" "status $of_status: $(cat "$of_dir/b")"
    fi

    # Strict schemas the real API refuses: each gets 400 naming response_format.
    of_bad_schema() { # NAME JQ-EDIT EXPECTED-MESSAGE-PART
        jq "$2" "$of_dir/schema.json" >"$of_dir/bad_schema.json"
        of_request "$of_dir/bad.json" "$of_resume" true "$of_dir/bad_schema.json"
        local status
        status=$(of_chat "$of_dir/bad.json")
        if [ "$status" = 400 ] && of_error_is 400 invalid_request_error null response_format &&
            of_jq .error.message | grep -q "^Invalid schema for response_format 'profile': .*$3"; then
            t_pass "openai_fake: strict schema $1 gets 400 invalid_request_error, param response_format"
        else
            t_fail "openai_fake: strict schema $1 gets 400 invalid_request_error, param response_format" "status $status: $(cat "$of_dir/b")"
        fi
    }
    of_bad_schema "without additionalProperties: false" 'del(.additionalProperties)' "context=(), 'additionalProperties' is required to be supplied and to be false"
    of_bad_schema "with a nested object allowing additional properties" '.["$defs"].job.additionalProperties = true' "context=('\$defs', 'job'), 'additionalProperties'"
    of_bad_schema "with a property missing from required" '.required -= ["phone"]' "'required' is required to be supplied and to be an array including every key in properties. Missing 'phone'"
    of_bad_schema "with allOf" '.properties.name = {allOf: [{type: "string"}]}' "'allOf' is not permitted"
    of_bad_schema "with minLength" '.properties.name.minLength = 1' "'minLength' is not permitted"
    of_bad_schema "with a root anyOf" '{anyOf: [.]}' "must be a JSON Schema of 'type: \"object\"'"
    of_bad_schema "with a dangling \$ref" '.properties.work.items["$ref"] = "#/$defs/nothing"' "not found"
    jq 'del(.additionalProperties) | .required -= ["phone"]' "$of_dir/schema.json" >"$of_dir/loose_schema.json"
    of_request "$of_dir/loose.json" "$of_resume" false "$of_dir/loose_schema.json"
    t_expect "openai_fake: the same loose schema with strict false is accepted (200)" 200 "$(of_chat "$of_dir/loose.json")"

    # ---- Scripted outcomes -----------------------------------------------------------------
    of_call POST /_control/reset "" >/dev/null
    of_script '["429:50", "insufficient_quota", "500", "503", "401", "400", "malformed", "truncated", "refusal",
                "content_filter", "invalid_json_content", "schema_violation", "502"]'
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 429 ] && of_error_is 429 requests rate_limit_exceeded null &&
        [ "$(of_header retry-after-ms)" = 50 ] && [ "$(of_header retry-after)" = 1 ] &&
        [ "$(of_header x-ratelimit-remaining-requests)" = 0 ] && [ -n "$(of_header x-request-id)" ]; then
        t_pass "openai_fake: scripted 429 rate_limit_exceeded with retry-after-ms 50, retry-after 1, remaining 0"
    else
        t_fail "openai_fake: scripted 429 rate_limit_exceeded" "status $of_status: $(cat "$of_dir/h" "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 429 ] && of_error_is 429 insufficient_quota insufficient_quota null &&
        [ -z "$(of_header retry-after)" ] && [ -z "$(of_header retry-after-ms)" ]; then
        t_pass "openai_fake: scripted insufficient_quota is a 429 of type insufficient_quota without retry-after"
    else
        t_fail "openai_fake: scripted insufficient_quota" "status $of_status: $(cat "$of_dir/h" "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 500 ] && of_error_is 500 server_error null null; then t_pass "openai_fake: scripted 500 server_error"
    else t_fail "openai_fake: scripted 500 server_error" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 503 ] && of_error_is 503 server_error null null; then t_pass "openai_fake: scripted 503 server_error"
    else t_fail "openai_fake: scripted 503 server_error" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error invalid_api_key null; then t_pass "openai_fake: scripted 401 invalid_api_key"
    else t_fail "openai_fake: scripted 401 invalid_api_key" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error context_length_exceeded messages; then t_pass "openai_fake: scripted 400 context_length_exceeded"
    else t_fail "openai_fake: scripted 400 context_length_exceeded" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 200 ] && ! jq . "$of_dir/b" >/dev/null 2>&1 && [ -s "$of_dir/b" ]; then
        t_pass "openai_fake: scripted malformed is a 200 whose body is not JSON"
    else
        t_fail "openai_fake: scripted malformed is a 200 whose body is not JSON" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    of_content
    if [ "$of_status" = 200 ] && [ "$(of_jq '.choices[0].finish_reason')" = length ] && ! jq . "$of_dir/content.json" >/dev/null 2>&1; then
        t_pass "openai_fake: scripted truncated has finish_reason length and cut-off content"
    else
        t_fail "openai_fake: scripted truncated has finish_reason length and cut-off content" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 200 ] && jq -e '.choices[0].message.content == null and (.choices[0].message.refusal | type == "string" and length > 0)' "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: scripted refusal has content null and message.refusal set"
    else
        t_fail "openai_fake: scripted refusal has content null and message.refusal set" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    t_expect "openai_fake: scripted content_filter has finish_reason content_filter" "200 content_filter" "$of_status $(of_jq '.choices[0].finish_reason')"
    of_status=$(of_chat "$of_dir/ok.json")
    of_content
    if [ "$of_status" = 200 ] && [ "$(of_jq '.choices[0].finish_reason')" = stop ] && ! jq . "$of_dir/content.json" >/dev/null 2>&1; then
        t_pass "openai_fake: scripted invalid_json_content finishes with stop but its content is not JSON"
    else
        t_fail "openai_fake: scripted invalid_json_content" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    of_content
    if [ "$of_status" = 200 ] && jq . "$of_dir/content.json" >/dev/null 2>&1 &&
        ! node test/openai_fake/validate.mjs "$of_dir/schema.json" "$of_dir/content.json" >/dev/null; then
        t_pass "openai_fake: scripted schema_violation content is JSON that breaks the schema"
    else
        t_fail "openai_fake: scripted schema_violation content is JSON that breaks the schema" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    if [ "$of_status" = 502 ] && grep -q '502 Bad Gateway' "$of_dir/b" && [[ $(of_header content-type) == text/html* ]]; then
        t_pass "openai_fake: scripted 502 is an HTML page from a proxy"
    else
        t_fail "openai_fake: scripted 502 is an HTML page from a proxy" "status $of_status: $(cat "$of_dir/b")"
    fi
    t_expect "openai_fake: once the script is used up, requests succeed again" 200 "$(of_chat "$of_dir/ok.json")"
    of_call GET /_control/requests "" >/dev/null
    t_expect "openai_fake: GET /_control/requests counts every call since the reset, in order" \
        "14|429,429,500,503,401,400,200,200,200,200,200,200,502,200|Bearer sk-fake-test" \
        "$(of_jq '[(.count | tostring), ([.requests[].status | tostring] | join(",")), .requests[0].headers.authorization] | join("|")')"
    t_expect "openai_fake: a recorded request carries the body as sent" "Ada Lovelace" \
        "$(jq -r '.requests[0].json.messages[1].content | split("\n")[0]' "$of_dir/b")"

    # Timing: latency, hang (the client gives up), reset (connection closed without an answer).
    of_script '["latency:300", "hang", "reset"]'
    of_t0=$(date +%s%N)
    of_status=$(of_chat "$of_dir/ok.json")
    of_ms=$((($(date +%s%N) - of_t0) / 1000000))
    if [ "$of_status" = 200 ] && [ "$of_ms" -ge 300 ]; then t_pass "openai_fake: scripted latency:300 answers 200 after ${of_ms} ms"
    else t_fail "openai_fake: scripted latency:300 answers 200 after at least 300 ms" "status $of_status after $of_ms ms"; fi
    of_t0=$(date +%s%N)
    of_status=$(of_chat "$of_dir/ok.json" --max-time 0.5)
    of_ms=$((($(date +%s%N) - of_t0) / 1000000))
    of_curl_rc=$(of_rc)
    if [ "$of_status" = 000 ] && [ "$of_curl_rc" = 28 ] && [ "$of_ms" -ge 450 ]; then
        t_pass "openai_fake: scripted hang never answers (the client times out after ${of_ms} ms)"
    else
        t_fail "openai_fake: scripted hang never answers" "status $of_status, curl rc $of_curl_rc after $of_ms ms"
    fi
    of_status=$(of_chat "$of_dir/ok.json")
    of_curl_rc=$(of_rc)
    if [ "$of_status" = 000 ] && { [ "$of_curl_rc" = 52 ] || [ "$of_curl_rc" = 56 ]; }; then
        t_pass "openai_fake: scripted reset closes the connection without an answer (curl rc $of_curl_rc)"
    else
        t_fail "openai_fake: scripted reset closes the connection without an answer" "status $of_status, curl rc $of_curl_rc"
    fi

    # Markers in the text: the first request with [[openai-fake:503*1]] fails, the retry succeeds.
    of_request "$of_dir/marker.json" $'[[openai-fake:503*1]]\nMarie Curie\nmarie@radium.example'
    of_first=$(of_chat "$of_dir/marker.json")
    of_second=$(of_chat "$of_dir/marker.json")
    of_content
    t_expect "openai_fake: a 503*1 marker fails once, then the same text succeeds without the marker in it" \
        "503 200 Marie Curie" "$of_first $of_second $(jq -r .name "$of_dir/content.json" 2>/dev/null)"
    of_request "$of_dir/quota.json" $'Pierre Curie [[openai-fake:insufficient_quota]]\npierre@radium.example'
    of_first=$(of_chat "$of_dir/quota.json")
    of_code1=$(of_jq .error.code)
    of_second=$(of_chat "$of_dir/quota.json")
    t_expect "openai_fake: an insufficient_quota marker fails every time" "429 insufficient_quota 429" "$of_first $of_code1 $of_second"

    # ---- Embeddings ----------------------------------------------------------------------------
    of_call POST /_control/reset "" >/dev/null
    of_posting='Senior Backend Engineer (Python, PostgreSQL). We are hiring a backend engineer to design and build data pipelines and REST APIs in Python and Django, with PostgreSQL databases, Docker and Kubernetes on AWS. Experience with distributed systems, message queues (Kafka) and CI/CD is required.'
    of_match='Jane Doe - Backend Engineer. 6 years building REST APIs and data pipelines in Python (Django, FastAPI). Designed PostgreSQL database schemas, ran services in Docker on Kubernetes (AWS EKS). Built Kafka message queue consumers and CI/CD pipelines for distributed systems.'
    of_chef='John Smith - Pastry Chef. 10 years in French bakeries: croissants, sourdough bread, wedding cakes and chocolate desserts. Managed a kitchen team of eight; food safety certification, menu planning and costing.'
    of_nurse='Maria Lopez - Registered Nurse. Intensive care unit experience, patient assessment, medication administration, wound care, electronic health records, BLS and ACLS certified, night shifts in a 400-bed hospital.'
    # of_embed FILE JQ-ARGS...: writes an embeddings request built by jq -n into FILE.
    of_embed() { local f=$1; shift; jq -n "$@" >"$f"; }
    of_emb() { of_call POST /v1/embeddings "$1" -H 'Authorization: Bearer sk-fake-test' "${@:2}"; }
    of_embed "$of_dir/emb.json" --arg a "$of_posting" --arg b "$of_match" --arg c "$of_chef" --arg d "$of_nurse" \
        '{model: "text-embedding-3-small", input: [$a, $b, $c, $d]}'
    of_status=$(of_emb "$of_dir/emb.json")
    cp "$of_dir/b" "$of_dir/emb_out.json"
    if [ "$of_status" = 200 ] &&
        jq -e '.object == "list" and .model == "text-embedding-3-small" and (.data | length == 4)
               and ([.data[] | .object] | unique == ["embedding"]) and ([.data[].index] == [0, 1, 2, 3])
               and ([.data[].embedding | length] | unique == [256])
               and ([.data[].embedding | map(. * .) | add | sqrt | . - 1 | fabs < 0.001] | all)
               and .usage.prompt_tokens > 0 and .usage.total_tokens == .usage.prompt_tokens' "$of_dir/b" >/dev/null &&
        [ -n "$(of_header x-request-id)" ] && [[ $(of_header x-ratelimit-remaining-requests) =~ ^[0-9]+$ ]]; then
        t_pass "openai_fake: POST /v1/embeddings answers a list of 4 unit-length 256-float embeddings with index, usage and the usual headers"
    else
        t_fail "openai_fake: POST /v1/embeddings answers the real API's shape" "status $of_status: $(head -c 600 "$of_dir/b")"
    fi
    of_sims=$(jq -r 'def dot(a; b): [a, b] | transpose | map(.[0] * .[1]) | add;
        [.data[].embedding] as $v | [dot($v[0]; $v[1]), dot($v[0]; $v[2]), dot($v[0]; $v[3])] | map(. * 1000 | round / 1000) | join(" ")' "$of_dir/b" 2>/dev/null)
    read -r of_sim_match of_sim_chef of_sim_nurse <<<"$of_sims"
    if awk -v m="$of_sim_match" -v c="$of_sim_chef" -v n="$of_sim_nurse" 'BEGIN { exit !(m > 0.4 && m > c + 0.3 && m > n + 0.3) }'; then
        t_pass "openai_fake: a résumé written for the posting is much closer to it (cosine $of_sim_match) than unrelated ones ($of_sim_chef, $of_sim_nurse)"
    else
        t_fail "openai_fake: similarity ordering posting/matching/unrelated" "cosines: $of_sims"
    fi
    of_embed "$of_dir/emb1.json" --arg a "$of_posting" '{model: "text-embedding-3-small", input: $a}'
    of_emb "$of_dir/emb1.json" >/dev/null
    t_expect "openai_fake: a string input gets one embedding, the same vector every time" "1 true" \
        "$(jq -r --slurpfile all "$of_dir/emb_out.json" '"\(.data | length) \(.data[0].embedding == $all[0].data[0].embedding)"' "$of_dir/b" 2>/dev/null)"
    of_embed "$of_dir/emb64.json" --arg a "$of_posting" '{model: "text-embedding-3-small", input: $a, dimensions: 64}'
    of_emb "$of_dir/emb64.json" >/dev/null
    cp "$of_dir/b" "$of_dir/emb64_out.json"
    t_expect "openai_fake: dimensions: 64 gives 64 floats of unit length" "64 true" \
        "$(of_jq '"\(.data[0].embedding | length) \(.data[0].embedding | map(. * .) | add | sqrt | . - 1 | fabs < 0.001)"')"
    of_embed "$of_dir/emb64b.json" --arg a "$of_posting" '{model: "text-embedding-3-small", input: $a, dimensions: 64, encoding_format: "base64"}'
    of_emb "$of_dir/emb64b.json" >/dev/null
    of_b64=$(of_jq '.data[0].embedding')
    of_same=$(node -e '
        const b = Buffer.from(process.argv[1], "base64");
        const got = Array.from({length: b.length / 4}, (_, i) => b.readFloatLE(i * 4));
        const want = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8")).data[0].embedding;
        console.log(got.length === want.length && got.every((x, i) => x === want[i]) ? "same" : `differs (${got.length} floats)`);' \
        "$of_b64" "$of_dir/emb64_out.json" 2>&1)
    t_expect "openai_fake: encoding_format base64 is the same vector as little-endian float32" "same" "$of_same"
    of_embed "$of_dir/embtok.json" '{model: "text-embedding-3-small", input: [[1820, 25, 997], [42]]}'
    t_expect "openai_fake: token-array inputs are accepted (usage counts the tokens)" "200 2 4" \
        "$(of_emb "$of_dir/embtok.json") $(of_jq '"\(.data | length) \(.usage.prompt_tokens)"')"

    # Errors, as the real API answers them.
    of_status=$(of_call POST /v1/embeddings "$of_dir/emb1.json")
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error null null; then t_pass "openai_fake: embeddings without a key get 401"
    else t_fail "openai_fake: embeddings without a key get 401" "status $of_status: $(cat "$of_dir/b")"; fi
    of_embed "$of_dir/embe.json" '{model: "text-embedding-3-small", input: ""}'
    of_status=$(of_emb "$of_dir/embe.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error null null && of_jq .error.message | grep -qF "'\$.input' is invalid"; then
        t_pass "openai_fake: an empty input gets 400 '\$.input' is invalid"
    else
        t_fail "openai_fake: an empty input gets 400" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_embed "$of_dir/embe.json" '{model: "text-embedding-3-small"}'
    of_status=$(of_emb "$of_dir/embe.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error missing_required_parameter input; then t_pass "openai_fake: a missing input gets 400 missing_required_parameter"
    else t_fail "openai_fake: a missing input gets 400 missing_required_parameter" "status $of_status: $(cat "$of_dir/b")"; fi
    of_embed "$of_dir/embe.json" '{model: "text-embedding-3-small", input: "x", encoding_format: "hex"}'
    of_status=$(of_emb "$of_dir/embe.json")
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error invalid_value encoding_format; then t_pass "openai_fake: an unknown encoding_format gets 400 (param encoding_format)"
    else t_fail "openai_fake: an unknown encoding_format gets 400" "status $of_status: $(cat "$of_dir/b")"; fi
    of_embed "$of_dir/embe.json" '{model: "text-embedding-ada-002", input: "x", dimensions: 8}'
    of_status=$(of_emb "$of_dir/embe.json")
    t_expect "openai_fake: dimensions with text-embedding-ada-002 gets 400" "400 This model does not support specifying dimensions." "$of_status $(of_jq .error.message)"
    printf '{"models": ["text-embedding-3-small"]}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null
    of_embed "$of_dir/embe.json" '{model: "text-embedding-3-large", input: "x"}'
    of_status=$(of_emb "$of_dir/embe.json")
    if [ "$of_status" = 404 ] && of_error_is 404 invalid_request_error model_not_found null; then t_pass "openai_fake: an embeddings model outside the configured list gets 404 model_not_found"
    else t_fail "openai_fake: an embeddings model outside the configured list gets 404" "status $of_status: $(cat "$of_dir/b")"; fi

    # Scripted outcomes: a queue for embeddings only, the shared queue, markers in the input.
    of_call POST /_control/reset "" >/dev/null
    printf '["refusal"]' >"$of_dir/script.json"
    t_expect "openai_fake: a chat-only behaviour cannot be scripted for embeddings" 400 "$(of_call POST '/_control/script?endpoint=embeddings' "$of_dir/script.json")"
    printf '["429:50", "500", "malformed", "hang:200"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=embeddings' "$of_dir/script.json" >/dev/null
    t_expect "openai_fake: an embeddings-only script leaves chat completions alone" 200 "$(of_chat "$of_dir/ok.json")"
    of_status=$(of_emb "$of_dir/emb1.json")
    if [ "$of_status" = 429 ] && of_error_is 429 requests rate_limit_exceeded null && [ "$(of_header retry-after-ms)" = 50 ] &&
        [ "$(of_header retry-after)" = 1 ]; then
        t_pass "openai_fake: scripted embeddings 429 with retry-after-ms 50 and retry-after 1"
    else
        t_fail "openai_fake: scripted embeddings 429" "status $of_status: $(cat "$of_dir/h" "$of_dir/b")"
    fi
    of_status=$(of_emb "$of_dir/emb1.json")
    if [ "$of_status" = 500 ] && of_error_is 500 server_error null null; then t_pass "openai_fake: scripted embeddings 500 server_error"
    else t_fail "openai_fake: scripted embeddings 500 server_error" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_emb "$of_dir/emb1.json")
    if [ "$of_status" = 200 ] && ! jq . "$of_dir/b" >/dev/null 2>&1 && [ -s "$of_dir/b" ]; then t_pass "openai_fake: scripted embeddings malformed is a 200 whose body is not JSON"
    else t_fail "openai_fake: scripted embeddings malformed" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_emb "$of_dir/emb1.json")
    t_expect "openai_fake: scripted embeddings hang:200 closes the connection without an answer" "000 52" "$of_status $(of_rc)"
    printf '["refusal"]' >"$of_dir/script.json"
    of_call POST /_control/script "$of_dir/script.json" >/dev/null
    t_expect "openai_fake: a chat-only behaviour from the shared queue gives embeddings the normal answer" "200 1" \
        "$(of_emb "$of_dir/emb1.json") $(of_jq '.data | length')"
    of_embed "$of_dir/embm.json" --arg a "[[openai-fake:503*1]] $of_posting" '{model: "text-embedding-3-small", input: $a}'
    of_first=$(of_emb "$of_dir/embm.json")
    of_second=$(of_emb "$of_dir/embm.json")
    t_expect "openai_fake: a 503*1 marker in the input fails once; the retry's vector ignores the marker" "503 200 true" \
        "$of_first $of_second $(jq -r --slurpfile all "$of_dir/emb_out.json" '.data[0].embedding == $all[0].data[0].embedding' "$of_dir/b" 2>/dev/null)"
    of_call GET '/_control/requests?path=/v1/embeddings' "" >/dev/null
    t_expect "openai_fake: GET /_control/requests?path=/v1/embeddings logs the embeddings calls" "7 429,500,200,hung,200,503,200" \
        "$(of_jq '"\(.count) \([.requests[].status | tostring] | join(","))"')"

    # ---- Files and Batch API -----------------------------------------------------------------
    of_call POST /_control/reset "" >/dev/null
    of_auth='Authorization: Bearer sk-fake-test'
    # of_upload FILE [PURPOSE] [curl args...]: POST /v1/files as curl -F sends it; prints the status.
    of_upload() { of_call POST /v1/files "" -H "$of_auth" -F "purpose=${2:-batch}" -F "file=@$1" "${@:3}"; }
    # of_batch FILE_ID [ENDPOINT] [WINDOW]: POST /v1/batches; prints the status.
    of_batch() {
        jq -n --arg f "$1" --arg e "${2:-/v1/chat/completions}" --arg w "${3:-24h}" \
            '{input_file_id: $f, endpoint: $e, completion_window: $w, metadata: {run: "openai_fake"}}' >"$of_dir/batch_req.json"
        of_call POST /v1/batches "$of_dir/batch_req.json" -H "$of_auth"
    }
    # of_poll BATCH_ID: polls GET /v1/batches/ID until a final status (at most 10 s); the last
    # answer is in $of_dir/b, the statuses seen (deduplicated) in $of_dir/seen.
    of_poll() {
        : >"$of_dir/seen"
        for _ in $(seq 200); do
            of_call GET "/v1/batches/$1" "" -H "$of_auth" >/dev/null
            of_jq .status >>"$of_dir/seen"
            case $(of_jq .status) in completed | failed | expired | cancelled) break ;; esac
            sleep 0.05
        done
        uniq "$of_dir/seen" >"$of_dir/seen.u" && mv "$of_dir/seen.u" "$of_dir/seen"
    }
    # of_download FILE_ID OUT: GET /v1/files/ID/content into OUT; prints the status.
    of_download() { of_call GET "/v1/files/$1/content" "" -H "$of_auth" >"$of_dir/dl.status"; cp "$of_dir/b" "$2"; cat "$of_dir/dl.status"; }
    # of_line CUSTOM_ID TEXT [URL] [BODY-EDIT]: one chat batch line whose résumé text is TEXT.
    of_line() {
        jq -cn --arg id "$1" --arg text "$2" --arg url "${3:-/v1/chat/completions}" --slurpfile schema "$of_dir/schema.json" "
            {custom_id: \$id, method: \"POST\", url: \$url,
             body: {model: \"gpt-4o-2024-08-06\", max_completion_tokens: 2000,
                    messages: [{role: \"system\", content: \"Extract the candidate profile from the résumé.\"},
                               {role: \"user\", content: \$text}],
                    response_format: {type: \"json_schema\", json_schema: {name: \"profile\", strict: true, schema: \$schema[0]}}}}
            | ${4:-.}"
    }
    {
        of_line c1 "$of_resume"
        of_line c2 $'Grace Hopper [[openai-fake:refusal]]\ngrace@navy.example'
        of_line c3 $'Alan Turing [[openai-fake:500]]\nalan@bletchley.example'
        of_line c4 "$of_resume" /v1/chat/completions 'del(.body.messages)'
        of_line c5 $'\n\n  Charles Babbage  \ncb@engine.example\n'
    } >"$of_dir/lines.jsonl"

    # Upload, as curl -F sends it.
    of_status=$(of_upload "$of_dir/lines.jsonl")
    of_file_id=$(of_jq .id)
    if [ "$of_status" = 200 ] &&
        jq -e --argjson n "$(stat -c %s "$of_dir/lines.jsonl")" '(.id | test("^file-[A-Za-z0-9]{22}$")) and .object == "file"
            and .bytes == $n and .filename == "lines.jsonl" and .purpose == "batch" and .status == "processed"
            and (.created_at | type == "number") and .expires_at == .created_at + 2592000' "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: POST /v1/files (curl -F purpose=batch -F file=@lines.jsonl) answers the File object (file-…, bytes, filename, processed)"
    else
        t_fail "openai_fake: POST /v1/files answers the File object" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_call GET "/v1/files/$of_file_id" "" -H "$of_auth" >/dev/null
    t_expect "openai_fake: GET /v1/files/{id} answers the same File object" "$of_file_id lines.jsonl batch" "$(of_jq '"\(.id) \(.filename) \(.purpose)"')"
    of_download "$of_file_id" "$of_dir/lines.back" >/dev/null
    if cmp -s "$of_dir/lines.jsonl" "$of_dir/lines.back"; then t_pass "openai_fake: GET /v1/files/{id}/content gives back the uploaded bytes"
    else t_fail "openai_fake: GET /v1/files/{id}/content gives back the uploaded bytes" "$(head -c 300 "$of_dir/lines.back")"; fi

    # What the Files API refuses.
    of_status=$(of_upload "$of_dir/lines.jsonl" nonsense)
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error invalid_value purpose; then t_pass "openai_fake: an unknown purpose gets 400 (param purpose)"
    else t_fail "openai_fake: an unknown purpose gets 400" "status $of_status: $(cat "$of_dir/b")"; fi
    cp "$of_dir/lines.jsonl" "$of_dir/lines.txt"
    of_status=$(of_upload "$of_dir/lines.txt")
    t_expect "openai_fake: a batch file not named .jsonl gets 400 as from the real API" "400 Invalid file format for Batch API. Must be .jsonl" "$of_status $(of_jq .error.message)"
    of_status=$(of_call POST /v1/files "$of_dir/batch_req.json" -H "$of_auth")
    if [ "$of_status" = 400 ] && of_jq .error.message | grep -q '^Invalid Content-Type header (application/json), expected multipart/form-data'; then
        t_pass "openai_fake: a JSON body to /v1/files gets 400 (expected multipart/form-data)"
    else
        t_fail "openai_fake: a JSON body to /v1/files gets 400" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_status=$(of_call POST /v1/files "" -F purpose=batch -F "file=@$of_dir/lines.jsonl")
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error null null; then t_pass "openai_fake: an upload without a key gets 401"
    else t_fail "openai_fake: an upload without a key gets 401" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_call GET "/v1/batches" "" -H 'Authorization: Bearer sk-wrong-key-0000')
    if [ "$of_status" = 401 ] && of_error_is 401 invalid_request_error invalid_api_key null; then t_pass "openai_fake: the Batch API with a wrong key gets 401 invalid_api_key"
    else t_fail "openai_fake: the Batch API with a wrong key gets 401 invalid_api_key" "status $of_status: $(cat "$of_dir/b")"; fi

    # What batch creation refuses.
    of_status=$(of_batch "$of_file_id" /v1/chat/completions 48h)
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error invalid_value completion_window; then t_pass "openai_fake: completion_window 48h gets 400 (only 24h)"
    else t_fail "openai_fake: completion_window 48h gets 400" "status $of_status: $(cat "$of_dir/b")"; fi
    of_status=$(of_batch file-doesnotexist0000000000)
    t_expect "openai_fake: a batch of an unknown file gets 404 No such File object" "404 No such File object: file-doesnotexist0000000000" "$of_status $(of_jq .error.message)"
    of_status=$(of_batch "$of_file_id" /v1/moderations)
    if [ "$of_status" = 400 ] && of_error_is 400 invalid_request_error invalid_value endpoint; then t_pass "openai_fake: an endpoint the stand-in does not serve gets 400 (param endpoint)"
    else t_fail "openai_fake: an unserved endpoint gets 400" "status $of_status: $(cat "$of_dir/b")"; fi

    # A batch: created validating, then in_progress, finalizing, completed (over 1.2 s here, so
    # that polls see each status; the default is 300 ms).
    printf '{"batch_ms": 1200}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null
    of_call POST /v1/chat/completions "$of_dir/ok.json" -H "$of_auth" >/dev/null
    of_remaining_before=$(of_header x-ratelimit-remaining-requests)
    of_status=$(of_batch "$of_file_id")
    of_batch_id=$(of_jq .id)
    if [ "$of_status" = 200 ] &&
        jq -e --arg f "$of_file_id" '
            (keys | contains(["id", "object", "endpoint", "errors", "input_file_id", "completion_window", "status", "output_file_id",
                "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
                "expired_at", "cancelling_at", "cancelled_at", "request_counts", "metadata"]))
            and (.id | test("^batch_[0-9a-f]{32}$")) and .object == "batch" and .endpoint == "/v1/chat/completions"
            and .input_file_id == $f and .completion_window == "24h" and .status == "validating" and .errors == null
            and .output_file_id == null and .error_file_id == null and .in_progress_at == null
            and .expires_at == .created_at + 86400 and .request_counts == {total: 0, completed: 0, failed: 0}
            and .metadata == {run: "openai_fake"}' "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: POST /v1/batches answers the Batch object (batch_…, validating, every field, metadata)"
    else
        t_fail "openai_fake: POST /v1/batches answers the Batch object" "status $of_status: $(cat "$of_dir/b")"
    fi
    of_poll "$of_batch_id"
    cp "$of_dir/b" "$of_dir/batch_done.json"
    t_expect "openai_fake: the batch moves validating → in_progress → finalizing → completed" \
        "validating in_progress finalizing completed" "$( (echo validating; cat "$of_dir/seen") | uniq | tr '\n' ' ' | sed 's/ $//')"
    printf '{"batch_ms": 300}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null
    if jq -e '.request_counts == {total: 5, completed: 3, failed: 2} and (.in_progress_at | type == "number")
              and (.finalizing_at | type == "number") and (.completed_at | type == "number") and .failed_at == null
              and (.output_file_id | startswith("file-")) and (.error_file_id | startswith("file-")) and .model == "gpt-4o-2024-08-06"
              and .usage.total_tokens > 0' "$of_dir/batch_done.json" >/dev/null; then
        t_pass "openai_fake: the completed batch has request_counts {5, 3, 2}, its timestamps, an output and an error file"
    else
        t_fail "openai_fake: the completed batch's counts, timestamps and files" "$(cat "$of_dir/batch_done.json")"
    fi
    of_call POST /v1/chat/completions "$of_dir/ok.json" -H "$of_auth" >/dev/null
    t_expect "openai_fake: batch lines do not count against the live rate limit (a separate pool)" \
        "$((of_remaining_before - 1))" "$(of_header x-ratelimit-remaining-requests)"
    of_download "$(jq -r .output_file_id "$of_dir/batch_done.json")" "$of_dir/output.jsonl" >/dev/null
    of_download "$(jq -r .error_file_id "$of_dir/batch_done.json")" "$of_dir/errors.jsonl" >/dev/null
    t_expect "openai_fake: the output file holds the answered lines c1 c2 c5 (2xx), the error file c3 c4" "c1 c2 c5|c3 c4" \
        "$(jq -rs '[.[].custom_id] | sort | join(" ")' "$of_dir/output.jsonl")|$(jq -rs '[.[].custom_id] | sort | join(" ")' "$of_dir/errors.jsonl")"
    if jq -se 'all(.[]; (.id | test("^batch_req_[0-9a-f]{32}$")) and .error == null and .response.status_code == 200
                     and (.response.request_id | type == "string") and .response.body.object == "chat.completion")' \
        "$of_dir/output.jsonl" >/dev/null; then
        t_pass "openai_fake: output lines are {id: batch_req_…, custom_id, response: {status_code 200, request_id, body: a chat.completion}, error: null}"
    else
        t_fail "openai_fake: output line shape" "$(cat "$of_dir/output.jsonl")"
    fi
    # The same body sent live gets the same content: one code path.
    jq -c 'select(.custom_id == "c1") | .body' "$of_dir/lines.jsonl" >"$of_dir/c1.json"
    of_chat "$of_dir/c1.json" >/dev/null
    t_expect "openai_fake: line c1's answer is what the same request gets live (the résumé's name, the same content)" \
        "Ada Lovelace|$(of_jq '.choices[0].message.content')" \
        "$(jq -r 'select(.custom_id == "c1") | .response.body.choices[0].message.content | (fromjson.name + "|" + .)' "$of_dir/output.jsonl")"
    t_expect "openai_fake: the refusal marker makes line c2 a refusal (content null, refusal set)" "null true" \
        "$(jq -r 'select(.custom_id == "c2") | .response.body.choices[0].message | "\(.content) \(.refusal | length > 0)"' "$of_dir/output.jsonl")"
    t_expect "openai_fake: error-file lines carry the answer: c3 500 server_error (marker), c4 400 missing_required_parameter" \
        "c3 500 server_error null null|c4 400 invalid_request_error missing_required_parameter null" \
        "$(jq -rs 'sort_by(.custom_id) | map("\(.custom_id) \(.response.status_code) \(.response.body.error.type) \(.response.body.error.code) \(.error)") | join("|")' "$of_dir/errors.jsonl")"
    of_call GET "/v1/files/$(jq -r .output_file_id "$of_dir/batch_done.json")" "" -H "$of_auth" >/dev/null
    t_expect "openai_fake: the output file is a File of purpose batch_output named after the batch" "batch_output ${of_batch_id}_output.jsonl" \
        "$(of_jq '"\(.purpose) \(.filename)"')"

    # The order is not the input order but the same every time: run the same file again.
    of_batch "$of_file_id" >/dev/null
    of_poll "$(of_jq .id)"
    of_download "$(of_jq .output_file_id)" "$of_dir/output2.jsonl" >/dev/null
    t_expect "openai_fake: another batch of the same file lists its output lines in the same order" \
        "$(jq -r .custom_id "$of_dir/output.jsonl" | tr '\n' ' ')" "$(jq -r .custom_id "$of_dir/output2.jsonl" | tr '\n' ' ')"

    # An embeddings batch: the same vectors as live.
    of_embed "$of_dir/emb_line.json" --arg a "$of_posting" '{model: "text-embedding-3-small", input: $a, dimensions: 64}'
    {
        jq -c '{custom_id: "e1", method: "POST", url: "/v1/embeddings", body: .}' "$of_dir/emb_line.json"
        jq -c '{custom_id: "e2", method: "POST", url: "/v1/embeddings", body: (.input = ["a", "b"])}' "$of_dir/emb_line.json"
    } >"$of_dir/emb_lines.jsonl"
    of_upload "$of_dir/emb_lines.jsonl" >/dev/null
    of_batch "$(of_jq .id)" /v1/embeddings >/dev/null
    of_poll "$(of_jq .id)"
    of_emb_status=$(of_jq .status)
    of_download "$(of_jq .output_file_id)" "$of_dir/emb_output.jsonl" >/dev/null
    of_emb "$of_dir/emb_line.json" >/dev/null
    t_expect "openai_fake: an embeddings batch answers each line as /v1/embeddings does live (same vector)" "completed e1:1:true e2:2:false" \
        "$of_emb_status $(jq -r --slurpfile live "$of_dir/b" '"\(.custom_id):\(.response.body.data | length):\(.response.body.data[0].embedding == $live[0].data[0].embedding)"' "$of_dir/emb_output.jsonl" | sort | tr '\n' ' ' | sed 's/ $//')"

    # Invalid lines: the batch is created, then fails validation with errors.data[] naming each line.
    {
        of_line b1 "$of_resume"
        of_line b2 "$of_resume" /v1/embeddings
        printf '{"custom_id": "b3", "method": "POST", "url": \n'
        of_line b1 "$of_resume"
        of_line b5 "$of_resume" /v1/chat/completions '.method = "GET"'
    } >"$of_dir/bad_lines.jsonl"
    of_upload "$of_dir/bad_lines.jsonl" >/dev/null
    t_expect "openai_fake: a file with bad lines is still accepted at upload (as by the real API)" "processed" "$(of_jq .status)"
    of_status=$(of_batch "$(of_jq .id)")
    of_poll "$(of_jq .id)"
    if [ "$of_status" = 200 ] && jq -e '.status == "failed" and (.failed_at | type == "number") and .in_progress_at == null
            and .output_file_id == null and .error_file_id == null and .errors.object == "list"
            and ([.errors.data[] | "\(.line):\(.code):\(.param)"] == ["2:url_mismatch:url", "3:invalid_json_line:null", "4:duplicate_custom_id:custom_id", "5:invalid_value:method"])
            and all(.errors.data[]; .message | length > 0)' "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: bad lines make the batch failed, errors.data[] = url_mismatch (2), invalid_json_line (3), duplicate_custom_id (4), invalid_value method (5)"
    else
        t_fail "openai_fake: bad lines make the batch failed with errors.data[]" "create $of_status; $(cat "$of_dir/b")"
    fi
    of_batch "$of_file_id" /v1/embeddings >/dev/null
    of_poll "$(of_jq .id)"
    t_expect "openai_fake: a batch whose endpoint does not match its lines' url fails (url_mismatch on every line)" "failed 5 url_mismatch" \
        "$(of_jq '"\(.status) \(.errors.data | length) \([.errors.data[].code] | unique | join(","))"')"

    # Scripted whole-batch outcomes (?endpoint=batches), taken by the next batch created.
    printf '["expired:2"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json" >/dev/null
    of_batch "$of_file_id" >/dev/null
    of_poll "$(of_jq .id)"
    cp "$of_dir/b" "$of_dir/expired.json"
    of_download "$(jq -r .output_file_id "$of_dir/expired.json")" "$of_dir/exp_out.jsonl" >/dev/null
    of_download "$(jq -r .error_file_id "$of_dir/expired.json")" "$of_dir/exp_err.jsonl" >/dev/null
    t_expect "openai_fake: scripted expired:2: status expired, 2 lines done (c1 c2), the rest in the error file as batch_expired" \
        "expired true 5/2/0 c1 c2|c3:batch_expired c4:batch_expired c5:batch_expired" \
        "$(jq -r '"\(.status) \(.expired_at | type == "number") \(.request_counts | "\(.total)/\(.completed)/\(.failed)")"' "$of_dir/expired.json") $(jq -rs '[.[].custom_id] | sort | join(" ")' "$of_dir/exp_out.jsonl")|$(jq -rs 'map(select(.response == null) | "\(.custom_id):\(.error.code)") | sort | join(" ")' "$of_dir/exp_err.jsonl")"
    printf '["failed"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json" >/dev/null
    of_batch "$of_file_id" >/dev/null
    of_poll "$(of_jq .id)"
    t_expect "openai_fake: scripted failed: the batch fails validation (token_limit_exceeded)" "failed token_limit_exceeded null" \
        "$(of_jq '"\(.status) \(.errors.data[0].code) \(.output_file_id)"')"
    printf '["slow:1500"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json" >/dev/null
    of_batch "$of_file_id" >/dev/null
    of_slow_id=$(of_jq .id)
    sleep 0.5
    of_call GET "/v1/batches/$of_slow_id" "" -H "$of_auth" >/dev/null
    of_slow_mid=$(of_jq .status)
    of_poll "$of_slow_id"
    t_expect "openai_fake: scripted slow:1500: still in progress after 500 ms, completed later" "in_progress completed" "$of_slow_mid $(of_jq .status)"
    printf '[{"behaviour": "cancelled", "completed": 1, "batch_ms": 1500}]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json" >/dev/null
    of_batch "$of_file_id" >/dev/null
    of_poll "$(of_jq .id)"
    t_expect "openai_fake: scripted {cancelled, completed: 1}: cancelling, then cancelled with 1 line done" "cancelling cancelled|5/1/0" \
        "$(tail -2 "$of_dir/seen" | tr '\n' ' ' | sed 's/ $//')|$(of_jq '.request_counts | "\(.total)/\(.completed)/\(.failed)"')"

    # Cancelling through the API.
    printf '{"batch_ms": 3000}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null
    of_batch "$of_file_id" >/dev/null
    of_cancel_id=$(of_jq .id)
    of_status=$(of_call POST "/v1/batches/$of_cancel_id/cancel" "" -H "$of_auth")
    of_cancel_now=$(of_jq '"\(.status) \(.cancelling_at | type)"')
    of_poll "$of_cancel_id"
    t_expect "openai_fake: POST /v1/batches/{id}/cancel answers cancelling, then the batch is cancelled" "200 cancelling number|cancelled number" \
        "$of_status $of_cancel_now|$(of_jq '"\(.status) \(.cancelled_at | type)"')"
    of_status=$(of_call POST "/v1/batches/$of_batch_id/cancel" "" -H "$of_auth")
    t_expect "openai_fake: cancelling a completed batch gets 409" "409 invalid_request_error" "$of_status $(of_jq .error.type)"
    printf '{"batch_ms": 300}' >"$of_dir/config.json"
    of_call POST /_control/config "$of_dir/config.json" >/dev/null

    # Scripted failures of the Files and Batch endpoints themselves.
    printf '["500", "429:50", "hang:200"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batch_polls' "$of_dir/script.json" >/dev/null
    of_s1=$(of_call GET "/v1/batches/$of_batch_id" "" -H "$of_auth")
    of_s1+=" $(of_jq .error.type)"
    of_s2=$(of_call GET "/v1/batches/$of_batch_id" "" -H "$of_auth")
    of_s2+=" $(of_header retry-after-ms)"
    of_s3=$(of_call GET "/v1/batches/$of_batch_id" "" -H "$of_auth")
    of_s3+=" $(of_rc)"
    of_s4=$(of_call GET "/v1/batches/$of_batch_id" "" -H "$of_auth")
    t_expect "openai_fake: scripted poll failures (?endpoint=batch_polls): 500, 429 (retry-after-ms 50), hang:200, then 200" \
        "500 server_error|429 50|000 52|200" "$of_s1|$of_s2|$of_s3|$of_s4"
    printf '["503"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=files' "$of_dir/script.json" >/dev/null
    t_expect "openai_fake: a scripted 503 for ?endpoint=files fails the next upload, the one after succeeds" "503 200" \
        "$(of_upload "$of_dir/lines.jsonl") $(of_upload "$of_dir/lines.jsonl")"
    printf '["500"]' >"$of_dir/script.json"
    of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json" >/dev/null
    t_expect "openai_fake: a scripted 500 for ?endpoint=batches fails the next batch creation" "500" "$(of_batch "$of_file_id")"
    printf '["refusal"]' >"$of_dir/script.json"
    t_expect "openai_fake: content behaviours and whole-batch outcomes are refused where they do not apply" "400 400 400" \
        "$(of_call POST '/_control/script?endpoint=batches' "$of_dir/script.json") $(printf '["expired"]' >"$of_dir/script.json"; of_call POST '/_control/script?endpoint=files' "$of_dir/script.json") $(of_call POST '/_control/script' "$of_dir/script.json")"

    # Listing, deleting, the request log.
    of_call GET '/v1/batches?limit=2' "" -H "$of_auth" >/dev/null
    of_last=$(of_jq .last_id)
    if jq -e '.object == "list" and (.data | length) == 2 and .has_more == true and .first_id == .data[0].id
              and .data[0].created_at >= .data[1].created_at' "$of_dir/b" >/dev/null; then
        t_pass "openai_fake: GET /v1/batches?limit=2 lists the newest two (object list, first_id, last_id, has_more)"
    else
        t_fail "openai_fake: GET /v1/batches?limit=2" "$(head -c 600 "$of_dir/b")"
    fi
    of_call GET "/v1/batches?limit=100&after=$of_last" "" -H "$of_auth" >/dev/null
    t_expect "openai_fake: GET /v1/batches?after=LAST_ID continues the list" "false false" \
        "$(of_jq '"\(.has_more) \([.data[].id] | index("'"$of_last"'") != null)"')"
    of_status=$(of_call DELETE "/v1/files/$of_file_id" "" -H "$of_auth")
    of_deleted=$(of_jq '"\(.id) \(.object) \(.deleted)"')
    t_expect "openai_fake: DELETE /v1/files/{id} answers deleted; the file is then 404 No such File object" \
        "200 $of_file_id file true|404 No such File object: $of_file_id" \
        "$of_status $of_deleted|$(of_call GET "/v1/files/$of_file_id" "" -H "$of_auth") $(of_jq .error.message)"
    of_call GET '/_control/requests?path=/v1/files' "" >/dev/null
    t_expect "openai_fake: the request log has the uploads with their form fields" "batch lines.jsonl" \
        "$(of_jq '.requests[0].json | "\(.purpose) \(.file.filename)"')"
    of_call GET '/v1/batches/batch_nonexistent' "" -H "$of_auth" >/dev/null
    t_expect "openai_fake: an unknown batch gets 404 batch_not_found" "404 batch_not_found" "$(cat "$of_dir/h" | head -1 | awk '{print $2}') $(of_jq .error.code)"

    # ---- Lifetime ----------------------------------------------------------------------------
    kill -TERM "$of_pid"
    of_gone=no
    for _ in $(seq 50); do kill -0 "$of_pid" 2>/dev/null || { of_gone=yes; break; }; sleep 0.05; done
    wait "$of_pid" 2>/dev/null
    t_expect "openai_fake: the server stops on SIGTERM" yes "$of_gone"
    # A server whose parent (a subshell here) dies, once the server is up, stops by itself.
    (
        of_start "$of_dir/orphan.out"
        echo "$of_started_pid" >"$of_dir/orphan.pid"
    )
    of_orphan=$(cat "$of_dir/orphan.pid")
    of_gone=no
    for _ in $(seq 60); do kill -0 "$of_orphan" 2>/dev/null || { of_gone=yes; break; }; sleep 0.05; done
    [ "$of_gone" = yes ] || kill "$of_orphan" 2>/dev/null
    t_expect "openai_fake: the server stops by itself when its parent process dies" yes "$of_gone"
fi
[ -n "$of_pid" ] && kill "$of_pid" 2>/dev/null && wait "$of_pid" 2>/dev/null
rm -rf "$of_dir"
unset -f of_start of_call of_rc of_chat of_header of_jq of_content of_error_is of_script of_request of_bad_schema of_embed of_emb \
    of_upload of_batch of_poll of_download of_line
