# An applicant's enrichment steps run by themselves through the background workers, against
# stand-ins that speak the real wire formats: the GitHub REST API (test/github_fake), a
# LinkedIn-profile provider (test/hooks_fake) and the OpenAI-compatible model (test/openai_fake).
# cv → gh (the profile named in the CV, every page of repositories) → li → ai, to status
# completed with a score, with the built-in scorer and with the model; a GitHub 404, a GitHub
# rate limit whose reset is 2 s ahead (waited out, not failed), a model refusal and a verdict
# outside the schema.
en_dir=$(mktemp -d /tmp/rp-enrichment.XXXXXX)
chmod 755 "$en_dir"
en_user=aaaaaaaa-0000-4000-8000-00000000000a
en_posting=dddddddd-0000-4000-8000-000000000001

en_reset_settings() {
    local s
    for s in database workers max_concurrent_tasks retry_base_delay llm_provider openai_base_url openai_api_key \
             request_timeout_ms github_base_url github_token linkedin_provider_url linkedin_provider_key; do
        q -c "ALTER SYSTEM RESET resume_pipeline.$s" >/dev/null
    done
    q -c "SELECT pg_reload_conf()" >/dev/null
}

# en_pdf NAME TEXT — $en_dir/NAME.pdf typeset from TEXT.
en_pdf() {
    printf '%s\n' "$2" >"$en_dir/$1.txt"
    tools/make_documents pdf "$en_dir/$1.pdf" "$en_dir/$1.txt"
}

# en_applicant ID FILE [COLUMNS VALUES] — an applicant with the uploaded FILE as CV, for the posting.
en_applicant() {
    local file_id
    file_id=$(q -d rp_en -c "SELECT resume_pipeline.upload('cvs', '$1.pdf', pg_read_binary_file('$2'), '{}', '$en_user')")
    q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, cv_file_id, job_posting_id${3:+, $3})
                   VALUES ('$1', '$en_user', '$file_id', '$en_posting'${4:+, $4})" >/dev/null
}

# en_state ID — status|cv|gh|li|ai|score-is-set of an applicant
en_state() {
    q -d rp_en -c "SELECT status || '|' || cv_status || '|' || gh_status || '|' || li_status || '|' || ai_status || '|' ||
                          (score IS NOT NULL)
                     FROM resume_pipeline.applicants WHERE id = '$1'"
}

# en_settled ID — waits until the applicant's steps are over (nothing pending or processing)
en_settled() {
    wait_for rp_en "SELECT count(*) = 1 FROM resume_pipeline.applicants WHERE id = '$1'
                       AND 'pending' NOT IN (cv_status, gh_status, li_status, ai_status)
                       AND 'processing' NOT IN (cv_status, gh_status, li_status, ai_status)" "${2:-60}"
}

# en_github PATH — the JSON of the GitHub stand-in's control API
en_github() { curl -s "http://127.0.0.1:$RP_GITHUB_PORT$1"; }

