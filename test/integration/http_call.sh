# HTTP requests of call jobs (src/pg/http_call.c, src/net/http_request.cpp), in a session and
# through the workers' call plan (src/pg/job_steps.c), against the OpenAI stand-in and a small
# node server written here (repeated headers, redirects, statuses, slow and binary answers, and
# a log of what it received). In SQL: _http_call GET and POST, the answer's headers, every
# outcome, the key added for "auth" and never shown; _chat_request/_chat_answer round trips with
# a verdict-like schema, a refusal and a schema violation; named circuits and pauses; then call
# jobs end to end: three requests in one job, an open circuit and a pause that make a job wait
# without charging an attempt, failures reported to the circuit, the model rate limiter.
hc_dir=$(mktemp -d /tmp/rp-http-call.XXXXXX)
chmod 755 "$hc_dir"
hc_user=aaaaaaaa-0000-4000-8000-00000000000c
hc_key="sk-hc-$RANDOM$RANDOM-secret"
hc_token="ghp_hc$RANDOM$RANDOM$RANDOM"

hc_reset_settings() {
    local s
    for s in database workers max_concurrent_tasks retry_base_delay openai_base_url openai_api_key openai_model \
             request_timeout_ms github_base_url github_token circuit_failure_threshold circuit_open_ms max_attempts; do
        q -c "ALTER SYSTEM RESET resume_pipeline.$s" >/dev/null
    done
    q -c "SELECT pg_reload_conf()" >/dev/null
}

# A server for what the OpenAI stand-in does not do; stopped with the others (servers_stop).
hc_hooks() {
    cat >"$hc_dir/hooks.mjs" <<'JS'
import http from 'node:http';
const log = [];
const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const url = new URL(req.url, 'http://local');
        const p = url.pathname;
        const body = Buffer.concat(chunks).toString();
        if (p === '/_log') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify(log));
        }
        log.push({ method: req.method, path: p, headers: req.headers, body });
        if (p === '/links') {
            res.setHeader('Link', ['<http://local/r?page=2>; rel="next"', '<http://local/r?page=5>; rel="last"']);
            res.setHeader('X-Twice', ['first', 'second']);
            res.writeHead(200, { 'content-type': 'application/json', 'X-Mixed-Case': 'Yes' });
            return res.end('{"page": 1}');
        }
        if (p === '/redirect') { res.writeHead(302, { location: '/links' }); return res.end(); }
        if (p === '/big') { res.writeHead(200, { 'content-type': 'text/plain' }); return res.end('x'.repeat(100000)); }
        if (p === '/binary') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); return res.end(Buffer.from([0, 1, 2, 255, 254])); }
        if (p === '/echo') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
        }
        if (p.startsWith('/status/')) {
            res.writeHead(Number(p.slice(8)), { 'content-type': 'text/plain' });
            return res.end('status ' + p.slice(8));
        }
        if (p === '/slow') {
            setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('slow'); },
                       Number(url.searchParams.get('ms') || 1000));
            return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no such path');
    });
});
server.listen(0, '127.0.0.1', () => console.log('port=' + server.address().port));
const parent = process.ppid;
setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 200).unref();
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => process.exit(0));
JS
    node "$hc_dir/hooks.mjs" >"$hc_dir/hooks.out" 2>"$hc_dir/hooks.err" &
    RP_SERVER_PIDS+=($!)
    hc_port=$(_servers_port "$hc_dir/hooks.out" 's/^port=\([0-9]*\)$/\1/p')
    [ -n "$hc_port" ]
}

# hc_call REQUEST-JSON SQL-EXPRESSION — the expression over r (response) and b (body) of one
# _http_call in rp_http.
hc_call() {
    q -d rp_http -v "req=$1" <<<"SELECT $2 FROM (SELECT (c).response AS r, (c).body AS b
                                    FROM (SELECT resume_pipeline._http_call(:'req'::jsonb) AS c) s) t;"
}

