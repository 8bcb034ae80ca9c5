# The model's rate limiter: token buckets for requests and tokens in shared memory, drawn from
# by every session and worker alike; a 429's pause and the provider's "remaining 0 until reset"
# hold everybody back; 0 is unlimited; a request larger than the whole bucket still goes; a
# reload changes the rates at once. Waits are asserted from the values acquire returns (they
# depend only on the rates) and as lower bounds of elapsed time, never upper bounds.
fresh_db rp_rate_limit
rl() { q -d rp_rate_limit "$@"; }
rl >/dev/null <<'SQL'
CREATE TABLE marks(name text PRIMARY KEY, at timestamptz NOT NULL);
-- Acquires until told to wait: how many went, and the first wait.
CREATE FUNCTION drain(tokens bigint, OUT granted int, OUT wait bigint) LANGUAGE plpgsql AS $$
BEGIN
    granted := 0;
    LOOP
        wait := resume_pipeline._rate_limit_acquire(tokens);
        EXIT WHEN wait > 0 OR granted >= 100000;
        granted := granted + 1;
    END LOOP;
END $$;
-- Acquires as a worker would, sleeping as told; milliseconds since the mark when it went.
CREATE FUNCTION acquire_waiting(tokens bigint, mark text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE w bigint;
BEGIN
    LOOP
        w := resume_pipeline._rate_limit_acquire(tokens);
        EXIT WHEN w = 0;
        PERFORM pg_sleep(w / 1000.0);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - (SELECT at FROM marks WHERE name = mark)) * 1000;
END $$;
SQL
q >/dev/null <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_rate_user') THEN
        CREATE ROLE rp_rate_user LOGIN IN ROLE resume_pipeline_user;
    END IF;
END $$;
SQL

# set_rates RPM TPM — through the configuration files and a reload, as an operator would; returns
# once a new session sees both.
set_rates() {
    q -c "ALTER SYSTEM SET resume_pipeline.openai_requests_per_minute = $1" \
      -c "ALTER SYSTEM SET resume_pipeline.openai_tokens_per_minute = $2" -c "SELECT pg_reload_conf()" >/dev/null
    wait_for_rl "SELECT current_setting('resume_pipeline.openai_requests_per_minute') = '$1'
                    AND current_setting('resume_pipeline.openai_tokens_per_minute') = '$2'" 10
}
# wait_for_rl SQL [seconds] — until the query returns t in rp_rate_limit.
wait_for_rl() {
    local deadline=$((SECONDS + ${2:-60}))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(rl -c "$1" 2>/dev/null)" = t ] && return 0
        sleep 0.1
    done
    return 1
}
# in_range NAME LOW HIGH VALUE — LOW <= VALUE <= HIGH (integers).
in_range() {
    if [[ "$4" =~ ^[0-9]+$ ]] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then t_pass "$1"
    else t_fail "$1" "expected $2..$3, got: $4"; fi
}

set_rates 60 0
# A test run starts a cluster of its own, so the bucket is fresh; a rerun waits for it to refill.
wait_for_rl "SELECT (s ->> 'requests_available')::int = 60 AND s ->> 'paused_until' IS NULL
               FROM resume_pipeline._rate_limit_state() s" 90
t_expect "the limiter lives in shared memory when the library is preloaded" "true" \
    "$(rl -c "SELECT resume_pipeline._rate_limit_state() ->> 'shared'")"

# requests_per_minute = 60: a bucket of 60 requests, refilled one a second.
out=$(rl -c "SELECT granted || ' ' || wait FROM drain(100)")
t_expect "with 60 requests a minute, a burst of 60 goes at once" "60" "${out% *}"
in_range "the 61st request is told to wait about a second" 900 1000 "${out#* }"

# Another session draws from the same bucket: had it its own, 60 more would go.
out=$(rl -c "SELECT granted FROM drain(100)")
in_range "another session finds the bucket the first one emptied (shared memory)" 0 10 "$out"

# The provider says no request is left until its reset in 2 s: nobody sends before then.
w=$(rl -c "INSERT INTO marks VALUES ('settle', clock_timestamp())" \
       -c "SELECT resume_pipeline._rate_limit_settle(-1, -1, 0, -1, 2000, -1)" \
       -c '\c' -c "SELECT resume_pipeline._rate_limit_acquire(1)" | tail -1)
in_range "remaining-requests 0 with a 2 s reset makes another session wait up to that reset" 1001 2000 "$w"
out=$(rl -c "SELECT round(acquire_waiting(1, 'settle'))")
in_range "that session's request goes only after the reset" 1950 1000000 "$out"

# A 429 asking for 3 s holds every session back, and users see the pause in health().
w=$(rl -c "INSERT INTO marks VALUES ('pause', clock_timestamp())" \
       -c "SELECT resume_pipeline._rate_limit_pause(3000)" \
       -c '\c' -c "SELECT resume_pipeline._rate_limit_acquire(1)" | tail -1)
