# Supabase's flow over S3: an object uploaded to the S3 stand-in (@20minutes/s3rver, which checks
# SigV4 signatures) and announced by a storage.objects row is read by the pipeline over S3 with
# resume_pipeline.storage_backend = 's3' and becomes a completed résumé; a registered object S3
# does not have fails once and for good; a wrong secret is a storage error whose message never
# holds the secret; users can neither change the S3 settings nor read its keys.
ss_dir=$(mktemp -d /tmp/rp-s3-storage.XXXXXX)
chmod 755 "$ss_dir"
ss_pid=
ss_stop() {
    if [ -n "$ss_pid" ]; then kill "$ss_pid" 2>/dev/null; wait "$ss_pid" 2>/dev/null; fi
    ss_pid=
    rm -rf "$ss_dir"
}
ss_run() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        t_skip "s3_storage" "node and npm are not installed"
        return
    fi
    if [ ! -f test/node_modules/@20minutes/s3rver/package.json ] &&
        ! npm ci --prefix test --no-audit --no-fund --loglevel=error >build/s3_npm.log 2>&1; then
        t_skip "s3_storage" "npm could not install s3rver: $(grep -m1 -iE 'err' build/s3_npm.log)"
        return
    fi
    local access="rp-access-$RANDOM" secret="rp-secret-$RANDOM$RANDOM$RANDOM" port= user=aaaaaaaa-0000-4000-8000-00000000000a
    S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret \
        node --openssl-legacy-provider test/s3/start.mjs --directory "$ss_dir/data" >"$ss_dir/out" 2>"$ss_dir/err" &
    ss_pid=$!
    for _ in $(seq 1 150); do
        port=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$ss_dir/out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        t_fail "s3_storage: s3rver starts" "$(cat "$ss_dir/err")"
        return
    fi
    # The object arrives as Supabase Storage would store it: a signed PUT to resumes/<user>/cv.pdf.
    curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
        -H "x-amz-content-sha256: $(sha256sum build/samples/ada_whitfield.pdf | cut -d' ' -f1)" \
        -H 'Content-Type: application/pdf' --upload-file build/samples/ada_whitfield.pdf \
        "http://127.0.0.1:$port/resumes/$user/cv.pdf" >"$ss_dir/put"
    t_expect "s3_storage: the stand-in accepts a signed PUT" "200" "$(cat "$ss_dir/put")"

    q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_s3" -c "CREATE DATABASE rp_s3" >/dev/null
    q -d rp_s3 >/dev/null <<'SQL'
CREATE SCHEMA storage;
CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), bucket_id text, name text, owner uuid, owner_id text,
    metadata jsonb, user_metadata jsonb, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE EXTENSION resume_pipeline;
SQL
    q -c "ALTER SYSTEM SET resume_pipeline.storage_backend = 's3'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_endpoint = 'http://127.0.0.1:$port'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_access_key = '$access'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_secret_key = '$secret'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    local out
    out=$(q -d rp_s3 <<SQL
INSERT INTO storage.objects (bucket_id, name, owner) VALUES ('resumes', '$user/cv.pdf', '$user'), ('resumes', '$user/ghost.pdf', '$user');
SELECT resume_pipeline.process_pending();
SELECT 'cv=' || r.status || '|' || (r.parsed #>> '{basics,name}') || '|' || (f.size > 0)
  FROM resume_pipeline.resumes r JOIN resume_pipeline.files f ON f.id = r.file_id WHERE f.name LIKE '%/cv.pdf';
SELECT 'ghost=' || r.status || '|' || j.state || '|' || j.attempts || '|' || (r.error LIKE '%S3 has no such object%')
  FROM resume_pipeline.resumes r JOIN resume_pipeline.jobs j ON j.target_id = r.id WHERE r.object_name LIKE '%/ghost.pdf';
SQL
)
    t_expect "s3_storage: an object announced by storage.objects is read over S3 into a completed résumé (size from the bytes)" \
        "cv=completed|Ada Whitfield|true" "$(grep -o 'cv=.*' <<<"$out")"
    t_expect "s3_storage: a registered object S3 does not have fails at once, for good" "ghost=failed|failed|1|true" \
        "$(grep -o 'ghost=.*' <<<"$out")"

    # A wrong secret: a storage error (transient: retried, and the circuit counts it in the
    # workers), whose message names S3's answer and never the secret.
    local wrong="wrong-$secret"
    q -c "ALTER SYSTEM SET resume_pipeline.s3_secret_key = '$wrong'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    out=$(q -d rp_s3 -v ON_ERROR_STOP=0 2>&1 <<SQL
INSERT INTO storage.objects (bucket_id, name, owner) VALUES ('resumes', '$user/again.pdf', '$user');
SELECT resume_pipeline.process_pending();
SELECT 'wrong=' || j.state || '|' || (j.last_error LIKE '%SignatureDoesNotMatch%')
  FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id WHERE r.object_name LIKE '%/again.pdf';
SELECT j.last_error FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id WHERE r.object_name LIKE '%/again.pdf';
SQL
)
    if [ "$(grep -o 'wrong=.*' <<<"$out")" = "wrong=queued|true" ] && ! grep -qF "$secret" <<<"$out"; then
        t_pass "s3_storage: a wrong secret is a storage error (SignatureDoesNotMatch, retried), the secret in no message"
    else
        t_fail "s3_storage: a wrong secret is a storage error (SignatureDoesNotMatch, retried), the secret in no message" "$out"
    fi

    out=$(q -d rp_s3 -v ON_ERROR_STOP=0 2>&1 <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_s3_user') THEN CREATE ROLE rp_s3_user IN ROLE resume_pipeline_user; END IF;
END $$;
SET ROLE rp_s3_user;
SET resume_pipeline.s3_endpoint = 'http://attacker.example';
\echo set_endpoint=:SQLSTATE
SHOW resume_pipeline.s3_secret_key;
\echo show_secret=:SQLSTATE
SELECT 'settings=' || count(*) FROM pg_settings WHERE name IN ('resume_pipeline.s3_secret_key', 'resume_pipeline.s3_access_key');
RESET ROLE;
SQL
)
    t_expect "s3_storage: a user can neither set the S3 endpoint nor read its keys" "set_endpoint=55P02 show_secret=42501 settings=0" \
        "$(grep -oE '^(set_endpoint|show_secret)=[0-9A-Z]+|settings=[0-9]+' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    q -c "ALTER SYSTEM RESET resume_pipeline.storage_backend" -c "ALTER SYSTEM RESET resume_pipeline.s3_endpoint" \
      -c "ALTER SYSTEM RESET resume_pipeline.s3_access_key" -c "ALTER SYSTEM RESET resume_pipeline.s3_secret_key" \
      -c "SELECT pg_reload_conf()" >/dev/null
}
ss_run
ss_stop
unset -f ss_run