hc_session() {
    local base="http://127.0.0.1:$RP_OPENAI_PORT/v1" hooks="http://127.0.0.1:$hc_port"

    t_expect "http_call: a GET with auth openai is an answer with its status, headers and body" "ok|200|true|list|true" \
        "$(hc_call "{\"url\": \"$base/models\", \"auth\": \"openai\"}" \
            "r ->> 'outcome' || '|' || (r ->> 'status') || '|' || (r #>> '{headers,x-request-id}' LIKE 'req_%') || '|' ||
             (convert_from(b, 'UTF8')::jsonb ->> 'object') || '|' || ((r ->> 'milliseconds')::numeric >= 0)")"
    t_expect "http_call: the stand-in got the key as a bearer token and our User-Agent" "Bearer $hc_key|resume_pipeline/0.1" \
        "$(curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests?path=/v1/models" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const r = JSON.parse(s).requests.at(-1);
            console.log(r.headers.authorization + "|" + r.headers["user-agent"]); });')"

    local chat
    chat=$(q -d rp_http -c "SELECT jsonb_build_object('model', 'gpt-4o-mini', 'messages',
                                   jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'Ada Whitfield')))")
    t_expect "http_call: a POST with a JSON body and headers reaches the model and gets its answer" "200|chat.completion|application/json" \
        "$(hc_call "{\"method\": \"POST\", \"url\": \"$base/chat/completions\", \"auth\": \"openai\", \"body\": $chat,
                     \"headers\": {\"X-Step\": \"test\"}}" \
            "(r ->> 'status') || '|' || (convert_from(b, 'UTF8')::jsonb ->> 'object') || '|' || (r #>> '{headers,content-type}')")"

    t_expect "http_call: repeated headers (link joined, others last), lower-case names" \
        '<http://local/r?page=2>; rel="next", <http://local/r?page=5>; rel="last"|second|Yes|1' \
        "$(hc_call "{\"url\": \"$hooks/links\"}" \
            "(r #>> '{headers,link}') || '|' || (r #>> '{headers,x-twice}') || '|' || (r #>> '{headers,x-mixed-case}') || '|' ||
             (convert_from(b, 'UTF8')::jsonb ->> 'page')")"
    t_expect "http_call: a redirect is an answer, not followed" "ok|302|/links|1" \
        "$(hc_call "{\"url\": \"$hooks/redirect\"}" "r ->> 'outcome' || '|' || (r ->> 'status') || '|' || (r #>> '{headers,location}')")|$(
           curl -s "$hooks/_log" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).filter(x=>x.path==="/redirect").length))')"
    t_expect "http_call: 404, 429 and 503 are answers (outcome ok)" "ok 404|ok 429|ok 503" \
        "$(hc_call "{\"url\": \"$hooks/status/404\"}" "r ->> 'outcome' || ' ' || (r ->> 'status')")|$(
           hc_call "{\"url\": \"$hooks/status/429\"}" "r ->> 'outcome' || ' ' || (r ->> 'status')")|$(
           hc_call "{\"url\": \"$hooks/status/503\"}" "r ->> 'outcome' || ' ' || (r ->> 'status')")"
    t_expect "http_call: PUT, PATCH and DELETE with their bodies" 'PUT {"a":1}|PATCH text|DELETE ' \
        "$(hc_call "{\"method\": \"PUT\", \"url\": \"$hooks/echo\", \"body\": {\"a\": 1}}" "(convert_from(b, 'UTF8')::jsonb ->> 'method') || ' ' || (convert_from(b, 'UTF8')::jsonb ->> 'body')")|$(
           hc_call "{\"method\": \"PATCH\", \"url\": \"$hooks/echo\", \"body\": \"text\"}" "(convert_from(b, 'UTF8')::jsonb ->> 'method') || ' ' || (convert_from(b, 'UTF8')::jsonb ->> 'body')")|$(
           hc_call "{\"method\": \"DELETE\", \"url\": \"$hooks/echo\"}" "(convert_from(b, 'UTF8')::jsonb ->> 'method') || ' ' || (convert_from(b, 'UTF8')::jsonb ->> 'body')")"
    t_expect "http_call: a binary body comes back byte for byte" '\x000102fffe' \
        "$(hc_call "{\"url\": \"$hooks/binary\"}" "b::text")"
    t_expect "http_call: an answer over max_bytes is too_large, without a body" "too_large|0|0" \
        "$(hc_call "{\"url\": \"$hooks/big\", \"max_bytes\": 1000}" "r ->> 'outcome' || '|' || (r ->> 'status') || '|' || length(b)")"
    t_expect "http_call: no answer within timeout_ms is a timeout" "timeout|0" \
        "$(hc_call "{\"url\": \"$hooks/slow?ms=3000\", \"timeout_ms\": 300}" "r ->> 'outcome' || '|' || (r ->> 'status')")"
    t_expect "http_call: nothing listening is a transport failure" "transport|0" \
        "$(hc_call '{"url": "http://127.0.0.1:9/x"}' "r ->> 'outcome' || '|' || (r ->> 'status')")"
    t_expect "http_call: a header value with CR/LF is refused, nothing sent" "refused|true|0" \
        "$(hc_call "{\"url\": \"$hooks/echo\", \"headers\": {\"X-Evil\": \"a\\r\\nInjected: 1\"}}" \
            "r ->> 'outcome' || '|' || (r ->> 'message' LIKE '%CR, LF or NUL%') || '|' || length(b)")"
    t_expect "http_call: a file: URL is refused" "refused" "$(hc_call '{"url": "file:///etc/passwd"}' "r ->> 'outcome'")"

    # The key goes only under its service's base URL, and no answer or message shows it.
    local out
    out=$(hc_call "{\"url\": \"$hooks/echo\", \"auth\": \"openai\"}" "r::text || convert_from(b, 'UTF8')")
    if grep -q '"outcome": "refused"' <<<"$out" && grep -q "only to URLs under resume_pipeline.openai_base_url" <<<"$out" &&
       ! grep -qF "$hc_key" <<<"$out"; then
        t_pass "http_call: auth openai to another host is refused, the key not sent nor shown"
    else
        t_fail "http_call: auth openai to another host is refused, the key not sent nor shown" "$out"
    fi
    q -c "ALTER SYSTEM SET resume_pipeline.github_base_url = 'http://127.0.0.1:9'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    out=$(hc_call '{"url": "http://127.0.0.1:9/users/octocat", "auth": "github"}' "r::text")
    if grep -q '"outcome": "transport"' <<<"$out" && ! grep -qF "$hc_token" <<<"$out"; then
        t_pass "http_call: a failed request with the GitHub token shows no token"
    else
        t_fail "http_call: a failed request with the GitHub token shows no token" "$out"
    fi
    q -c "ALTER SYSTEM SET resume_pipeline.github_base_url = '$hooks'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    t_expect "http_call: auth github adds the token and GitHub's headers" \
        "Bearer $hc_token|resume_pipeline/0.1|application/vnd.github+json|2022-11-28" \
        "$(hc_call "{\"url\": \"$hooks/echo\", \"auth\": \"github\"}" \
            "concat_ws('|', convert_from(b, 'UTF8')::jsonb #>> '{headers,authorization}', convert_from(b, 'UTF8')::jsonb #>> '{headers,user-agent}',
                            convert_from(b, 'UTF8')::jsonb #>> '{headers,accept}', convert_from(b, 'UTF8')::jsonb #>> '{headers,x-github-api-version}')")"
    if curl -s "$hooks/_log" | grep -qF "$hc_key"; then
        t_fail "http_call: the OpenAI key never reached the other server"
    else
        t_pass "http_call: the OpenAI key never reached the other server"
    fi

    # Cancellable: statement_timeout stops a request that would take 5 s.
    local start took
    start=$(date +%s%3N)
    out=$(q -d rp_http -v ON_ERROR_STOP=0 -v "req={\"url\": \"$hooks/slow?ms=5000\"}" 2>&1 <<'SQL'
SET statement_timeout = '300ms';
SELECT resume_pipeline._http_call(:'req'::jsonb);
\echo state=:SQLSTATE
SQL
)
    took=$(($(date +%s%3N) - start))
    if grep -q "state=57014" <<<"$out" && [ "$took" -lt 3000 ]; then
        t_pass "http_call: statement_timeout stops a slow request at once ($took ms)"
    else
        t_fail "http_call: statement_timeout stops a slow request at once" "took $took ms: $out"
    fi
}

