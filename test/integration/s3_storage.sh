# storage_backend = 's3' against the S3 stand-in (@20minutes/s3rver, which checks SigV4
# signatures). Supabase's flow: an object announced by a storage.objects row is read over S3 and
# becomes a completed résumé; a registered object S3 does not have fails once and for good. The
# pipeline's own objects: upload() and ZIP entries are PUT to resume_pipeline.s3_bucket under
# <db oid>/objects/ (checked with the S3 API directly, test/s3/client.sh), read back, removed
# after a rollback (of a transaction or a savepoint) and after a replacement commits, swept when
# no row names them and never when one does; reads follow files.storage after the setting goes
# back to filesystem. A wrong secret is a storage error whose message, the server log and
# health() never hold the secret; users can neither change the S3 settings nor read its keys.
ss_dir=$(mktemp -d /tmp/rp-s3-storage.XXXXXX)
chmod 755 "$ss_dir"
ss_pid=
ss_stop() {
    if [ -n "$ss_pid" ]; then kill "$ss_pid" 2>/dev/null; wait "$ss_pid" 2>/dev/null; fi
    ss_pid=
    rm -rf "$ss_dir"
}
# Server log lines holding the secret, but for the postmaster's own "parameter … changed to"
# line on reload: PostgreSQL 15 logs every changed SIGHUP setting that way (README, Security).
ss_secret_logged() {
    grep -F "$1" "$RP_SERVER_LOG" | grep -v 'LOG:  parameter "resume_pipeline.s3_secret_key" changed to'
}