in_range "a pause asked for by one session makes another wait" 2001 3000 "$w"
t_expect "health() shows users the limits and the pause, not the traffic" "60|t|t|f" \
    "$(rl -c "SET ROLE rp_rate_user" -c "SELECT h ->> 'requests_per_minute', h ? 'requests_available',
                 h ->> 'paused_until' IS NOT NULL, h ? 'granted'
            FROM (SELECT resume_pipeline.health() -> 'model_rate_limit' h) x")"
denied=$(rl -c "SET ROLE rp_rate_user" -c "SELECT resume_pipeline._rate_limit_state()" 2>&1 >/dev/null | grep -c 'permission denied')
denied2=$(rl -c "SET ROLE rp_rate_user" -c "SELECT resume_pipeline._rate_limit_acquire(1)" 2>&1 >/dev/null | grep -c 'permission denied')
t_expect "users may call neither _rate_limit_state() nor _rate_limit_acquire()" "1 1" "$denied $denied2"
out=$(rl -c "SELECT round(acquire_waiting(1, 'pause'))")
in_range "the request goes only after the pause" 2950 1000000 "$out"

# Unlimited: nothing waits.
set_rates 0 0
t_expect "with both limits 0, 1000 requests of a million tokens go at once" "1000 0" \
    "$(rl -c "SELECT count(*) FILTER (WHERE w = 0) || ' ' || max(w)
                FROM (SELECT resume_pipeline._rate_limit_acquire(1000000) w FROM generate_series(1, 1000)) x")"

# tokens_per_minute = 1000: the estimate is reserved, the settle replaces it with the actual count.
set_rates 0 1000
wait_for_rl "SELECT (resume_pipeline._rate_limit_state() ->> 'tokens_available')::int = 1000" 90
out=$(rl -c "SELECT resume_pipeline._rate_limit_acquire(600) || ' ' || resume_pipeline._rate_limit_acquire(600)")
t_expect "600 of 1000 tokens go; another 600 do not" "0" "${out% *}"
in_range "the second 600 wait for the 200 missing tokens (12 s at 1000 a minute)" 11000 12000 "${out#* }"
t_expect "a settle that used 100 of the 600 estimated gives 500 back: the second 600 go" "0" \
    "$(rl -c "SELECT resume_pipeline._rate_limit_settle(600, 100, -1, -1, -1, -1)" \
          -c "SELECT resume_pipeline._rate_limit_acquire(600)" | tail -1)"

# A request larger than the whole bucket goes once the bucket is full; it never waits forever.
out=$(rl -c "SELECT resume_pipeline._rate_limit_acquire(5000)")
in_range "5000 tokens with a 1000-token bucket not full: a bounded wait for a full bucket" 1 120000 "$out"
rl -c "SELECT resume_pipeline._rate_limit_settle(1000, 0, -1, -1, -1, -1)" >/dev/null  # back to full
wait_for_rl "SELECT (resume_pipeline._rate_limit_state() ->> 'tokens_available')::int = 1000" 90
t_expect "5000 tokens with a full 1000-token bucket go" "0" "$(rl -c "SELECT resume_pipeline._rate_limit_acquire(5000)")"
in_range "and the next request waits for the bucket to refill, at most two minutes" 1 120000 \
    "$(rl -c "SELECT resume_pipeline._rate_limit_acquire(1)")"

# A reload changes the rate for sessions already open and for new ones. Each check first empties
# the bucket exactly, as a provider's "remaining 0" with no reset time does, so that the wait
# is a whole request's refill time.
set_rates 60 0
empty="SELECT resume_pipeline._rate_limit_settle(-1, -1, 0, -1, -1, -1)"
out=$(rl -c "$empty" -c "SELECT resume_pipeline._rate_limit_acquire(1)" \
         -c "ALTER SYSTEM SET resume_pipeline.openai_requests_per_minute = 600" -c "SELECT pg_reload_conf()" \
         -c "SELECT pg_sleep(0.3)" -c "$empty" -c "SELECT resume_pipeline._rate_limit_acquire(1)" | grep -E '^[0-9]+$')
in_range "at 60 a minute an empty bucket asks for a second" 900 1000 "$(echo "$out" | sed -n 1p)"
in_range "after a reload to 600 a minute, the same session is asked for 100 ms" 90 100 "$(echo "$out" | sed -n 2p)"
set_rates 6 0
in_range "after a reload to 6 a minute, a new session is asked for 10 s" 9900 10000 \
    "$(rl -c "$empty" -c "SELECT resume_pipeline._rate_limit_acquire(1)" | tail -1)"

q -c "ALTER SYSTEM RESET resume_pipeline.openai_requests_per_minute" \
  -c "ALTER SYSTEM RESET resume_pipeline.openai_tokens_per_minute" -c "SELECT pg_reload_conf()" >/dev/null
