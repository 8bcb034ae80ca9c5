# The GitHub REST stand-in (test/github_fake/server.mjs) against curl: what a client author relies on.
# Seeded and generated users answer GET /users/{login} and /users/{login}/repos in GitHub's
# shapes; a listing of 250 repositories is walked by following the Link header's next URL verbatim
# (it names /user/{id}/repos, not the request's path) and the pages add up; unknown users get
# GitHub's 404 body; a request without User-Agent gets the 403 page; X-GitHub-Api-Version is
# checked; bad and missing tokens get 401; every answer has the x-ratelimit-* headers, a used-up
# limit answers 403 until its reset and then recovers, a scripted primary limit (429) holds until
# its reset 2 s later, a secondary limit sends retry-after; scripted 5xx, hang and reset; the
# control API logs the requests; the server stops on SIGTERM and with its parent. Needs node,
# curl and jq, not the cluster.
gf_dir=$(mktemp -d /tmp/rp-github-fake.XXXXXX)
gf_token=ghp_fakeTokenForTests0123456789
gf_port=

# gf_call METHOD URL-OR-PATH [curl args...]: body in $gf_dir/b, headers in $gf_dir/h; prints the
# status (000 when there was no answer); curl's exit status in $gf_dir/rc. Sends a User-Agent and
# the token unless the arguments override them.
gf_call() {
    local method=$1 target=$2
    shift 2
    [[ $target == http* ]] || target="http://127.0.0.1:$gf_port$target"
    local defaults=() args=" ${*,,}"
    [[ $args == *" user-agent:"* ]] || defaults+=(-H 'User-Agent: resume-pipeline-tests')
    [[ $args == *" authorization:"* ]] || defaults+=(-H "Authorization: Bearer $gf_token")
    : >"$gf_dir/b"
    : >"$gf_dir/h"
    curl -s -o "$gf_dir/b" -D "$gf_dir/h" -w '%{http_code}' -X "$method" --max-time 10 \
        "${defaults[@]}" -H 'Accept: application/vnd.github+json' "$@" "$target"
    echo $? >"$gf_dir/rc"
}
gf_get() { gf_call GET "$@"; }
gf_rc() { cat "$gf_dir/rc"; }
gf_header() { sed -n "s/^$1: *//Ip" "$gf_dir/h" | tr -d '\r' | head -1; }
gf_jq() { jq -r "$1" "$gf_dir/b" 2>/dev/null; }
# gf_link REL: the URL of that relation in the last answer's Link header (empty when absent).
gf_link() { gf_header link | tr ',' '\n' | sed -n "s/^ *<\([^>]*\)>; rel=\"$1\"$/\1/p"; }
gf_control() { # METHOD PATH [JSON]
    if [ -n "${3:-}" ]; then
        curl -s -X "$1" --max-time 10 -H 'Content-Type: application/json' --data-binary "$3" "http://127.0.0.1:$gf_port$2"
    else
        curl -s -X "$1" --max-time 10 "http://127.0.0.1:$gf_port$2"
    fi
}
gf_now_ms() { echo $(($(date +%s%N) / 1000000)); }

if ! command -v node >/dev/null || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    t_skip "github_fake" "node, curl or jq is missing"
elif ! servers_github "$gf_dir" --token "$gf_token"; then
    t_fail "github_fake: servers_github starts the server on a free port" "$(cat "$gf_dir"/github.* 2>/dev/null)"