# The pipeline's own objects on S3 (upload(), ZIP entries), checked against the bucket itself
# with test/s3/client.sh. Needs the S3 settings of ss_run in effect.
ss_own_objects() {
    local port=$1 access=$2 secret=$3 user=$4 out oid id key s3c=test/s3/client.sh
    export S3_ENDPOINT="http://127.0.0.1:$port" S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret
    load_files rp_s3 samples build/samples/ada_whitfield.pdf build/samples/chen_wei.pdf build/fixtures/batch5.zip >/dev/null
    oid=$(q -d rp_s3 -c "SELECT oid FROM pg_database WHERE datname = current_database()")
    local ada chen
    ada=$(sha256sum build/samples/ada_whitfield.pdf | cut -d' ' -f1)
    chen=$(sha256sum build/samples/chen_wei.pdf | cut -d' ' -f1)
    # Where a files row's object is, in the shell.
    locate() {
        q -d rp_s3 -c "SELECT l.key FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l
                        WHERE f.name = '$user/$1'"
    }

    out=$(q -d rp_s3 <<SQL
SELECT resume_pipeline.upload('resumes', 'up.pdf', data, '{}', '$user') FROM samples WHERE name = 'ada_whitfield.pdf';
SELECT 'row=' || f.object_id || '|' || f.storage || '|' || l.backend || '|' || l.bucket || '|' || l.key
  FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l WHERE f.name = '$user/up.pdf';
SQL
)
    id=$(grep -o 'row=.*' <<<"$out" | cut -d'|' -f1 | sed 's/^row=//')
    key="$oid/objects/${id:0:2}/$id"
    t_expect "s3_storage: upload() stores with storage 's3'; _storage_locate names s3_bucket and <db oid>/objects/<2 hex>/<object id>" \
        "row=$id|s3|s3|resume-pipeline|$key" "$(grep -o 'row=.*' <<<"$out")"
    t_expect "s3_storage: the uploaded object is in the bucket, byte for byte (read with the S3 API directly)" \
        "$ada" "$("$s3c" get resume-pipeline "$key" | sha256sum | cut -d' ' -f1)"
    out=$(q -d rp_s3 <<SQL
SELECT 'get=' || encode(sha256(resume_pipeline.storage_get('resumes', '$user/up.pdf')), 'hex')
    || '|' || encode(sha256(resume_pipeline.storage_get('resumes', '$user/cv.pdf')), 'hex');
SELECT resume_pipeline.process_pending();
SELECT 'parsed=' || r.status || '|' || (r.parsed #>> '{basics,name}')
  FROM resume_pipeline.resumes r JOIN resume_pipeline.files f ON f.id = r.file_id WHERE f.name = '$user/up.pdf';
SQL
)
    t_expect "s3_storage: storage_get reads the pipeline's own object and a storage.objects one from S3" \
        "get=$ada|$ada" "$(grep -o 'get=.*' <<<"$out")"
    t_expect "s3_storage: an upload stored on S3 goes through the pipeline to a completed résumé" \
        "parsed=completed|Ada Whitfield" "$(grep -o 'parsed=.*' <<<"$out")"

    # A rolled-back upload, and one rolled back to a savepoint: PUT during the call, DELETEd
    # after the rollback; what the transaction kept stays.
    out=$(q -d rp_s3 <<SQL
BEGIN;
SELECT resume_pipeline.upload('resumes', 'rolled.pdf', data, '{}', '$user') FROM samples WHERE name = 'chen_wei.pdf';
SELECT l.key AS rolled FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l WHERE f.name = '$user/rolled.pdf' \gset
\setenv RP_KEY :rolled
\! echo "during=\$($s3c status resume-pipeline "\$RP_KEY")"
ROLLBACK;
\echo rolled=:rolled
BEGIN;
SELECT resume_pipeline.upload('resumes', 'kept.pdf', data, '{}', '$user') FROM samples WHERE name = 'chen_wei.pdf';
SAVEPOINT s;
SELECT resume_pipeline.upload('resumes', 'sp.pdf', data, '{}', '$user') FROM samples WHERE name = 'chen_wei.pdf';
SELECT l.key AS sp FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l WHERE f.name = '$user/sp.pdf' \gset
ROLLBACK TO SAVEPOINT s;
COMMIT;
\echo sp=:sp
SQL
)
    local rolled sp kept
    rolled=$(sed -n 's/^rolled=//p' <<<"$out")
    sp=$(sed -n 's/^sp=//p' <<<"$out")
    kept=$(locate kept.pdf)
    t_expect "s3_storage: upload() PUTs during the call; a rolled-back transaction leaves no object" \
        "during=200 after=404" "$(grep -o 'during=[0-9]*' <<<"$out") after=$("$s3c" status resume-pipeline "$rolled")"
    t_expect "s3_storage: a savepoint rolled back leaves no object; what the transaction committed stays" \
        "sp=404 kept=200" "sp=$("$s3c" status resume-pipeline "$sp") kept=$("$s3c" status resume-pipeline "$kept")"

    # A new version replaces the object: in a bucket keeping one version, the old one is
    # deleted once the upload commits; a deleted row's object goes too.
    local old new
    old=$(locate up.pdf)
    q -d rp_s3 -c "UPDATE resume_pipeline.bucket_rules SET keep_versions = 1 WHERE bucket = 'resumes'" >/dev/null
    q -d rp_s3 -c "SELECT resume_pipeline.upload('resumes', 'up.pdf', data, '{}', '$user') FROM samples WHERE name = 'chen_wei.pdf'" >/dev/null
    new=$(locate up.pdf)
    q -d rp_s3 -c "DELETE FROM resume_pipeline.files WHERE name = '$user/kept.pdf'" >/dev/null
    t_expect "s3_storage: a replaced version is deleted after commit, the new one read back; a deleted row's object is deleted" \
        "old=404 new=200 get=$chen deleted=404" \
        "old=$("$s3c" status resume-pipeline "$old") new=$("$s3c" status resume-pipeline "$new") get=$(q -d rp_s3 -c "SELECT encode(sha256(resume_pipeline.storage_get('resumes', '$user/up.pdf')), 'hex')") deleted=$("$s3c" status resume-pipeline "$kept")"

    # A ZIP of PDFs: each entry its own object with x-amz-meta-zip_id, each a résumé with zip_id.
    out=$(q -d rp_s3 <<SQL
SELECT resume_pipeline.upload('resumes', 'batch5.zip', data, '{}', '$user') FROM samples WHERE name = 'batch5.zip';
SELECT resume_pipeline.process_pending();
SELECT resume_pipeline.process_pending();
SELECT 'zip=' || count(*) || '|' || count(*) FILTER (WHERE r.status = 'completed') || '|' || count(*) FILTER (WHERE f.storage = 's3')
  FROM resume_pipeline.resumes r JOIN resume_pipeline.files f ON f.id = r.file_id
  JOIN resume_pipeline.files z ON z.id = r.zip_id WHERE z.name = '$user/batch5.zip';
SELECT 'entry=' || z.id || '|' || l.key FROM resume_pipeline.files f JOIN resume_pipeline.files z ON z.id = (f.metadata ->> 'zip_id')::uuid,
       resume_pipeline._storage_locate(f.object_id) l
 WHERE z.name = '$user/batch5.zip' ORDER BY f.name LIMIT 1;
SQL
)
    t_expect "s3_storage: a ZIP of five PDFs on S3 becomes five completed résumés with zip_id, each entry stored on S3" \
        "zip=5|5|5" "$(grep -o 'zip=.*' <<<"$out")"
    local entry zip_id
    entry=$(grep -o 'entry=.*' <<<"$out" | cut -d'|' -f2)
    zip_id=$(grep -o 'entry=.*' <<<"$out" | cut -d'|' -f1 | sed 's/^entry=//')
    t_expect "s3_storage: a ZIP entry's object carries x-amz-meta-zip_id (HEAD)" \
        "x-amz-meta-zip_id: $zip_id" "$("$s3c" head resume-pipeline "$entry" | grep -i '^x-amz-meta-zip_id:')"
    local listed named
    listed=$("$s3c" list resume-pipeline "$oid/objects/" | sort)
    named=$(q -d rp_s3 -c "SELECT l.key FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l
                            WHERE f.object_id IS NOT NULL ORDER BY 1" | sort)
    if [ -n "$listed" ] && [ "$listed" = "$named" ] && [ "$(wc -l <<<"$listed")" = 7 ]; then
        t_pass "s3_storage: under <db oid>/objects/ exactly the objects files rows name, each once (an upload, an archive, its 5 entries)"
    else
        t_fail "s3_storage: under <db oid>/objects/ exactly the objects files rows name, each once" \
            "listed:"$'\n'"$listed"$'\n'"named:"$'\n'"$named"
    fi

    # The sweep: an orphan PUT straight into the prefix goes once it is old enough; a key of
    # another shape and every committed object stay.
    local orphan_id orphan swept=0
    orphan_id=$(cat /proc/sys/kernel/random/uuid)
    orphan="$oid/objects/${orphan_id:0:2}/$orphan_id"
    "$s3c" put resume-pipeline "$orphan" build/samples/chen_wei.pdf >/dev/null
    "$s3c" put resume-pipeline "$oid/objects/zz/not-ours" build/samples/chen_wei.pdf >/dev/null
    t_expect "s3_storage: sweep_storage() leaves an orphan younger than a minute" \
        "swept=0 orphan=200" "swept=$(q -d rp_s3 -c "SELECT resume_pipeline.sweep_storage()") orphan=$("$s3c" status resume-pipeline "$orphan")"
    for _ in 1 2 3 4 5; do
        sleep 1.1
        swept=$(q -d rp_s3 -c "SELECT resume_pipeline.sweep_storage('0')")
        [ "$swept" = 0 ] || break  # a transaction older than the orphan (autovacuum) holds the horizon back
    done
    local committed=0
    while read -r k; do
        [ "$("$s3c" status resume-pipeline "$k")" = 200 ] && committed=$((committed + 1))
    done <<<"$named"
    t_expect "s3_storage: the sweep removes an old orphan under the prefix, never a committed object or a key of another shape" \
        "swept=1 orphan=404 committed=7 other=200" \
        "swept=$swept orphan=$("$s3c" status resume-pipeline "$orphan") committed=$committed other=$("$s3c" status resume-pipeline "$oid/objects/zz/not-ours")"
    out=$(q -d rp_s3 -v ON_ERROR_STOP=0 2>&1 <<SQL
CREATE ROLE rp_s3_sweeper IN ROLE pg_read_all_stats;
GRANT USAGE ON SCHEMA resume_pipeline TO rp_s3_sweeper;
GRANT EXECUTE ON FUNCTION resume_pipeline.sweep_storage(interval) TO rp_s3_sweeper;
SET ROLE rp_s3_sweeper;
SELECT resume_pipeline.sweep_storage('0');
\echo young=:SQLSTATE
RESET ROLE;
DROP OWNED BY rp_s3_sweeper;
DROP ROLE rp_s3_sweeper;
SQL
)
    t_expect "s3_storage: only a superuser may sweep objects younger than a minute" "young=42501" "$(grep -o 'young=.*' <<<"$out")"
    unset -f locate
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
        node --openssl-legacy-provider test/s3/start.mjs --directory "$ss_dir/data" --bucket resumes \
        --bucket resume-pipeline >"$ss_dir/out" 2>"$ss_dir/err" &
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

    ss_own_objects "$port" "$access" "$secret" "$user"

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

    # The same wrong secret for the pipeline's own objects: upload() and storage_get fail with
    # S3's answer and a hint, and neither they, the server log nor health() hold the secret.
    out=$(q -d rp_s3 -v ON_ERROR_STOP=0 2>&1 <<SQL
\set VERBOSITY verbose
SELECT resume_pipeline.upload('resumes', 'wrong.pdf', data, '{}', '$user') FROM samples WHERE name = 'chen_wei.pdf';
\echo upload=:SQLSTATE
SELECT resume_pipeline.storage_get('resumes', '$user/up.pdf');
\echo get=:SQLSTATE
SELECT 'health=' || resume_pipeline.health()::text;
SQL
)
    if [ "$(grep -oE '^(upload|get)=[0-9A-Z]+' <<<"$out" | tr '\n' ' ')" = "upload=58030 get=58030 " ] &&
        grep -q 'could not write storage object to S3 bucket "resume-pipeline": S3 HTTP 403 SignatureDoesNotMatch' <<<"$out" &&
        grep -q 'HINT:  Check resume_pipeline.s3_access_key and resume_pipeline.s3_secret_key' <<<"$out" &&
        grep -q '^health=' <<<"$out" && ! grep -qF "$secret" <<<"$out" && ! ss_secret_logged "$secret"; then
        t_pass "s3_storage: a wrong secret fails upload() and storage_get with a clear 58030, the secret in no message, log or health()"
    else
        t_fail "s3_storage: a wrong secret fails upload() and storage_get with a clear 58030, the secret in no message, log or health()" \
            "$out"$'\n'"server log lines with the secret: $(ss_secret_logged "$secret" | sed "s/$secret/<secret>/g" | head -5)"
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
    # Back to the filesystem: rows whose bytes are on S3 are still read there; new ones are not.
    q -c "ALTER SYSTEM SET resume_pipeline.s3_secret_key = '$secret'" \
      -c "ALTER SYSTEM SET resume_pipeline.storage_backend = 'filesystem'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    out=$(q -d rp_s3 <<SQL
SELECT 'fs_get=' || encode(sha256(resume_pipeline.storage_get('resumes', '$user/up.pdf')), 'hex');
SELECT 'fs_read=' || encode(sha256(resume_pipeline._read_object(f)), 'hex') FROM resume_pipeline.files f WHERE f.name = '$user/up.pdf';
SELECT resume_pipeline.upload('resumes', 'local.pdf', data, '{}', '$user') FROM samples WHERE name = 'ada_whitfield.pdf';
SELECT 'local=' || f.storage || '|' || l.backend FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l
 WHERE f.name = '$user/local.pdf';
SQL
)
    local chen
    chen=$(sha256sum build/samples/chen_wei.pdf | cut -d' ' -f1)
    t_expect "s3_storage: with storage_backend back to filesystem, S3-written rows are still read from S3; new uploads go to the filesystem" \
        "fs_get=$chen fs_read=$chen local=filesystem|filesystem" \
        "$(grep -oE '^(fs_get|fs_read|local)=.*' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    # An S3 endpoint that accepts connections and never answers: statement_timeout and a query
    # cancel stop storage_get at once (the transfer waits in the event loop), not after
    # request_timeout_ms; the session goes on.
    node -e 'const s = require("net").createServer(() => {}).listen(0, "127.0.0.1", () =>
                 console.log("port=" + s.address().port))' >"$ss_dir/hang.out" 2>&1 &
    local hang_pid=$! hang_port=
    for _ in $(seq 1 100); do
        hang_port=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$ss_dir/hang.out")
        [ -n "$hang_port" ] && break
        sleep 0.05
    done
    q -c "ALTER SYSTEM SET resume_pipeline.s3_endpoint = 'http://127.0.0.1:$hang_port'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 30000" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    local started=$SECONDS
    out=$(q -d rp_s3 -v ON_ERROR_STOP=0 2>&1 <<SQL
SET statement_timeout = '300ms';
SELECT length(resume_pipeline.storage_get('resumes', '$user/up.pdf'));
\echo state=:SQLSTATE
RESET statement_timeout;
SELECT 'after=' || 1;
SQL
)
    if grep -q "state=57014" <<<"$out" && grep -q "after=1" <<<"$out" && [ $((SECONDS - started)) -lt 10 ]; then
        t_pass "s3_storage: statement_timeout stops storage_get on a silent S3 at once; the session goes on"
    else
        t_fail "s3_storage: statement_timeout stops storage_get on a silent S3 at once; the session goes on" "$out"
    fi
    q -d rp_s3 -v ON_ERROR_STOP=0 >"$ss_dir/cancel" 2>&1 <<SQL &
SET application_name = 'rp_s3_cancel';
SELECT length(resume_pipeline.storage_get('resumes', '$user/up.pdf'));
\echo state=:SQLSTATE
SQL
    local client=$!
    sleep 0.5
    started=$SECONDS
    q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'rp_s3_cancel'" >/dev/null
    wait "$client"
    if grep -q "state=57014" "$ss_dir/cancel" && [ $((SECONDS - started)) -lt 5 ]; then
        t_pass "s3_storage: a query cancel stops storage_get on a silent S3 at once"
    else
        t_fail "s3_storage: a query cancel stops storage_get on a silent S3 at once" "$(cat "$ss_dir/cancel")"
    fi
    kill "$hang_pid" 2>/dev/null
    wait "$hang_pid" 2>/dev/null
    q -c "ALTER SYSTEM RESET resume_pipeline.storage_backend" -c "ALTER SYSTEM RESET resume_pipeline.s3_endpoint" \
      -c "ALTER SYSTEM RESET resume_pipeline.s3_access_key" -c "ALTER SYSTEM RESET resume_pipeline.s3_secret_key" \
      -c "ALTER SYSTEM RESET resume_pipeline.request_timeout_ms" -c "SELECT pg_reload_conf()" >/dev/null
}
ss_run
ss_stop
unset -f ss_run ss_own_objects ss_secret_logged