# A verdict-like schema: integer, number and nullable number without bounds, arrays of strings.
hc_schema='{"type": "object", "additionalProperties": false,
  "required": ["score", "overall_fit_score", "skill_match_score", "strengths", "concerns", "summary", "reasoning"],
  "properties": {"score": {"type": "integer"}, "overall_fit_score": {"type": "number"},
                 "skill_match_score": {"type": ["number", "null"]},
                 "strengths": {"type": "array", "items": {"type": "string"}},
                 "concerns": {"type": "array", "items": {"type": "string"}},
                 "summary": {"type": "string"}, "reasoning": {"type": "string"}}}'

# hc_chat [SCRIPT] — outcome|content keys|message|retryable|usage model of one verdict round trip.
hc_chat() {
    local base="http://127.0.0.1:$RP_OPENAI_PORT/v1"
    [ -z "${1:-}" ] || curl -s -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" >/dev/null
    q -d rp_http -v "schema=$hc_schema" -v "url=$base/chat/completions" <<'SQL'
SELECT concat_ws('|', a.outcome, (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(a.content) k),
                 a.message, a.retryable, a.usage ->> 'model', (a.usage ->> 'prompt_tokens')::int > 0)
  FROM (SELECT resume_pipeline._chat_request(:'schema'::jsonb, 'verdict', 'You judge a candidate for a role.',
                                             'Candidate: Ada Whitfield, 12 years of Rust.', 500) AS body) req,
       LATERAL resume_pipeline._http_call(jsonb_build_object('method', 'POST', 'url', :'url', 'auth', 'openai',
                                                             'body', req.body)) c,
       LATERAL resume_pipeline._chat_answer(:'schema'::jsonb, c.response, c.body) a;
SQL
}