en_run() {
    local why
    if ! why=$(servers_have_node); then
        t_skip "enrichment" "$why"
        return
    fi
    local key="sk-en-$RANDOM$RANDOM" token="ghp_en$RANDOM$RANDOM" li_key="li-en-$RANDOM"
    if ! servers_openai "$en_dir" "$key" || ! servers_github "$en_dir" --token "$token" ||
        ! servers_hooks "$en_dir"; then
        t_fail "enrichment: the stand-in servers start" "$(cat "$en_dir"/*.err)"
        return
    fi
    chmod -R a+rX "$en_dir"
    fresh_db rp_en
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_en'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 8" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 3000" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_base_url = 'http://127.0.0.1:$RP_OPENAI_PORT/v1'" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_api_key = '$key'" \
      -c "ALTER SYSTEM SET resume_pipeline.github_base_url = 'http://127.0.0.1:$RP_GITHUB_PORT'" \
      -c "ALTER SYSTEM SET resume_pipeline.github_token = '$token'" \
      -c "ALTER SYSTEM SET resume_pipeline.linkedin_provider_url = 'http://127.0.0.1:$RP_HOOKS_PORT/linkedin/profile'" \
      -c "ALTER SYSTEM SET resume_pipeline.linkedin_provider_key = '$li_key'" \
      -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_en "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_en'" 30; then
        t_fail "enrichment: a worker serves the test database" "$(q -c "SELECT backend_type, datname FROM pg_stat_activity")"
        return
    fi
    q -d rp_en -c "INSERT INTO resume_pipeline.job_postings (id, user_id, title, description, required_skills)
                   VALUES ('$en_posting', '$en_user', 'Senior Backend Engineer',
                           'We build APIs in Go on PostgreSQL and Kubernetes. 5+ years of backend experience.',
                           '{Go,PostgreSQL,Kubernetes}')" >/dev/null
    # A GitHub user with 250 public repositories: three pages of 100.
    curl -s -X POST "http://127.0.0.1:$RP_GITHUB_PORT/_control/users" -H 'Content-Type: application/json' \
        -d '[{"login": "ada-l", "name": "Ada Lovelace", "followers": 42, "generate_repos": 250}]' >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/profiles" -H 'Content-Type: application/json' \
        -d '[{"url": "https://www.linkedin.com/in/ada-l", "full_name": "Ada Lovelace", "headline": "Backend engineer"}]' >/dev/null

    en_pdf ada "Ada Lovelace
ada@example.com | +44 20 7946 0958 | github.com/ada-l

Experience
Senior Backend Engineer, Acme Ltd, 2019 - present
Built payment APIs in Go on PostgreSQL, deployed on Kubernetes.
Backend Engineer, Initech, 2015 - 2019
Python and PostgreSQL services.

Skills
Go, PostgreSQL, Kubernetes, Python, Docker

Education
BSc Computer Science, University of Leeds, 2011 - 2015"

    # 1. The built-in scorer: cv, then gh (the profile in the CV), li and ai, by themselves.
    en_applicant a0000000-0000-4000-8000-000000000001 "$en_dir/ada.pdf" li_url "'https://www.linkedin.com/in/ada-l'"
    if en_settled a0000000-0000-4000-8000-000000000001; then
        t_pass "builtin: the applicant's steps all end by themselves"
    else
        t_fail "builtin: the applicant's steps all end by themselves" "$(en_state a0000000-0000-4000-8000-000000000001)
$(q -d rp_en -c "SELECT kind, state, attempts, last_error FROM resume_pipeline.jobs")"
    fi
    t_expect "builtin: completed with a score; cv, gh, li and ai ready" "completed|ready|ready|ready|ready|true" \
        "$(en_state a0000000-0000-4000-8000-000000000001)"
    t_expect "builtin: the GitHub login comes from the CV; every page of repositories is read" "ada-l|250|3|42" \
        "$(q -d rp_en -c "SELECT gh_username || '|' || (gh_data ->> 'repos_read') || '|' || (gh_data ->> 'pages_read') || '|' ||
                                 (gh_data ->> 'followers')
                            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000001'")"
    t_expect "builtin: the summary has top languages, total stars of own repositories and the most recent push" "true|true|true|true" \
        "$(q -d rp_en -c "SELECT (jsonb_array_length(gh_data -> 'top_languages') BETWEEN 1 AND 5) || '|' ||
                                 ((gh_data ->> 'total_stars')::bigint >= 0) || '|' || (gh_data ->> 'most_recent_push' IS NOT NULL) || '|' ||
                                 (jsonb_array_length(gh_data -> 'top_repositories') BETWEEN 1 AND 5)
                            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000001'")"
    t_expect "builtin: GitHub was asked with the token, a User-Agent and the API version, following Link: next" "4|4|4|4" \
        "$(en_github "/_control/requests" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
              const r = JSON.parse(s).requests.filter(x => !x.path.startsWith("/_control"));
              const h = (x, n) => (x.headers || {})[n] || "";
              console.log([r.length, r.filter(x => h(x, "authorization") === "Bearer " + process.argv[1]).length,
                           r.filter(x => h(x, "user-agent")).length,
                           r.filter(x => h(x, "x-github-api-version") === "2022-11-28").length].join("|"));
            });' "$token")"
    t_expect "builtin: the LinkedIn profile comes from the provider, asked with its key" "Ada Lovelace|1" \
        "$(q -d rp_en -c "SELECT li_data ->> 'full_name' FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000001'")|$(
            curl -s "http://127.0.0.1:$RP_HOOKS_PORT/_control/requests?path=/linkedin/profile" | node -e '
                let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(
                  JSON.parse(s).requests.filter(x => (x.headers || {}).authorization === "Bearer " + process.argv[1]).length));' "$li_key")"
    t_expect "builtin: ai_data is the scorer's verdict for the posting, score 0-100 and the generated column agree" "builtin|true|true|true" \
        "$(q -d rp_en -c "SELECT (ai_data ->> 'provider') || '|' || (score BETWEEN 0 AND 100 AND score = (ai_data ->> 'score')::numeric) || '|' ||
                                 (ai_data ->> 'job_posting_id' = '$en_posting') || '|' ||
                                 (ai_data ? 'strengths' AND ai_data ? 'concerns' AND ai_data ? 'summary' AND ai_data ? 'reasoning'
                                  AND ai_data ? 'skill_match_score' AND ai_data ? 'overall_fit_score')
                            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000001'")"
    t_expect "builtin: the scorer is stable for the same input" "t" \
        "$(q -d rp_en -c "SELECT resume_pipeline.score_fit(cv_data, resume_pipeline._json_strings(cv_data), (SELECT resume_pipeline._posting_json(p) FROM resume_pipeline.job_postings p WHERE p.id = '$en_posting'))
                                 - 'provider' - 'job_posting_id'
                                 = resume_pipeline.score_fit(cv_data, resume_pipeline._json_strings(cv_data), (SELECT resume_pipeline._posting_json(p) FROM resume_pipeline.job_postings p WHERE p.id = '$en_posting'))
                            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000001'")"

    # 2. A GitHub user that does not exist: gh fails with that reason; the ai step still runs.
    en_applicant a0000000-0000-4000-8000-000000000002 "$en_dir/ada.pdf" gh_username "'no-such-user-x'"
    en_settled a0000000-0000-4000-8000-000000000002
    t_expect "GitHub 404: gh_status error with the reason, the applicant still completed by the ai step" \
        "completed|ready|error|not_provided|ready|true|GitHub user \"no-such-user-x\" does not exist" \
        "$(en_state a0000000-0000-4000-8000-000000000002)|$(q -d rp_en -c "SELECT gh_error FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000002'")"

    # 3. A primary rate limit with its reset 2 s ahead: waited out, not failed, no attempt charged.
    curl -s -X POST "http://127.0.0.1:$RP_GITHUB_PORT/_control/reset" >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_GITHUB_PORT/_control/users" -H 'Content-Type: application/json' \
        -d '[{"login": "ada-l", "name": "Ada Lovelace", "followers": 42, "generate_repos": 250}]' >/dev/null
    curl -s -X POST "http://127.0.0.1:$RP_GITHUB_PORT/_control/script" -H 'Content-Type: application/json' \
        -d '[{"behaviour": "rate_limit", "status": 403, "reset_in_s": 2}]' >/dev/null
    local started=$SECONDS
    q -d rp_en -c "UPDATE resume_pipeline.applicants SET gh_username = NULL, gh_status = 'not_provided' WHERE id = 'a0000000-0000-4000-8000-000000000002'" \
      -c "UPDATE resume_pipeline.applicants SET gh_username = 'ada-l' WHERE id = 'a0000000-0000-4000-8000-000000000002'" >/dev/null
    en_settled a0000000-0000-4000-8000-000000000002
    t_expect "GitHub rate limit (403, nothing remaining, reset in 2 s): gh ready after the reset, its job done on attempt 1" \
        "ready|250|done|1|true" \
        "$(q -d rp_en -c "SELECT a.gh_status || '|' || (a.gh_data ->> 'repos_read') || '|' || j.state || '|' || j.attempts || '|' ||
                                 ((j.payload ->> 'throttled')::int >= 1)
                            FROM resume_pipeline.applicants a
                            JOIN resume_pipeline.jobs j ON j.target_id = a.id AND j.kind = 'gh'
                           WHERE a.id = 'a0000000-0000-4000-8000-000000000002' ORDER BY j.created_at DESC LIMIT 1")"
    if [ $((SECONDS - started)) -ge 2 ]; then
        t_pass "GitHub rate limit: nothing was asked of GitHub before the reset"
    else
        t_fail "GitHub rate limit: nothing was asked of GitHub before the reset" "settled after $((SECONDS - started)) s"
    fi

    # 4. The model: one strict-schema call for the verdict, tokens recorded; a refusal and a
    # verdict outside the schema fail the ai step with their reason.
    q -c "ALTER SYSTEM SET resume_pipeline.llm_provider = 'openai'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    local cv='{"basics": {"name": "Grace Hopper", "email": "grace@example.com"}, "skills": [{"name": "Go"}, {"name": "PostgreSQL"}], "work": [{"name": "Navy", "position": "Engineer", "startDate": "2015-01"}]}'
    q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, cv_status, cv_data, job_posting_id)
                   VALUES ('a0000000-0000-4000-8000-000000000004', '$en_user', 'ready', '$cv', '$en_posting')" >/dev/null
    en_settled a0000000-0000-4000-8000-000000000004
    t_expect "model: the verdict from one Chat Completions call, status completed, tokens recorded" \
        "completed|ready|not_provided|not_provided|ready|true|openai|true|true" \
        "$(en_state a0000000-0000-4000-8000-000000000004)|$(q -d rp_en -c "SELECT (ai_data ->> 'provider') || '|' ||
                 ((ai_data #>> '{usage,prompt_tokens}')::int > 0 AND (ai_data #>> '{usage,completion_tokens}')::int > 0) || '|' ||
                 (score BETWEEN 0 AND 100)
            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000004'")"
    t_expect "model: the request used the verdict's own strict schema, the posting and the candidate inside tags" "1|candidate_verdict|true|t" \
        "$(curl -s "http://127.0.0.1:$RP_OPENAI_PORT/_control/requests?path=/v1/chat/completions" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
              const r = JSON.parse(s).requests.filter(x => x.json && x.json.response_format &&
                          x.json.response_format.json_schema.name === "candidate_verdict");
              const m = r.length ? JSON.stringify(r[0].json.messages) : "";
              console.log([r.length, r.length ? r[0].json.response_format.json_schema.name : "",
                           r.length ? r[0].json.response_format.json_schema.strict : "",
                           (m.includes("<job_posting>") && m.includes("Grace Hopper")) ? "t" : "f"].join("|"));
            });')"
    # The whole chain with the model: it reads the CV (its profile URLs name the GitHub user),
    # then gh, then the verdict.
    en_applicant a0000000-0000-4000-8000-000000000003 "$en_dir/ada.pdf"
    en_settled a0000000-0000-4000-8000-000000000003
    t_expect "model: cv → gh (the profile the model read from the CV) → ai by themselves, completed with a score" \
        "completed|ready|ready|not_provided|ready|true|ada-l|true|openai" \
        "$(en_state a0000000-0000-4000-8000-000000000003)|$(q -d rp_en -c "SELECT gh_username || '|' || (cv_llm_usage ->> 'model' IS NOT NULL) || '|' || (ai_data ->> 'provider')
            FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-000000000003'")"
    local outcome id n=5
    for outcome in refusal schema_violation; do
        id=a0000000-0000-4000-8000-00000000000$n
        curl -s -X POST "http://127.0.0.1:$RP_OPENAI_PORT/_control/script" -H 'Content-Type: application/json' -d "[\"$outcome\"]" >/dev/null
        q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, cv_status, cv_data, job_posting_id)
                       VALUES ('$id', '$en_user', 'ready', '$cv', '$en_posting')" >/dev/null
        en_settled "$id"
        t_expect "model $outcome: ai_status error with the reason, the job failed on its first attempt, no score" \
            "uploading|error|true|failed|1|false" \
            "$(q -d rp_en -c "SELECT a.status || '|' || a.ai_status || '|' || (a.ai_error LIKE '%${outcome}%') || '|' || j.state || '|' ||
                                     j.attempts || '|' || (a.score IS NOT NULL)
                                FROM resume_pipeline.applicants a JOIN resume_pipeline.jobs j ON j.target_id = a.id AND j.kind = 'ai'
                               WHERE a.id = '$id'")"
        n=$((n + 1))
    done

    # 4b. The LinkedIn provider: no profile there (404) is li error with the reason; a 429 asking
    # for 1 s is waited out without charging an attempt.
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/script?provider=linkedin" \
        -H 'Content-Type: application/json' -d '["404"]' >/dev/null
    q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, li_url) VALUES
                   ('a0000000-0000-4000-8000-00000000000b', '$en_user', 'https://www.linkedin.com/in/nobody-here')" >/dev/null
    en_settled a0000000-0000-4000-8000-00000000000b
    t_expect "LinkedIn 404: li_status error with the reason" \
        'error|the LinkedIn provider has no profile at "https://www.linkedin.com/in/nobody-here"' \
        "$(q -d rp_en -c "SELECT li_status || '|' || li_error FROM resume_pipeline.applicants WHERE id = 'a0000000-0000-4000-8000-00000000000b'")"
    curl -s -X POST "http://127.0.0.1:$RP_HOOKS_PORT/_control/script?provider=linkedin" \
        -H 'Content-Type: application/json' -d '["429:1"]' >/dev/null
    started=$SECONDS
    q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, li_url) VALUES
                   ('a0000000-0000-4000-8000-00000000000c', '$en_user', 'https://www.linkedin.com/in/ada-l')" >/dev/null
    en_settled a0000000-0000-4000-8000-00000000000c
    t_expect "LinkedIn 429 (Retry-After 1): waited out, li ready, its job done on attempt 1" "ready|Ada Lovelace|done|1" \
        "$(q -d rp_en -c "SELECT a.li_status || '|' || (a.li_data ->> 'full_name') || '|' || j.state || '|' || j.attempts
                            FROM resume_pipeline.applicants a JOIN resume_pipeline.jobs j ON j.target_id = a.id AND j.kind = 'li'
                           WHERE a.id = 'a0000000-0000-4000-8000-00000000000c'")"
    if [ $((SECONDS - started)) -ge 1 ]; then
        t_pass "LinkedIn 429: the provider was not asked again before its Retry-After"
    else
        t_fail "LinkedIn 429: the provider was not asked again before its Retry-After" "settled after $((SECONDS - started)) s"
    fi
    # health() and metrics() name both services and their circuits.
    t_expect "health() reports GitHub's base URL and the LinkedIn provider, each with its circuit" \
        "http://127.0.0.1:$RP_GITHUB_PORT|true|true|true" \
        "$(q -d rp_en -c "SELECT h -> 'github' ->> 'base_url' || '|' || (h -> 'linkedin' ->> 'configured') || '|' ||
                                 (h -> 'github' ? 'circuit') || '|' || (h -> 'linkedin' ? 'circuit')
                            FROM resume_pipeline.health() h")"
    t_expect "metrics() has the github and linkedin circuits" "2" \
        "$(q -d rp_en -c "SELECT resume_pipeline.metrics()" | grep -c -E '^resume_pipeline_circuit_open\{dependency="(github|linkedin)"\} [01]$')"

    # 5. No LinkedIn provider: li_status stays not_provided.
    q -c "ALTER SYSTEM RESET resume_pipeline.linkedin_provider_url" -c "ALTER SYSTEM RESET resume_pipeline.llm_provider" \
      -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    q -d rp_en -c "INSERT INTO resume_pipeline.applicants (id, user_id, li_url) VALUES
                   ('a0000000-0000-4000-8000-000000000009', '$en_user', 'https://www.linkedin.com/in/ada-l')" >/dev/null
    t_expect "no LinkedIn provider: li_status stays not_provided and no li job is queued" "not_provided|0" \
        "$(q -d rp_en -c "SELECT li_status || '|' || (SELECT count(*) FROM resume_pipeline.jobs j WHERE j.target_id = a.id)
                            FROM resume_pipeline.applicants a WHERE a.id = 'a0000000-0000-4000-8000-000000000009'")"
}

en_run
servers_stop
en_reset_settings
rm -rf "$en_dir"