else
    gf_port=$RP_GITHUB_PORT
    t_pass "github_fake: servers_github starts the server and sets RP_GITHUB_PORT ($gf_port)"

    # ---- Data --------------------------------------------------------------------------------
    gf_seed='[{"login": "Ada-Lovelace", "name": "Ada Lovelace", "followers": 1842, "company": "Analytical Engines",
               "repos": [{"name": "notes-on-the-engine", "language": "Python", "stargazers_count": 120, "pushed_at": "2024-05-01T10:00:00Z"},
                         {"name": "bernoulli", "language": null, "fork": true, "archived": true, "pushed_at": null}]},
              {"login": "prolific", "generate_repos": 250},
              {"login": "nameless", "name": null},
              {"login": "engines-inc", "type": "Organization", "generate_repos": 3}]'
    gf_out=$(gf_control POST /_control/users "$gf_seed")
    t_expect "github_fake: POST /_control/users seeds users, one with 250 generated repositories" \
        "4 250" "$(jq -r '[.count, (.users[] | select(.login == "prolific") | .repos)] | map(tostring) | join(" ")' <<<"$gf_out" 2>/dev/null)"

    gf_status=$(gf_get /users/ada-lovelace)
    if [ "$gf_status" = 200 ] && jq -e '.login == "Ada-Lovelace" and .type == "User" and .name == "Ada Lovelace"
            and .followers == 1842 and .public_repos == 2 and .company == "Analytical Engines"
            and (.id | type == "number") and (.node_id | type == "string") and (.created_at | test("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"))
            and has("email") and has("bio") and has("blog") and has("location") and (.following | type == "number")
            and (.html_url == "https://github.com/Ada-Lovelace") and (.repos_url | endswith("/users/Ada-Lovelace/repos"))' "$gf_dir/b" >/dev/null; then
        t_pass "github_fake: GET /users/{login} is case-insensitive and answers GitHub's user object with the seeded fields"
    else
        t_fail "github_fake: GET /users/{login} answers the seeded user" "status $gf_status: $(head -c 1500 "$gf_dir/b")"
    fi
    gf_get /users/nameless >/dev/null
    t_expect "github_fake: a user seeded with name null has name null and realistic defaults" "null|User|0" \
        "$(gf_jq '[(.name | tostring), .type, (.public_repos | tostring)] | join("|")')"
    gf_get /users/engines-inc >/dev/null
    t_expect "github_fake: an organization has type Organization" "Organization" "$(gf_jq .type)"

    gf_status=$(gf_get /users/ada-lovelace/repos)
    if [ "$gf_status" = 200 ] && [ -z "$(gf_header link)" ] &&
        jq -e 'length == 2 and (map(.name) == ["bernoulli", "notes-on-the-engine"])
               and (.[1] | .full_name == "Ada-Lovelace/notes-on-the-engine" and .language == "Python" and .stargazers_count == 120
                    and .private == false and .owner.login == "Ada-Lovelace" and .pushed_at == "2024-05-01T10:00:00Z"
                    and (.topics | type == "array") and (.default_branch | type == "string") and (.size | type == "number"))
               and (.[0] | .fork == true and .archived == true and .language == null and .pushed_at == null)' "$gf_dir/b" >/dev/null; then
        t_pass "github_fake: a one-page listing has no Link header; repos sorted by full_name carry the seeded fields (nulls kept)"
    else
        t_fail "github_fake: a one-page listing of the seeded repositories" "status $gf_status: $(cat "$gf_dir/h"; head -c 1500 "$gf_dir/b")"
    fi

    # ---- Pagination: follow next verbatim --------------------------------------------------
    gf_url="/users/prolific/repos?per_page=100"
    gf_pages=0
    gf_total=0
    gf_links_ok=yes
    gf_links_why=
    : >"$gf_dir/ids"
    while [ -n "$gf_url" ] && [ "$gf_pages" -lt 10 ]; do
        gf_status=$(gf_get "$gf_url")
        [ "$gf_status" = 200 ] || { gf_links_ok=no; gf_links_why+="status $gf_status for $gf_url; "; break; }
        gf_pages=$((gf_pages + 1))
        gf_total=$((gf_total + $(gf_jq length)))
        gf_jq '.[].id' >>"$gf_dir/ids"
        gf_next=$(gf_link next)
        if [ "$gf_pages" = 1 ]; then
            gf_first_next=$gf_next
            gf_first_last=$(gf_link last)
            [ -z "$(gf_link prev)" ] || { gf_links_ok=no; gf_links_why+="page 1 has prev; "; }
        fi
        if [ "$gf_pages" = 2 ]; then
            [[ $(gf_link prev) == */repos?per_page=100\&page=1 && $(gf_link first) == *page=1 ]] ||
                { gf_links_ok=no; gf_links_why+="page 2: $(gf_header link); "; }
        fi
        [ -z "$gf_next" ] || [[ $gf_next == "http://127.0.0.1:$gf_port/"* ]] || { gf_links_ok=no; gf_links_why+="next not absolute on the stand-in: $gf_next; "; }
        gf_url=$gf_next
    done
    t_expect "github_fake: following next verbatim walks 250 repositories in 3 pages of 100, 100, 50, each id once" \
        "3 250 250" "$gf_pages $gf_total $(sort -u "$gf_dir/ids" | wc -l)"
    gf_id=$(gf_control GET /_control/users | jq -r '.users[] | select(.login == "prolific") | .id')
    if [ "$gf_links_ok" = yes ] && [ "$gf_first_next" = "http://127.0.0.1:$gf_port/user/$gf_id/repos?per_page=100&page=2" ] &&
        [ "$gf_first_last" = "http://127.0.0.1:$gf_port/user/$gf_id/repos?per_page=100&page=3" ]; then
        t_pass "github_fake: Link next/last are absolute URLs on the stand-in in the /user/{id}/repos form; prev/first from page 2; no next on the last page"
    else
        t_fail "github_fake: Link next/last/prev/first" "$gf_links_why first next: $gf_first_next last: $gf_first_last"
    fi
    gf_get "/users/prolific/repos" >/dev/null
    gf_n30=$(gf_jq length)
    gf_get "/users/prolific/repos?per_page=500" >/dev/null
    t_expect "github_fake: per_page defaults to 30 and is capped at 100" "30 100" "$gf_n30 $(gf_jq length)"
    gf_get "/users/prolific/repos?per_page=100&page=9" >/dev/null
    t_expect "github_fake: a page past the end is an empty array" "0" "$(gf_jq length)"
    gf_get "/users/prolific/repos?per_page=100&sort=pushed" >/dev/null
    if [[ $(gf_link next) == *"/user/$gf_id/repos?sort=pushed&per_page=100&page=2" ]] &&
        gf_jq '[.[].pushed_at | select(. != null)] | . == (sort | reverse)' | grep -qx true; then
        t_pass "github_fake: sort=pushed lists the newest push first and the next link keeps sort"
    else
        t_fail "github_fake: sort=pushed" "$(gf_header link)"
    fi
    gf_get "/users/prolific/repos?per_page=100" >/dev/null
    jq -c '[.[] | {name, language, stargazers_count, forks_count, fork, archived, pushed_at}]' "$gf_dir/b" >"$gf_dir/gen1.json"
    if jq -e '(map(.language) | unique | length) >= 8 and (map(select(.language == null)) | length) > 0
              and (map(.stargazers_count) | max) > 50 and (map(.stargazers_count) | min) == 0
              and (map(select(.fork)) | length) > 0 and (map(select(.archived)) | length) > 0
              and (map(.pushed_at) | unique | length) > 90' "$gf_dir/gen1.json" >/dev/null; then
        t_pass "github_fake: generated repositories vary in language (some null), stars, forks, archived and pushed_at"
    else
        t_fail "github_fake: generated repositories vary" "$(head -c 1500 "$gf_dir/gen1.json")"
    fi
    gf_control POST /_control/users '{"login": "prolific", "generate_repos": 250}' >/dev/null
    gf_get "/users/prolific/repos?per_page=100" >/dev/null
    t_expect "github_fake: the generator is deterministic (seeding the same login again gives the same repositories)" \
        "$(cat "$gf_dir/gen1.json")" "$(jq -c '[.[] | {name, language, stargazers_count, forks_count, fork, archived, pushed_at}]' "$gf_dir/b")"

    # ---- Errors ------------------------------------------------------------------------------
    gf_status=$(gf_get /users/no-such-user)
    t_expect "github_fake: an unknown user gets GitHub's 404 body" \
        '404 {"message":"Not Found","documentation_url":"https://docs.github.com/rest/users/users#get-a-user","status":"404"}' \
        "$gf_status $(jq -c . "$gf_dir/b")"
    gf_status=$(gf_get /users/no-such-user/repos)
    t_expect "github_fake: the repositories of an unknown user get 404 Not Found" "404 Not Found" "$gf_status $(gf_jq .message)"
    gf_status=$(gf_get /users/ada-lovelace -H 'User-Agent:')
    if [ "$gf_status" = 403 ] && grep -q 'Please make sure your request has a User-Agent header' "$gf_dir/b"; then
        t_pass "github_fake: a request without User-Agent gets 403 with GitHub's User-Agent message"
    else
        t_fail "github_fake: a request without User-Agent gets 403" "status $gf_status: $(cat "$gf_dir/b")"
    fi
    gf_versions=
    for v in 2022-11-28 2026-03-10 2021-01-01; do
        gf_versions+="$(gf_get /users/ada-lovelace -H "X-GitHub-Api-Version: $v") "
    done
    if [ "$gf_versions" = "200 200 400 " ] && gf_jq .message | grep -q '"2021-01-01", is not a supported version'; then
        t_pass "github_fake: X-GitHub-Api-Version 2022-11-28 and 2026-03-10 pass, another version gets 400 (not a supported version)"
    else
        t_fail "github_fake: X-GitHub-Api-Version" "statuses $gf_versions: $(cat "$gf_dir/b")"
    fi
    gf_status=$(gf_get /users/ada-lovelace -H 'Authorization: Bearer ghp_wrong')
    t_expect "github_fake: a wrong token gets 401 Bad credentials" "401 Bad credentials" "$gf_status $(gf_jq .message)"
    gf_status=$(gf_get /users/ada-lovelace -H 'Authorization:')
    t_expect "github_fake: with --token, a request without a token gets 401" "401 Requires authentication" "$gf_status $(gf_jq .message)"
    gf_status=$(gf_get /users/ada-lovelace -H "Authorization: token $gf_token")
    t_expect "github_fake: the token is also accepted as 'token T'" 200 "$gf_status"
    gf_control POST /_control/config '{"token": null}' >/dev/null
    t_expect "github_fake: without a configured token, anonymous requests and any token pass" "200 200" \
        "$(gf_get /users/ada-lovelace -H 'Authorization:') $(gf_get /users/ada-lovelace -H 'Authorization: Bearer anything')"
    gf_control POST /_control/config "{\"token\": \"$gf_token\"}" >/dev/null

    # ---- Rate limits -------------------------------------------------------------------------
    gf_control POST '/_control/reset?keep_users=1' >/dev/null
    gf_get /users/ada-lovelace >/dev/null
    gf_r1="$(gf_header x-ratelimit-remaining) $(gf_header x-ratelimit-used)"
    gf_get /users/no-such-user >/dev/null
    gf_r2="$(gf_header x-ratelimit-remaining) $(gf_header x-ratelimit-used)"
    gf_reset=$(gf_header x-ratelimit-reset)
    if [ "$gf_r1 $gf_r2" = "4999 1 4998 2" ] && [ "$(gf_header x-ratelimit-limit)" = 5000 ] &&
        [ "$(gf_header x-ratelimit-resource)" = core ] && [ "$gf_reset" -gt "$(date +%s)" ]; then
        t_pass "github_fake: every answer (404s too) has x-ratelimit-limit/remaining/used/reset (epoch seconds)/resource: core"
    else
        t_fail "github_fake: x-ratelimit-* headers" "after two requests: $gf_r1 / $gf_r2"$'\n'"$(cat "$gf_dir/h")"
    fi

    # A used-up limit: 3 requests in a 2 s window, the 4th is refused until the reset.
    gf_control POST /_control/config '{"limit": 3, "window_s": 2}' >/dev/null
    gf_seen=
    for _ in 1 2 3 4 5; do
        gf_seen+="$(gf_get /users/ada-lovelace)/$(gf_header x-ratelimit-remaining) "
    done
    gf_reset=$(gf_header x-ratelimit-reset)
    gf_msg=$(gf_jq .message)
    if [ "$gf_seen" = "200/2 200/1 200/0 403/0 403/0 " ] && [[ $gf_msg == "API rate limit exceeded for user ID "* ]] &&
        [ "$(gf_jq .documentation_url)" != null ]; then
        t_pass "github_fake: with --limit 3 the 4th request gets 403 'API rate limit exceeded' with remaining 0, and so does the 5th"
    else
        t_fail "github_fake: a used-up limit answers 403" "status/remaining: $gf_seen message: $gf_msg"
    fi
    gf_wait=$((gf_reset * 1000 - $(gf_now_ms) + 100))
    [ "$gf_wait" -gt 0 ] && sleep "$(awk "BEGIN {print $gf_wait / 1000}")"
    gf_status=$(gf_get /users/ada-lovelace)
    t_expect "github_fake: after x-ratelimit-reset the limit is whole again" "200 2" "$gf_status $(gf_header x-ratelimit-remaining)"
    gf_control POST /_control/reset?keep_users=1 >/dev/null

    # A scripted primary limit (429, reset in 2 s) holds until its reset.
    gf_control POST /_control/script '[{"behaviour": "rate_limit", "status": 429, "reset_in_s": 2}]' >/dev/null
    gf_t0=$(date +%s)
    gf_s1=$(gf_get /users/ada-lovelace)
    gf_h1="$(gf_header x-ratelimit-remaining) $(gf_header retry-after)"
    gf_reset=$(gf_header x-ratelimit-reset)
    gf_s2=$(gf_get /users/ada-lovelace)
    gf_h2=$(gf_header x-ratelimit-remaining)
    if [ "$gf_s1 $gf_s2" = "429 429" ] && [ "$gf_h1" = "0 " ] && [ "$gf_h2" = 0 ] &&
        [ "$gf_reset" -ge $((gf_t0 + 2)) ] && [ "$gf_reset" -le $((gf_t0 + 4)) ] && gf_jq .message | grep -q '^API rate limit exceeded'; then
        t_pass "github_fake: a scripted primary limit answers 429 with remaining 0 and reset 2 s ahead, and again before the reset"
    else
        t_fail "github_fake: a scripted primary limit" "statuses $gf_s1 $gf_s2, remaining/retry-after '$gf_h1' '$gf_h2', reset $gf_reset (t0 $gf_t0): $(cat "$gf_dir/b")"
    fi
    gf_wait=$((gf_reset * 1000 - $(gf_now_ms) + 100))
    [ "$gf_wait" -gt 0 ] && sleep "$(awk "BEGIN {print $gf_wait / 1000}")"
    gf_status=$(gf_get /users/ada-lovelace)
    t_expect "github_fake: once the scripted reset time has passed the request succeeds" "200" "$gf_status"

    # A secondary limit: retry-after, remaining left, held for retry-after seconds.
    gf_control POST /_control/script '[{"behaviour": "secondary", "retry_after_s": 2}]' >/dev/null
    gf_s1=$(gf_get /users/ada-lovelace)
    gf_h1="$(gf_header retry-after) $(gf_header x-ratelimit-remaining)"
    gf_msg=$(gf_jq .message)
    gf_s2=$(gf_get /users/ada-lovelace)
    gf_ra2=$(gf_header retry-after)
    if [ "$gf_s1 $gf_s2" = "403 403" ] && [[ $gf_h1 == "2 "* ]] && [ "${gf_h1#2 }" -gt 0 ] &&
        [[ $gf_msg == "You have exceeded a secondary rate limit"* ]] && [ "$gf_ra2" -ge 1 ] && [ "$gf_ra2" -le 2 ]; then
        t_pass "github_fake: a scripted secondary limit answers 403 'secondary rate limit' with retry-after 2 and remaining > 0, until then"
    else
        t_fail "github_fake: a scripted secondary limit" "statuses $gf_s1 $gf_s2, retry-after/remaining $gf_h1, then $gf_ra2: $gf_msg"
    fi
    sleep 2.1
    t_expect "github_fake: after retry-after the request succeeds" 200 "$(gf_get /users/ada-lovelace)"

    # ---- Scripted failures -------------------------------------------------------------------
    gf_control POST /_control/reset?keep_users=1 >/dev/null
    gf_control POST /_control/script '["500", "502", "404", "503", "reset", "hang", "ok"]' >/dev/null
    gf_seen=
    for _ in 1 2 3 4; do
        gf_seen+="$(gf_get /users/ada-lovelace):$(head -c 40 "$gf_dir/b" | tr -d '\r\n' | cut -c1-22) "
    done
    if [[ $gf_seen == '500:{"message":"Server Err 502:<html><head><title>5 404:{"message":"Not Found 503:{"message":"Service U'* ]] ||
        [[ $gf_seen == 500:*502:*404:*503:* ]]; then
        t_pass "github_fake: scripted 500, 502 (an HTML page), 404 on an existing user and 503"
    else
        t_fail "github_fake: scripted 500, 502, 404, 503" "$gf_seen"
    fi
    gf_status=$(gf_get /users/ada-lovelace)
    t_expect "github_fake: scripted reset closes the connection without an answer" "000 52" "$gf_status $(gf_rc)"
    gf_status=$(gf_get /users/ada-lovelace --max-time 0.5)
    t_expect "github_fake: scripted hang never answers (the client times out)" "000 28" "$gf_status $(gf_rc)"
    t_expect "github_fake: then the script's ok, and afterwards normal answers" "200 200" "$(gf_get /users/ada-lovelace) $(gf_get /users/ada-lovelace)"
    gf_control POST /_control/script '[{"behaviour": "500", "path": "/users/prolific/repos"}]' >/dev/null
    t_expect "github_fake: an outcome with a path waits for a request to that path" "200 500 200" \
        "$(gf_get /users/prolific) $(gf_get '/users/prolific/repos?page=2') $(gf_get /users/prolific/repos)"
    gf_get /users/ada-lovelace >/dev/null
    gf_etag=$(gf_header etag)
    gf_rem=$(gf_header x-ratelimit-remaining)
    gf_status=$(gf_get /users/ada-lovelace -H "If-None-Match: $gf_etag")
    t_expect "github_fake: If-None-Match with the ETag gets 304, not counted against the limit" "304 $gf_rem" "$gf_status $(gf_header x-ratelimit-remaining)"

    gf_out=$(gf_control GET /_control/requests)
    t_expect "github_fake: GET /_control/requests logs method, path, query, headers and status" \
        "13|GET|/users/ada-lovelace|500|resume-pipeline-tests|2" \
        "$(jq -r '[(.count | tostring), .requests[0].method, .requests[0].path, (.requests[0].status | tostring),
                   .requests[0].headers["user-agent"], .requests[9].query.page] | join("|")' <<<"$gf_out" 2>/dev/null)"
    t_expect "github_fake: GET /_control/health" "true" "$(gf_control GET /_control/health | jq -r .ok)"

    # ---- Lifetime ----------------------------------------------------------------------------
    gf_pid=${RP_SERVER_PIDS[-1]}
    kill -TERM "$gf_pid"
    gf_gone=no
    for _ in $(seq 50); do kill -0 "$gf_pid" 2>/dev/null || { gf_gone=yes; break; }; sleep 0.05; done
    t_expect "github_fake: the server stops on SIGTERM" yes "$gf_gone"
    (
        node test/github_fake/server.mjs --port 0 >"$gf_dir/orphan.out" 2>&1 &
        echo $! >"$gf_dir/orphan.pid"
        for _ in $(seq 100); do grep -q '^listening ' "$gf_dir/orphan.out" && break; sleep 0.05; done
    )
    gf_orphan=$(cat "$gf_dir/orphan.pid")
    gf_gone=no
    for _ in $(seq 60); do kill -0 "$gf_orphan" 2>/dev/null || { gf_gone=yes; break; }; sleep 0.05; done
    [ "$gf_gone" = yes ] || kill "$gf_orphan" 2>/dev/null
    t_expect "github_fake: the server stops by itself when its parent process dies" yes "$gf_gone"
fi
servers_stop
rm -rf "$gf_dir"
unset -f gf_call gf_get gf_rc gf_header gf_jq gf_link gf_control gf_now_ms