hc_chat_tests() {
    t_expect "http_call: _chat_request writes a strict json_schema body with the system prompt, temperature 0" \
        "gpt-4o-mini|verdict|true|system|You judge.|user|Text|0.0|2000|t" \
        "$(q -d rp_http -v "schema=$hc_schema" <<<"SELECT concat_ws('|', r ->> 'model', r #>> '{response_format,json_schema,name}',
              r #>> '{response_format,json_schema,strict}', r #>> '{messages,0,role}', r #>> '{messages,0,content}',
              r #>> '{messages,1,role}', r #>> '{messages,1,content}', r ->> 'temperature', r ->> 'max_completion_tokens',
              r #> '{response_format,json_schema,schema}' = :'schema'::jsonb)
            FROM resume_pipeline._chat_request(:'schema'::jsonb, 'verdict', 'You judge.', 'Text') r;")"
    t_expect "http_call: _chat_request without a system prompt sends the user message alone" "1|user" \
        "$(q -d rp_http -v "schema=$hc_schema" <<<"SELECT jsonb_array_length(r -> 'messages') || '|' || (r #>> '{messages,0,role}')
            FROM resume_pipeline._chat_request(:'schema'::jsonb, 'verdict', NULL, 'Text') r;")"
    t_expect "http_call: a verdict round trip (_chat_request, _http_call, _chat_answer) is ok with valid content and usage" \
        "ok|concerns,overall_fit_score,reasoning,score,skill_match_score,strengths,summary|ok|f|gpt-4o-mini|t" "$(hc_chat)"
    t_expect "http_call: a refusal is outcome refusal without content" \
        "refusal|the model refused: I'm sorry, but I can't assist with that request.|f|gpt-4o-mini|t" "$(hc_chat '["refusal"]')"
    local v
    v=$(hc_chat '["schema_violation"]')
    if [[ "$v" == schema_violation\|*does\ not\ match\ the\ schema*\|f\|gpt-4o-mini\|t ]]; then
        t_pass "http_call: a schema violation is outcome schema_violation without content"
    else
        t_fail "http_call: a schema violation is outcome schema_violation without content" "$v"
    fi
    t_expect "http_call: a 429 is rate_limited, retryable, with the server's delay" "rate_limited|true|1500" \
        "$(curl -s -X POST -H 'Content-Type: application/json' -d '["429:1500"]' "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" >/dev/null
           q -d rp_http -v "schema=$hc_schema" -v "url=http://127.0.0.1:$RP_OPENAI_PORT/v1/chat/completions" <<<"
            SELECT a.outcome || '|' || a.retryable || '|' || a.retry_after_ms
              FROM resume_pipeline._http_call(jsonb_build_object('method', 'POST', 'url', :'url', 'auth', 'openai',
                     'body', resume_pipeline._chat_request(:'schema'::jsonb, 'verdict', NULL, 'x'))) c,
                   LATERAL resume_pipeline._chat_answer(:'schema'::jsonb, c.response, c.body) a;")"
    t_expect "http_call: a response without an answer keeps the transfer's outcome" "timeout|true|no answer" \
        "$(q -d rp_http -v "schema=$hc_schema" <<<"SELECT outcome || '|' || retryable || '|' || message
            FROM resume_pipeline._chat_answer(:'schema'::jsonb, '{\"status\": 0, \"outcome\": \"timeout\", \"message\": \"no answer\"}', NULL);")"
    t_expect "http_call: a schema the validator cannot enforce (minimum) is refused with 22023" "22023" \
        "$(q -d rp_http -v ON_ERROR_STOP=0 -c "SELECT resume_pipeline._chat_request('{\"type\": \"object\", \"additionalProperties\": false,
            \"required\": [\"n\"], \"properties\": {\"n\": {\"type\": \"integer\", \"minimum\": 0}}}', 'x', NULL, 'y')" -c '\echo :SQLSTATE' 2>/dev/null | tail -1)"
}

hc_circuits() {
    local g="github-$RANDOM" s="step:hc-$RANDOM"
    t_expect "http_call: a circuit nobody reported on is closed, not paused" "closed|0|null" \
        "$(q -d rp_http -c "SELECT concat_ws('|', c ->> 'state', c ->> 'consecutive_failures', coalesce(c ->> 'paused_until', 'null'))
                              FROM resume_pipeline._circuit_state('$g') c")"
    q -c "ALTER SYSTEM SET resume_pipeline.circuit_failure_threshold = 3" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    t_expect "http_call: a named circuit opens after the threshold and refuses calls" "t|open|3|f" \
        "$(q -d rp_http -c "SELECT resume_pipeline._circuit_allow('$g')" )|$(
           q -d rp_http -c "SELECT resume_pipeline._circuit_record('$g', false) FROM generate_series(1, 3)" >/dev/null
           q -d rp_http -c "SELECT (c ->> 'state') || '|' || (c ->> 'consecutive_failures') FROM resume_pipeline._circuit_state('$g') c")|$(
           q -d rp_http -c "SELECT resume_pipeline._circuit_allow('$g')")"
    t_expect "http_call: a pause is shared and counts down" "0|t|t" \
        "$(q -d rp_http -c "SELECT resume_pipeline._dependency_paused_ms('$s')")|$(
           q -d rp_http -c "SELECT resume_pipeline._dependency_pause('$s', 20000)" >/dev/null
           q -d rp_http -c "SELECT resume_pipeline._dependency_paused_ms('$s') BETWEEN 15000 AND 20000")|$(
           q -d rp_http -c "SELECT resume_pipeline._circuit_state('$s') ->> 'paused_until' IS NOT NULL")"
    t_expect "http_call: a shorter pause does not shorten a longer one" "t" \
        "$(q -d rp_http -c "SELECT resume_pipeline._dependency_pause('$s', 10)" >/dev/null
           q -d rp_http -c "SELECT resume_pipeline._dependency_paused_ms('$s') > 15000")"
    t_expect "http_call: the model's pause is the rate limiter's" "t|t" \
        "$(q -d rp_http -c "SELECT resume_pipeline._dependency_pause('model', 300)" >/dev/null
           q -d rp_http -c "SELECT resume_pipeline._dependency_paused_ms('model') > 0")|$(
           q -d rp_http -c "SELECT resume_pipeline._rate_limit_state() ->> 'paused_until' IS NOT NULL")"
    local name bad=()
    for name in "''" "repeat('x', 64)" "E'a\\nb'" "E'tab\\there'"; do
        bad+=("$(q -d rp_http -v ON_ERROR_STOP=0 -c "SELECT resume_pipeline._circuit_state($name)" -c '\echo :SQLSTATE' 2>/dev/null | tail -1)")
    done
    t_expect "http_call: empty, too long and control-character names are refused (22023)" "22023 22023 22023 22023" "${bad[*]}"
    t_expect "http_call: a 63-byte name is accepted" "closed" \
        "$(q -d rp_http -c "SELECT resume_pipeline._circuit_state(repeat('y', 63)) ->> 'state'")"
    # 70 names failing once each in a table of 64: the least recently used closed ones go, the
    # open circuit and the paused one stay.
    local tag="lru$RANDOM"
    q -d rp_http -c "SELECT resume_pipeline._circuit_record('$tag-' || i, false) FROM generate_series(1, 70) i" >/dev/null
    t_expect "http_call: a full table reuses the least recently used closed slots" "0|1|open|true" \
        "$(q -d rp_http -c "SELECT (resume_pipeline._circuit_state('$tag-1') ->> 'consecutive_failures') || '|' ||
                                   (resume_pipeline._circuit_state('$tag-70') ->> 'consecutive_failures') || '|' ||
                                   (resume_pipeline._circuit_state('$g') ->> 'state') || '|' ||
                                   (resume_pipeline._dependency_paused_ms('$s') > 0)")"
    q -c "ALTER SYSTEM RESET resume_pipeline.circuit_failure_threshold" -c "SELECT pg_reload_conf()" >/dev/null
}

