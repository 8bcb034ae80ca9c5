# The S3 client (src/net/s3_client.cpp) against a real S3 server: @20minutes/s3rver, which
# checks SigV4 signatures, started from test/s3/start.mjs on a free port with a key pair made
# for this run. Each GoogleTest case of build/s3_client_test is one line. Needs no cluster.
s3_dir=$(mktemp -d)
s3_pid=

s3_stop() {
    if [ -n "$s3_pid" ]; then
        kill "$s3_pid" 2>/dev/null
        wait "$s3_pid" 2>/dev/null
        s3_pid=
    fi
    rm -rf "$s3_dir"
}
# A run cut short (set -u, an interrupt) still stops the server: chain onto test/run's EXIT trap.
eval "s3_prev_trap=($(trap -p EXIT))"
trap "s3_stop; ${s3_prev_trap[2]:-}" EXIT

s3_run() {
    mkdir -p build
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        t_skip "s3_client" "node and npm are not installed"
        return
    fi
    if [ ! -f test/node_modules/@20minutes/s3rver/package.json ]; then
        if ! npm ci --prefix test --no-audit --no-fund --loglevel=error >build/s3_npm.log 2>&1; then
            if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|fetch failed|proxy' \
                build/s3_npm.log; then
                t_skip "s3_client" "npm cannot reach its registry: $(grep -m1 -iE 'err' build/s3_npm.log)"
            else
                t_fail "s3_client: npm ci --prefix test installs s3rver" "$(tail -20 build/s3_npm.log)"
            fi
            return
        fi
    fi

    if ! make -s s3-client-test WERROR=-Werror >build/s3_client_build.log 2>&1; then
        t_fail "s3_client: build/s3_client_test builds with -Werror" "$(tail -30 build/s3_client_build.log)"
        return
    fi

    local access="rp-access-$RANDOM" secret="rp-secret-$RANDOM$RANDOM$RANDOM" port= i
    # --openssl-legacy-provider: s3rver's ListObjectsV2 continuation tokens use DES.
    S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret \
        node --openssl-legacy-provider test/s3/start.mjs --directory "$s3_dir/data" \
        >"$s3_dir/out" 2>"$s3_dir/err" &
    s3_pid=$!
    for i in $(seq 1 150); do
        port=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$s3_dir/out")
        [ -n "$port" ] && break
        kill -0 "$s3_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        t_fail "s3_client: s3rver starts" "$(cat "$s3_dir/err")"
        return
    fi

    S3_ENDPOINT="http://127.0.0.1:$port" S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret S3_BUCKET=resumes \
        timeout 300 build/s3_client_test >build/s3_client_test.log 2>&1
    local status name
    while read -r status name; do
        case $status in
            OK) t_pass "s3_client: $name" ;;
            SKIPPED) t_skip "s3_client: $name" "skipped by the test program" ;;
            *) t_fail "s3_client: $name" "$(sed -n "/^\[ RUN      \] $name\$/,/^\[  FAILED  \] $name /p" \
                build/s3_client_test.log | head -40)" ;;
        esac
    done < <(sed -n -E 's/^\[ +(OK|FAILED|SKIPPED) +\] ([A-Za-z0-9_.]+) \(.*/\1 \2/p' build/s3_client_test.log)
    grep -q '^\[==========\] .* ran' build/s3_client_test.log ||
        t_fail "s3_client: the test program ran to its end" "$(tail -30 build/s3_client_test.log)"
    if grep -qF "$secret" build/s3_client_test.log; then
        t_fail "s3_client: the secret key appears nowhere in the test output"
    else
        t_pass "s3_client: the secret key appears nowhere in the test output"
    fi

    kill "$s3_pid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$s3_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$s3_pid" 2>/dev/null; then
        t_fail "s3_client: s3rver stops on SIGTERM"
    else
        t_pass "s3_client: s3rver stops on SIGTERM"
    fi
}

s3_run
s3_stop
if [ -n "${s3_prev_trap[2]:-}" ]; then trap "${s3_prev_trap[2]}" EXIT; else trap - EXIT; fi
unset -f s3_run