# hc_job PAYLOAD — a step job as the pipeline's owner writes it; its id.
hc_job() {
    q -d rp_http -v "p=$1" <<<"INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, payload)
                                VALUES ('$hc_user', 'step', gen_random_uuid(), :'p'::jsonb) RETURNING id;"
}

hc_job_state() {
    q -d rp_http -c "SELECT state || '|' || attempts || '|' || coalesce(last_error, '') FROM resume_pipeline.jobs WHERE id = '$1'"
}

hc_workers() {
    local base="http://127.0.0.1:$RP_OPENAI_PORT/v1" hooks="http://127.0.0.1:$hc_port" job
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_http'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 4" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" \
      -c "ALTER SYSTEM SET resume_pipeline.circuit_failure_threshold = 2" \
      -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 1500" -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_http "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_http'" 30; then
        t_fail "http_call: a worker serves the test database" "$(q -c "SELECT backend_type, datname FROM pg_stat_activity")"
        return
    fi
    sleep 0.5  # the worker rereads its configuration when it next wakes

    # Three requests to the model in one job: each answer goes to SQL, which asks for the next.
    local granted chat
    granted=$(q -d rp_http -c "SELECT resume_pipeline._rate_limit_state() ->> 'granted'")
    chat=$(q -d rp_http -v "schema=$hc_schema" <<<"SELECT resume_pipeline._chat_request(:'schema'::jsonb, 'verdict', NULL, 'Ada');")
    job=$(hc_job "{\"debug_calls\": 3, \"debug_call\": {\"method\": \"POST\", \"url\": \"$base/chat/completions\", \"auth\": \"openai\",
                   \"dependency\": \"model\", \"tokens\": 600, \"body\": $chat}}")
    wait_for rp_http "SELECT state NOT IN ('queued', 'running') FROM resume_pipeline.jobs WHERE id = '$job'" 30
    t_expect "http_call: a call job sends its three requests through the worker and SQL keeps the answers" \
        "done|1|3|200,200,200|ok,ok,ok|t" \
        "$(q -d rp_http -c "SELECT concat_ws('|', state, attempts, jsonb_array_length(payload -> 'debug_answers'),
                              (SELECT string_agg(a ->> 'status', ',') FROM jsonb_array_elements(payload -> 'debug_answers') a),
                              (SELECT string_agg(a ->> 'outcome', ',') FROM jsonb_array_elements(payload -> 'debug_answers') a),
                              (SELECT bool_and((a ->> 'body')::jsonb ->> 'object' = 'chat.completion' AND a #>> '{headers,x-request-id}' LIKE 'req_%')
                                 FROM jsonb_array_elements(payload -> 'debug_answers') a))
                            FROM resume_pipeline.jobs WHERE id = '$job'")"
    t_expect "http_call: the model's requests went through the shared rate limiter" "t" \
        "$(q -d rp_http -c "SELECT (resume_pipeline._rate_limit_state() ->> 'granted')::int >= $granted + 3")"

    # No transaction is open while a request is in flight.
    job=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/slow?ms=1500\", \"dependency\": \"step:slow\"}}")
    wait_for rp_http "SELECT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE id = '$job' AND state = 'running')" 20
    sleep 0.4
    t_expect "http_call: while a call job waits on its request the worker holds no transaction" "t" \
        "$(q -d rp_http -c "SELECT bool_and(xact_start IS NULL AND backend_xid IS NULL) FROM pg_stat_activity
                             WHERE backend_type = 'resume_pipeline worker'")"
    wait_for rp_http "SELECT state = 'done' FROM resume_pipeline.jobs WHERE id = '$job'" 20

    # Failures reach the circuit: transport and 5xx count, a 429 and a 404 do not.
    local dead="step:dead$RANDOM" busy="step:busy$RANDOM" j1 j2 j3
    j1=$(hc_job "{\"debug_call\": {\"url\": \"http://127.0.0.1:9/x\", \"dependency\": \"$dead\"}}")
    j2=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/status/503\", \"dependency\": \"$busy\"}}")
    wait_for rp_http "SELECT count(*) = 2 FROM resume_pipeline.jobs WHERE id IN ('$j1', '$j2') AND state = 'done'" 20
    j3=$(hc_job "{\"debug_calls\": 2, \"debug_call\": {\"url\": \"$hooks/status/429\", \"dependency\": \"$busy\"}}")
    wait_for rp_http "SELECT state = 'done' FROM resume_pipeline.jobs WHERE id = '$j3'" 20
    t_expect "http_call: a transport failure and a 503 count against the circuit, 429s do not" "transport|1|503|1|429,429|1" \
        "$(q -d rp_http -c "SELECT concat_ws('|',
              (SELECT payload #>> '{debug_answers,0,outcome}' FROM resume_pipeline.jobs WHERE id = '$j1'),
              resume_pipeline._circuit_state('$dead') ->> 'consecutive_failures',
              (SELECT payload #>> '{debug_answers,0,status}' FROM resume_pipeline.jobs WHERE id = '$j2'),
              resume_pipeline._circuit_state('$busy') ->> 'consecutive_failures',
              (SELECT string_agg(a ->> 'status', ',') FROM resume_pipeline.jobs, jsonb_array_elements(payload -> 'debug_answers') a WHERE id = '$j3'),
              resume_pipeline._circuit_state('$busy') ->> 'consecutive_failures')")"

    # A request the worker cannot send is answered "refused" and SQL decides.
    job=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/echo\", \"headers\": {\"X-Evil\": \"a\\nb\"}, \"dependency\": \"step:x\"}}")
    local job2
    job2=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/echo\", \"dependency\": \"bad\\u0001name\"}}")
    wait_for rp_http "SELECT count(*) = 2 FROM resume_pipeline.jobs WHERE id IN ('$job', '$job2') AND state = 'done'" 20
    t_expect "http_call: unsendable requests reach SQL as outcome refused with the reason" "refused|t|refused|t" \
        "$(q -d rp_http -c "SELECT concat_ws('|', (SELECT payload #>> '{debug_answers,0,outcome}' FROM resume_pipeline.jobs WHERE id = '$job'),
              (SELECT payload #>> '{debug_answers,0,message}' LIKE '%CR, LF or NUL%' FROM resume_pipeline.jobs WHERE id = '$job'),
              (SELECT payload #>> '{debug_answers,0,outcome}' FROM resume_pipeline.jobs WHERE id = '$job2'),
              (SELECT payload #>> '{debug_answers,0,message}' LIKE '%control characters%' FROM resume_pipeline.jobs WHERE id = '$job2'))")"

    # An open circuit: the job waits (attempt given back) and goes once the circuit lets a trial through.
    # Open for 5 s here, so that a worker slowed by a busy machine still meets it open.
    local down="step:down$RANDOM" opened
    q -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 5000" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    q -d rp_http -c "SELECT resume_pipeline._circuit_record('$down', false) FROM generate_series(1, 2)" >/dev/null
    opened=$(date +%s%3N)
    job=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/echo\", \"dependency\": \"$down\"}}")
    if wait_for rp_http "SELECT state = 'queued' AND attempts = 0 AND last_error = 'waiting: the $down circuit is open'
                           FROM resume_pipeline.jobs WHERE id = '$job'" 10; then
        t_pass "http_call: a job whose dependency's circuit is open waits, its attempt given back"
    else
        t_fail "http_call: a job whose dependency's circuit is open waits, its attempt given back" "$(hc_job_state "$job")"
    fi
    wait_for rp_http "SELECT state = 'done' FROM resume_pipeline.jobs WHERE id = '$job'" 30
    t_expect "http_call: once the circuit lets a trial through the job completes, charged one attempt, and the circuit closes" \
        "done|1|200|closed|t" \
        "$(q -d rp_http -c "SELECT concat_ws('|', state, attempts, payload #>> '{debug_answers,0,status}',
                                resume_pipeline._circuit_state('$down') ->> 'state') FROM resume_pipeline.jobs WHERE id = '$job'")|$(
           [ $(($(date +%s%3N) - opened)) -ge 4500 ] && echo t || echo f)"
    q -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 1500" -c "SELECT pg_reload_conf()" >/dev/null

    # A paused dependency: the job comes back when the pause ends, not before, uncharged.
    local paused="step:paused$RANDOM" start took
    q -d rp_http -c "SELECT resume_pipeline._dependency_pause('$paused', 2500)" >/dev/null
    start=$(date +%s%3N)
    job=$(hc_job "{\"debug_call\": {\"url\": \"$hooks/echo\", \"dependency\": \"$paused\"}}")
    if wait_for rp_http "SELECT state = 'queued' AND attempts = 0 AND last_error LIKE 'waiting: $paused is paused for %'
                           AND run_after > now() + interval '1 second' FROM resume_pipeline.jobs WHERE id = '$job'" 10; then
        t_pass "http_call: a job of a paused dependency is queued until the pause ends, its attempt given back"
    else
        t_fail "http_call: a job of a paused dependency is queued until the pause ends, its attempt given back" "$(hc_job_state "$job")"
    fi
    wait_for rp_http "SELECT state = 'done' FROM resume_pipeline.jobs WHERE id = '$job'" 20
    took=$(($(date +%s%3N) - start))
    if [ "$(q -d rp_http -c "SELECT state || '|' || attempts FROM resume_pipeline.jobs WHERE id = '$job'")" = "done|1" ] &&
       [ "$took" -ge 2000 ] && [ "$took" -lt 6000 ]; then
        t_pass "http_call: the paused job completes after the pause ($took ms), charged one attempt"
    else
        t_fail "http_call: the paused job completes after the pause, charged one attempt" "took $took ms: $(hc_job_state "$job")"
    fi

    # A 429 from the model pauses the rate limiter for everyone, as long as it asked.
    curl -s -X POST -H 'Content-Type: application/json' -d '["429:4000"]' "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" >/dev/null
    job=$(hc_job "{\"debug_call\": {\"method\": \"POST\", \"url\": \"$base/chat/completions\", \"auth\": \"openai\",
                   \"dependency\": \"model\", \"body\": $chat}}")
    wait_for rp_http "SELECT state = 'done' FROM resume_pipeline.jobs WHERE id = '$job'" 20
    t_expect "http_call: the model's 429 reaches SQL and pauses the model for everyone" "429|true" \
        "$(q -d rp_http -c "SELECT (SELECT payload #>> '{debug_answers,0,status}' FROM resume_pipeline.jobs WHERE id = '$job') || '|' ||
                                   (resume_pipeline._dependency_paused_ms('model') > 1000)")"
}

hc_run() {
    local why
    if ! why=$(servers_have_node); then
        t_skip "http_call" "$why"
        return
    fi
    if ! servers_openai "$hc_dir" "$hc_key" || ! hc_hooks; then
        t_fail "http_call: the stand-in servers start" "$(cat "$hc_dir"/*.err)"
        return
    fi
    fresh_db rp_http
    q -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$hc_key'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_model = 'gpt-4o-mini'" \
      -c "ALTER SYSTEM SET resume_pipeline.github_base_url = 'http://127.0.0.1:$hc_port'" \
      -c "ALTER SYSTEM SET resume_pipeline.github_token = '$hc_token'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 5000" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.2
    hc_session
    hc_chat_tests
    hc_circuits
    hc_workers
}

hc_run
servers_stop
hc_reset_settings
rm -rf "$hc_dir"
unset -f hc_run hc_session hc_chat hc_chat_tests hc_circuits hc_workers hc_job hc_job_state hc_call hc_hooks hc_reset_settings
