# The security suite (issue 8): every attack runs as a signed-in user of the role the README
# names (resume_pipeline_user, with PostgREST's claim) or as a role with no grant at all, while
# another user's uploads are processed by the workers. No attack may gain a privilege, read or
# change another user's data, or delay the other user's work beyond the bound each test states.
ALICE=aaaaaaaa-0000-4000-8000-00000000000a   # the victim
BOB=bbbbbbbb-0000-4000-8000-00000000000b     # another tenant, whose work must go on
MALLORY=cccccccc-0000-4000-8000-00000000000c # the attacker

fresh_db rp_security
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_security'" \
  -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" -c "SELECT pg_reload_conf()" >/dev/null
load_files rp_security samples build/samples/ada_whitfield.pdf build/samples/jonas_becker.pdf \
    build/samples/priya_raghunathan.docx build/fixtures/collision.zip build/fixtures/truncated.pdf
q -d rp_security >/dev/null <<'SQL'
GRANT SELECT ON samples TO PUBLIC;
-- A function nobody but its owner may run: _identity must not become a way around that.
CREATE FUNCTION public.rp_private_uid() RETURNS uuid LANGUAGE sql RETURN gen_random_uuid();
REVOKE EXECUTE ON FUNCTION public.rp_private_uid() FROM PUBLIC;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_mallory') THEN
        CREATE ROLE rp_mallory LOGIN IN ROLE resume_pipeline_user;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_outsider') THEN
        CREATE ROLE rp_outsider LOGIN;
    END IF;
END $$;
SQL

# sec_wait SQL [seconds] — until the query (in rp_security) returns t.
sec_wait() {
    local deadline=$((SECONDS + ${2:-60}))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(q -d rp_security -c "$1" 2>/dev/null)" = t ] && return 0
        sleep 0.1
    done
    return 1
}
# as_user UUID ROLE — psql in rp_security acting as ROLE with PostgREST's claim for UUID; the
# script comes on standard input, errors do not stop it.
as_user() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_security -U "$2" -v ON_ERROR_STOP=0 2>&1
}
workers_pause() {
    q -c "ALTER SYSTEM SET resume_pipeline.workers = 0" -c "SELECT pg_reload_conf()" >/dev/null
    sec_wait "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
}
workers_resume() {
    q -c "ALTER SYSTEM RESET resume_pipeline.workers" -c "SELECT pg_reload_conf()" >/dev/null
    sec_wait "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_security'" 30
}
is_superuser() { q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'rp_mallory'"; }

sec_wait "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_security'" 30
# Alice's résumé, processed by the workers: the victim's data every attack aims at.
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'ada.pdf', data, '{}', '$ALICE') FROM samples WHERE name = 'ada_whitfield.pdf'" >/dev/null
sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE user_id = '$ALICE'" 30
alice_key="$ALICE/ada.pdf"

# 1. pg_temp: temporary tables named like the extension's, with triggers that would make the
#    attacker superuser if privileged code ever resolved them.
out=$(as_user "$MALLORY" rp_mallory <<SQL
CREATE TEMP TABLE fired (what text);
CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    INSERT INTO pg_temp.fired VALUES (TG_TABLE_NAME);
    ALTER ROLE rp_mallory SUPERUSER;
    RETURN NULL;
END \$\$;
CREATE TEMP TABLE jobs (LIKE resume_pipeline.jobs);
CREATE TEMP TABLE files (LIKE resume_pipeline.files);
CREATE TEMP TABLE resumes (LIKE resume_pipeline.resumes);
CREATE TEMP TABLE applicants (LIKE resume_pipeline.applicants);
CREATE TEMP TABLE users (id uuid, email text, ashby_api_key text);
CREATE TEMP TABLE resume_versions (LIKE resume_pipeline.resume_versions);
CREATE TRIGGER t1 AFTER INSERT OR UPDATE OR DELETE ON pg_temp.jobs FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil();
CREATE TRIGGER t2 AFTER INSERT OR UPDATE OR DELETE ON pg_temp.files FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil();
CREATE TRIGGER t3 AFTER INSERT OR UPDATE OR DELETE ON pg_temp.resumes FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil();
CREATE TRIGGER t4 AFTER INSERT OR UPDATE OR DELETE ON pg_temp.applicants FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil();
CREATE TRIGGER t5 AFTER INSERT OR UPDATE OR DELETE ON pg_temp.resume_versions FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil();
SELECT resume_pipeline.upload('resumes', 'mine.pdf', data) IS NOT NULL AS uploaded FROM public.samples WHERE name = 'jonas_becker.pdf';
SELECT resume_pipeline.upload('resumes', 'mine.pdf', data) IS NOT NULL AS uploaded_again FROM public.samples WHERE name = 'priya_raghunathan.docx';
SELECT resume_pipeline.process_pending() >= 0 AS processed;
SELECT 'fired=' || count(*) FROM pg_temp.fired;
SQL
)
t_expect "pg_temp: privileged code never resolves the caller's temporary tables (upload, re-upload, process_pending)" \
    "fired=0" "$(grep -o 'fired=[0-9]*' <<<"$out")"
t_expect "pg_temp: the attacker is not superuser afterwards" "f" "$(is_superuser)"
if grep -q '^t$' <<<"$out" && ! grep -q ERROR <<<"$out"; then
    t_pass "pg_temp: the attacker's own uploads still work"
else
    t_fail "pg_temp: the attacker's own uploads still work" "$out"
fi

# Internal functions, tables written by the pipeline, and the storage: none is the user's to call
# or write, whatever they know of Alice's ids.
alice_file=$(q -d rp_security -c "SELECT id FROM resume_pipeline.files WHERE user_id = '$ALICE'")
alice_resume=$(q -d rp_security -c "SELECT id FROM resume_pipeline.resumes WHERE user_id = '$ALICE'")
out=$(as_user "$MALLORY" rp_mallory <<SQL
SELECT resume_pipeline._register_document('$alice_file', NULL);
SELECT resume_pipeline._storage_write((SELECT object_id FROM resume_pipeline.files LIMIT 1), '\x00');
SELECT resume_pipeline._enqueue('resume', '$alice_resume', '$MALLORY');
SELECT resume_pipeline._claim_job(NULL);
SELECT resume_pipeline._execute_job(gen_random_uuid());
SELECT resume_pipeline._job_failed(NULL::resume_pipeline.jobs, 'x');
SELECT resume_pipeline._process_zip('$alice_file');
SELECT resume_pipeline._read_object(NULL::resume_pipeline.files);
SELECT resume_pipeline._circuit_record('storage', false);
SELECT resume_pipeline._identity('public.rp_private_uid()'::regprocedure);
SELECT resume_pipeline._identity('pg_catalog.pg_reload_conf()'::regprocedure);
SELECT resume_pipeline.debug_parser_crash('segv');
INSERT INTO resume_pipeline.files (user_id, bucket, name, size) VALUES ('$MALLORY', 'resumes', '$MALLORY/x.pdf', 1);
INSERT INTO resume_pipeline.resumes (user_id, file_id, bucket, object_name, original_filename)
    SELECT '$MALLORY', id, 'resumes', '$alice_key', 'stolen.pdf' FROM resume_pipeline.files WHERE user_id = '$MALLORY' LIMIT 1;
UPDATE resume_pipeline.resumes SET object_name = '$alice_key', bucket = 'resumes';
UPDATE resume_pipeline.resumes SET file_id = '$alice_file';
UPDATE resume_pipeline.files SET name = '$alice_key';
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id) VALUES ('$MALLORY', 'resume', '$alice_resume');
SELECT resume_pipeline.upload('resumes', 'x.pdf', data, '{}', '$ALICE') FROM public.samples WHERE name = 'jonas_becker.pdf';
SELECT length(resume_pipeline.storage_get('resumes', '$alice_key'));
SELECT resume_pipeline.upload('resumes', E'cv\u202Efdp.exe', data) FROM public.samples WHERE name = 'jonas_becker.pdf';
SELECT 'alice_visible=' || count(*) FROM resume_pipeline.resumes WHERE user_id = '$ALICE';
SQL
)
denied=$(grep -c 'permission denied' <<<"$out")
[ "$denied" = 17 ] || echo "$out" | sed 's/^/#   /'
t_expect "internal functions, pipeline-written tables and Alice's ids are refused (17 attempts, 17 denials)" "17" "$denied"
t_expect "_identity() calls only uuid functions of no arguments" "1" "$(grep -c 'must take no arguments and return uuid' <<<"$out")"
t_expect "a user cannot upload as another user" "1" "$(grep -c 'may store objects only as themselves' <<<"$out")"
t_expect "a user cannot read another user's object by its key" "1" "$(grep -c "does not exist" <<<"$out")"
t_expect "object keys with a right-to-left override are refused" "1" "$(grep -c 'bidirectional formatting character' <<<"$out")"
t_expect "row-level security hides Alice's résumé" "alice_visible=0" "$(grep -o 'alice_visible=[0-9]*' <<<"$out")"
t_expect "Alice's résumé is untouched (one version, completed, her own text)" "1|completed|true" \
    "$(q -d rp_security -c "SELECT version || '|' || status || '|' || (raw_text ILIKE '%Whitfield%') FROM resume_pipeline.resumes WHERE user_id = '$ALICE'")"
t_expect "no row of the attacker holds Alice's text" "0" \
    "$(q -d rp_security -c "SELECT count(*) FROM resume_pipeline.resumes WHERE user_id <> '$ALICE' AND raw_text ILIKE '%Whitfield%'")"

# 7. auth.uid() of anyone's making. A role with CREATE on the database defines one before the
#    extension is created: it is ignored, with a warning, and never runs.
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_security_auth" -c "CREATE DATABASE rp_security_auth" \
  -c "GRANT CREATE ON DATABASE rp_security_auth TO rp_mallory" >/dev/null
PGOPTIONS= psql -X -q -A -t -d rp_security_auth -U rp_mallory -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE SCHEMA auth;
CREATE TABLE auth.calls (by_role text);
GRANT ALL ON auth.calls TO PUBLIC;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    INSERT INTO auth.calls VALUES (current_user);
    BEGIN
        ALTER ROLE rp_mallory SUPERUSER;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN '$ALICE'::uuid;
END \$\$;
SQL
warning=$(q -d rp_security_auth -c "CREATE EXTENSION resume_pipeline" 2>&1)
out=$(PGOPTIONS="-c request.jwt.claims={\"sub\":\"$MALLORY\"}" psql -X -q -A -t -d rp_security_auth -U rp_mallory 2>&1 <<'SQL'
SELECT 'uid=' || resume_pipeline.current_user_id();
SELECT resume_pipeline.process_pending();
SELECT 'calls=' || count(*) FROM auth.calls;
SQL
)
if grep -q 'auth.uid() is not owned by a trusted role' <<<"$warning"; then
    t_pass "an auth.uid() made by an untrusted role is refused with a warning at CREATE EXTENSION"
else
    t_fail "an auth.uid() made by an untrusted role is refused with a warning at CREATE EXTENSION" "$warning"
fi
t_expect "the identity is then the verified claim, not what the untrusted auth.uid() says" "uid=$MALLORY" "$(grep -o 'uid=.*' <<<"$out")"
t_expect "the untrusted auth.uid() never runs (process_pending included), and no role became superuser" "calls=0 f" \
    "$(grep -o 'calls=[0-9]*' <<<"$out") $(is_superuser)"

# A trusted auth.uid() (the superuser's) runs with the session role's rights, never the owner's,
# even inside upload(), which is SECURITY DEFINER.
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_security_trusted" -c "CREATE DATABASE rp_security_trusted" >/dev/null
q -d rp_security_trusted >/dev/null <<'SQL'
CREATE SCHEMA auth;
GRANT USAGE ON SCHEMA auth TO PUBLIC;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE RETURN md5(current_user)::uuid;
CREATE EXTENSION resume_pipeline;
CREATE TABLE public.doc AS SELECT convert_to('plain text résumé', 'UTF8') AS data;
GRANT SELECT ON public.doc TO PUBLIC;
SQL
out=$(PGOPTIONS= psql -X -q -A -t -d rp_security_trusted -U rp_mallory 2>&1 <<'SQL'
SELECT resume_pipeline.current_user_id() = md5('rp_mallory')::uuid AS as_session_role;
SELECT resume_pipeline.upload('resumes', 'cv.txt', data) IS NOT NULL FROM public.doc;
SELECT user_id = md5('rp_mallory')::uuid AS owner_is_session_role FROM resume_pipeline.files;
SQL
)
t_expect "a trusted auth.uid() runs as the session's role, also inside SECURITY DEFINER functions" "t t t" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
q -c "DROP DATABASE rp_security_auth" -c "DROP DATABASE rp_security_trusted" >/dev/null

# 10, 15. A role with no grant reaches nothing; a member without a user runs nothing.
out=$(PGOPTIONS="-c request.jwt.claims={\"sub\":\"$ALICE\"}" psql -X -q -A -t -d rp_security -U rp_outsider -v ON_ERROR_STOP=0 2>&1 <<'SQL'
SELECT count(*) FROM resume_pipeline.resumes;
SELECT resume_pipeline.process_pending();
SELECT count(*) FROM resume_pipeline.users;
SELECT resume_pipeline.pdf_text('\x00');
SQL
)
t_expect "a role without resume_pipeline_user reaches no table or function, even with Alice's claim" "4" "$(grep -c 'permission denied for schema' <<<"$out")"
out=$(PGOPTIONS= psql -X -q -A -t -d rp_security -U rp_mallory -v ON_ERROR_STOP=0 -c "SELECT resume_pipeline.process_pending()" 2>&1)
t_expect "process_pending() without a user runs nothing unless the caller is the pipeline's owner" "1" \
    "$(grep -c "needs a signed-in user, or the pipeline's owner" <<<"$out")"
q -d rp_security -c "INSERT INTO resume_pipeline.users (id, email, ashby_api_key) VALUES ('$ALICE', 'alice@example.com', 'alice-ashby-secret')" >/dev/null
dump=$(PGOPTIONS="-c request.jwt.claims={\"sub\":\"$ALICE\"}" pg_dump -d rp_security -U rp_mallory -t resume_pipeline.users 2>&1)
if ! grep -q 'alice-ashby-secret' <<<"$dump"; then
    t_pass "pg_dump with Alice's claim does not reveal her ashby_api_key"
else
    t_fail "pg_dump with Alice's claim does not reveal her ashby_api_key" "$dump"
fi
out=$(as_user "$ALICE" rp_mallory <<'SQL'
SELECT ashby_api_key FROM resume_pipeline.users;
SELECT 'key_set=' || ashby_api_key_set FROM resume_pipeline.users;
SELECT 'overview=' || count(*) FROM resume_pipeline.job_overview;
SQL
)
t_expect "ashby_api_key is write-only even for its owner; ashby_api_key_set says it is there" "1 key_set=true" \
    "$(grep -c 'permission denied' <<<"$out") $(grep -o 'key_set=.*' <<<"$out")"
t_expect "job_overview is readable by users (their own jobs)" "1" "$(grep -c 'overview=[1-9]' <<<"$out")"

# 16. A user setting application_name = 'pg_restore' does not switch the queue off.
out=$(as_user "$ALICE" rp_mallory <<SQL
SET application_name = 'pg_restore';
INSERT INTO resume_pipeline.applicants (cv_file_id) VALUES ('$alice_file') RETURNING 'queued=' || cv_status;
SQL
)
t_expect "application_name = 'pg_restore' does not stop the applicants trigger queueing" "queued=pending" "$(grep -o 'queued=.*' <<<"$out")"
t_expect "parse_resume_builtin is not IMMUTABLE (a new release may parse differently)" "s" \
    "$(q -d rp_security -c "SELECT provolatile FROM pg_proc WHERE proname = 'parse_resume_builtin'")"

# 14. Notifications go to each user's own channel, whose name nobody else can work out: the
#     attacker hears nothing of Alice's changes on the old shared channel or on her own, cannot
#     ask for Alice's, and Alice's payloads carry no user id.
alice_channel=$(as_user "$ALICE" rp_mallory <<<"SELECT resume_pipeline.notification_channel();")
mallory_channel=$(as_user "$MALLORY" rp_mallory <<<"SELECT resume_pipeline.notification_channel();")
asked=$(as_user "$MALLORY" rp_mallory <<<"SELECT resume_pipeline.notification_channel('$ALICE');")
listen_file_m=$(mktemp); listen_file_a=$(mktemp)
{ echo "LISTEN resume_pipeline; LISTEN \"$mallory_channel\";"; sleep 3; echo "SELECT 'end';"; } | as_user "$MALLORY" rp_mallory >"$listen_file_m" &
listener_m=$!
{ echo "LISTEN \"$alice_channel\";"; sleep 3; echo "SELECT 'end';"; } | as_user "$ALICE" rp_mallory >"$listen_file_a" &
listener_a=$!
sleep 1
q -d rp_security -c "UPDATE resume_pipeline.applicants SET li_status = 'ready' WHERE user_id = '$ALICE'" >/dev/null
wait "$listener_m" "$listener_a"
heard_a=$(grep -c "^Asynchronous notification \"$alice_channel\"" "$listen_file_a")
if [ "$alice_channel" != "$mallory_channel" ] && [ "${#alice_channel}" = 48 ] && [ "$heard_a" -ge 1 ] &&
   ! grep -q 'user_id' "$listen_file_a" && ! grep -q 'Asynchronous notification' "$listen_file_m" &&
   grep -q 'only for their own notification channel' <<<"$asked"; then
    t_pass "Alice hears her own changes ($heard_a) on her channel, without user ids; the attacker hears none and cannot ask for her channel"
else
    t_fail "Alice hears her own changes on her channel; the attacker hears none" \
        "alice=$alice_channel mallory=$mallory_channel asked=$asked"$'\n'"$(cat "$listen_file_a")"$'\n'"--"$'\n'"$(cat "$listen_file_m")"
fi
rm -f "$listen_file_m" "$listen_file_a"

# 11. Quotas: objects, bytes and queued jobs per user, refused with 54000 and nothing changed.
out=$(q -d rp_security -v ON_ERROR_STOP=0 2>&1 <<SQL
SET resume_pipeline.max_user_objects = 3;
SET ROLE rp_mallory;
SET request.jwt.claims = '{"sub": "$MALLORY"}';
SELECT count(resume_pipeline.upload('resumes', 'q' || i || '.txt', convert_to('text ' || i, 'UTF8'))) FROM generate_series(1, 5) i;
\echo :LAST_ERROR_SQLSTATE
SELECT 'objects=' || count(*) FROM resume_pipeline.files;
RESET resume_pipeline.max_user_objects;
RESET ROLE;
SET resume_pipeline.max_user_storage = '100kB';
SET ROLE rp_mallory;
SELECT resume_pipeline.upload('resumes', 'big.bin', convert_to(repeat('x', 200000), 'UTF8'));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET resume_pipeline.max_user_storage;
SQL
)
# She had two objects (mine.pdf and its earlier version, kept); the statement stores one more,
# then the second is refused and all roll back.
t_expect "object quota: the upload past resume_pipeline.max_user_objects fails (54000) and rolls back whole" "54000 objects=2" \
    "$(sed -n 1p <<<"$(grep -E '^[0-9A-Z]{5}$' <<<"$out")") $(grep -o 'objects=[0-9]*' <<<"$out")"
t_expect "storage quota: an upload past resume_pipeline.max_user_storage fails (54000)" "1" "$(grep -c 'storage quota exceeded: .* bytes stored' <<<"$out")"
sec_wait "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 60
workers_pause
out=$(q -d rp_security -v ON_ERROR_STOP=0 2>&1 <<SQL
SET resume_pipeline.max_user_queued_jobs = 3;
SELECT count(resume_pipeline.upload('resumes', 'j' || i || '.pdf', s.data, '{}', '$MALLORY'))
  FROM generate_series(1, 4) i, samples s WHERE s.name = 'jonas_becker.pdf';
\echo :LAST_ERROR_SQLSTATE
SQL
)
t_expect "queue quota: a user's fourth queued job past max_user_queued_jobs = 3 is refused (54000)" "1 54000" \
    "$(grep -c 'queue quota exceeded' <<<"$out") $(grep -E '^[0-9A-Z]{5}$' <<<"$out")"
# The same bound holds for applicants' CV jobs, queued by the C trigger: 20 at once, limit 10.
out=$(q -d rp_security -v ON_ERROR_STOP=0 2>&1 <<SQL
SET resume_pipeline.max_user_queued_jobs = 10;
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
SELECT '$MALLORY', f.id FROM resume_pipeline.files f, generate_series(1, 20) WHERE f.name LIKE '%/mine.pdf';
\echo :LAST_ERROR_SQLSTATE
SELECT 'cv_jobs=' || count(*) FROM resume_pipeline.jobs WHERE user_id = '$MALLORY' AND kind = 'cv' AND state = 'queued';
SQL
)
t_expect "queue quota: 20 applicants' CV jobs at once past max_user_queued_jobs = 10 are refused (54000), none queued" "54000 cv_jobs=0" \
    "$(grep -E '^[0-9A-Z]{5}$' <<<"$out") $(grep -o 'cv_jobs=[0-9]*' <<<"$out")"

# 8. Missing objects are the document's permanent failure and never open the shared circuit.
q -d rp_security -c "SELECT count(resume_pipeline.upload('resumes', 'ghost' || i || '.pdf', data, '{}', '$MALLORY'))
    FROM samples, generate_series(1, 8) i WHERE name = 'jonas_becker.pdf'" >/dev/null
db_oid=$(q -c "SELECT oid FROM pg_database WHERE datname = 'rp_security'")
for object in $(q -d rp_security -c "SELECT object_id FROM resume_pipeline.files WHERE name LIKE '%/ghost%'"); do
    rm -f "$RP_CLUSTER_DIR/data/resume_pipeline_storage/$db_oid/objects/${object:0:2}/$object"
done
# A user's own session reading them, in a transaction rolled back again and again, does not
# count against the circuit either.
for _ in 1 2 3; do
    as_user "$MALLORY" rp_mallory >/dev/null <<'SQL'
BEGIN;
SELECT resume_pipeline.process_pending();
ROLLBACK;
SQL
done
t_expect "a user's sessions do not feed the shared storage circuit" "0" \
    "$(q -d rp_security -c "SELECT resume_pipeline.health() #>> '{storage,circuit,consecutive_failures}'")"

# 12 / 6. A ZIP whose entry names would collide as paths (x.pdf and x.pdf/y.pdf), 600 jobs
# abandoned by dead workers, and Bob's résumé, all at once: objects are stored by id, never by
# name, so the ZIP simply expands into its two résumés; the abandoned jobs are failed by a loop;
# Bob's résumé completes; no worker dies.
q -d rp_security >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'collide.zip', data, '{}', '$MALLORY') FROM samples WHERE name = 'collision.zip';
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, attempts, claimed_by, lease_expires_at, claimed_at_boot)
SELECT '$MALLORY', 'cv', gen_random_uuid(), 'running', 5, 999999, now() + interval '1 hour', pg_postmaster_start_time()
  FROM generate_series(1, 600);
SELECT resume_pipeline.upload('resumes', 'jonas.pdf', data, '{}', '$BOB') FROM samples WHERE name = 'jonas_becker.pdf';
SQL
workers_resume
pids_before=$(q -d rp_security -c "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'")
sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE user_id = '$BOB'" 60
sec_wait "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 60
t_expect "Bob's résumé completes while the attacks run" "completed" \
    "$(q -d rp_security -c "SELECT status FROM resume_pipeline.resumes WHERE user_id = '$BOB'")"
t_expect "600 abandoned jobs that used every attempt are failed by a loop, not recursion" "600" \
    "$(q -d rp_security -c "SELECT count(*) FROM resume_pipeline.jobs WHERE claimed_by = 999999 AND state = 'failed' AND last_error LIKE '%abandoned%'")"
t_expect "a ZIP holding x.pdf and x.pdf/y.pdf expands into both résumés (keys never collide on disk)" "done|x.pdf:completed,y.pdf:completed" \
    "$(q -d rp_security -c "SELECT j.state || '|' || (SELECT string_agg(r.original_filename || ':' || r.status, ',' ORDER BY r.original_filename)
        FROM resume_pipeline.resumes r WHERE r.zip_id = f.id) FROM resume_pipeline.jobs j JOIN resume_pipeline.files f ON f.id = j.target_id WHERE f.name LIKE '%collide.zip'")"
t_expect "missing objects fail at once (one attempt each), and the storage circuit stays closed" "8|1|closed" \
    "$(q -d rp_security -c "SELECT count(*) || '|' || max(j.attempts) || '|' || (resume_pipeline.health() #>> '{storage,circuit,state}')
        FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id
       WHERE r.object_name LIKE '%ghost%' AND j.state = 'failed' AND r.status = 'failed'")"
t_expect "no worker died or restarted during the attacks" "$pids_before" \
    "$(q -d rp_security -c "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'")"

# 9. A user holding a row lock on their own résumé stalls nobody: Bob's upload completes within
#    the bound while the lock is held, and the locked job finishes afterwards with no attempt
#    charged for the wait.
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'locked.pdf', data, '{}', '$MALLORY') FROM samples WHERE name = 'ada_whitfield.pdf'" >/dev/null
sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE object_name LIKE '%locked.pdf'" 30
workers_pause
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'locked.pdf', data, '{}', '$MALLORY') FROM samples WHERE name = 'jonas_becker.pdf'" >/dev/null
as_user "$MALLORY" rp_mallory >/dev/null <<'SQL' &
BEGIN;
SELECT id FROM resume_pipeline.resumes WHERE object_name LIKE '%locked.pdf' FOR UPDATE;
SELECT pg_sleep(6);
COMMIT;
SQL
locker=$!
sleep 0.5
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'jonas2.pdf', data, '{}', '$BOB') FROM samples WHERE name = 'jonas_becker.pdf'" >/dev/null
start=$SECONDS
workers_resume
if sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE object_name LIKE '%jonas2.pdf'" 4; then
    t_pass "a user's row lock does not stall another user's job (done in $((SECONDS - start)) s, bound 4 s, lock held 6 s)"
else
    t_fail "a user's row lock does not stall another user's job (bound 4 s)" \
        "$(q -d rp_security -c "SELECT status FROM resume_pipeline.resumes WHERE object_name LIKE '%jonas2.pdf'")"
fi
wait "$locker"
sec_wait "SELECT version = 2 AND status = 'completed' FROM resume_pipeline.resumes WHERE object_name LIKE '%locked.pdf'" 20
t_expect "the locked résumé completes after the lock is released, its waits charged no attempt" "completed|1" \
    "$(q -d rp_security -c "SELECT r.status || '|' || j.attempts FROM resume_pipeline.resumes r JOIN resume_pipeline.jobs j ON j.target_id = r.id
        WHERE r.object_name LIKE '%locked.pdf' ORDER BY j.created_at DESC LIMIT 1")"

# 11. Fair claims: Mallory queues 300 documents, then Bob one; with a single worker doing one job
#     at a time, Bob's is claimed after a handful of Mallory's, not after all of them.
q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 1" \
  -c "SELECT pg_reload_conf()" >/dev/null
sec_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
workers_pause
q -d rp_security >/dev/null <<SQL
SELECT count(resume_pipeline.upload('resumes', 'flood' || i || '.pdf', s.data, '{}', '$MALLORY'))
  FROM generate_series(1, 300) i, samples s WHERE s.name = 'jonas_becker.pdf';
SQL
sleep 1.2
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'fair.pdf', data, '{}', '$BOB') FROM samples WHERE name = 'jonas_becker.pdf'" >/dev/null
q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "SELECT pg_reload_conf()" >/dev/null
sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE object_name LIKE '%fair.pdf'" 60
ahead=$(q -d rp_security -c "SELECT count(*) FROM resume_pipeline.jobs j JOIN resume_pipeline.resumes r ON r.id = j.target_id
   WHERE r.object_name LIKE '%/flood%' AND j.started_at < (SELECT b.started_at FROM resume_pipeline.jobs b
         JOIN resume_pipeline.resumes f ON f.id = b.target_id WHERE f.object_name LIKE '%/fair.pdf')")
if [ -n "$ahead" ] && [ "$ahead" -le 10 ]; then
    t_pass "fair claims: Bob's one job ran after $ahead of Mallory's 300 queued before it (bound 10)"
else
    t_fail "fair claims: Bob's one job ran after at most 10 of Mallory's 300" "ahead: $ahead"
fi
q -c "ALTER SYSTEM RESET resume_pipeline.workers" -c "ALTER SYSTEM RESET resume_pipeline.max_concurrent_tasks" \
  -c "SELECT pg_reload_conf()" >/dev/null
sec_wait "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 120

# 11. Slow documents hold back no other user: six of Mallory's documents hang (a test hook) until
#     the wall-clock limit. With one worker of four parser slots, she gets at most three of
#     them (one is always kept for everyone else), and Bob's document, committed while hers
#     hang, is taken by the free slot at once and written as soon as it is parsed. Hers, which
#     only ran out of wall-clock time (as on a busy machine), are retried and complete rather
#     than failing for good.
q -c "ALTER SYSTEM SET resume_pipeline.parser_cpu_time_limit = '1s'" -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 4" \
  -c "SELECT pg_reload_conf()" >/dev/null
workers_pause
q -d rp_security >/dev/null <<SQL
BEGIN;
SELECT count(resume_pipeline.upload('resumes', 'slow' || i || '.pdf', data, '{}', '$MALLORY'))
  FROM samples, generate_series(1, 6) i WHERE name = 'ada_whitfield.pdf';
UPDATE resume_pipeline.jobs SET payload = '{"debug_parser_hang_times": 1}'
 WHERE target_id IN (SELECT id FROM resume_pipeline.resumes WHERE object_name LIKE '%/slow%');
COMMIT;
SQL
q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "SELECT pg_reload_conf()" >/dev/null
sec_wait "SELECT count(*) >= 3 FROM resume_pipeline.jobs WHERE user_id = '$MALLORY' AND state = 'running'" 20
mallory_running=$(q -d rp_security -c "SELECT count(*) FROM resume_pipeline.jobs WHERE user_id = '$MALLORY' AND state = 'running'")
q -d rp_security -c "SELECT resume_pipeline.upload('resumes', 'quick.pdf', data, '{}', '$BOB') FROM samples WHERE name = 'jonas_becker.pdf'" >/dev/null
start=$SECONDS
if sec_wait "SELECT status = 'completed' FROM resume_pipeline.resumes WHERE object_name LIKE '%/quick.pdf'" 2 &&
   [ "$(q -d rp_security -c "SELECT count(*) FROM resume_pipeline.resumes WHERE object_name LIKE '%/slow%' AND status = 'completed'")" = 0 ]; then
    t_pass "a user's hung documents hold $mallory_running of 4 slots; another user's is done within 2 s while they hang"
else
    t_fail "a user's hung documents hold at most 3 of 4 slots; another user's is done within 2 s while they hang" \
        "mallory running: $mallory_running"$'\n'"$(q -d rp_security -c "SELECT object_name, status FROM resume_pipeline.resumes WHERE object_name LIKE '%/slow%' OR object_name LIKE '%/quick.pdf'")"
fi
t_expect "one user never holds every parser slot (3 of 4)" "3" "$mallory_running"
sec_wait "SELECT count(*) = 6 FROM resume_pipeline.resumes WHERE object_name LIKE '%/slow%' AND status = 'completed'" 40
t_expect "documents that ran out of wall-clock time are retried, not failed: all 6 complete on attempt 2" "6|2" \
    "$(q -d rp_security -c "SELECT count(*) FILTER (WHERE r.status = 'completed') || '|' || max(j.attempts)
        FROM resume_pipeline.resumes r JOIN resume_pipeline.jobs j ON j.target_id = r.id WHERE r.object_name LIKE '%/slow%'")"
q -c "ALTER SYSTEM RESET resume_pipeline.parser_cpu_time_limit" -c "ALTER SYSTEM RESET resume_pipeline.workers" \
  -c "ALTER SYSTEM RESET resume_pipeline.max_concurrent_tasks" -c "SELECT pg_reload_conf()" >/dev/null
sec_wait "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_security'" 30

# The metadata a user attaches to an upload is bounded, so failure bookkeeping never meets a
# huge value.
out=$(as_user "$MALLORY" rp_mallory <<'SQL'
SELECT resume_pipeline.upload('resumes', 'meta.pdf', data, jsonb_build_object('x', repeat('m', 100000))) FROM public.samples WHERE name = 'jonas_becker.pdf';
SQL
)
t_expect "upload metadata over 8 kB is refused" "1" "$(grep -c 'metadata must be a JSON object of at most 8 kB' <<<"$out")"

# 12. The sweep: an object a crash left behind (no row names it) is removed once it is older than
#     every running transaction; a young one is left (its upload may still commit); every
#     object a committed row names survives.
orphan_old=$(q -c "SELECT gen_random_uuid()"); orphan_young=$(q -c "SELECT gen_random_uuid()")
objects_dir="$RP_CLUSTER_DIR/data/resume_pipeline_storage/$db_oid/objects"
for o in "$orphan_old" "$orphan_young"; do
    as_pg mkdir -p "$objects_dir/${o:0:2}"
    as_pg sh -c "printf 'left by a crash' > '$objects_dir/${o:0:2}/$o'"
done
as_pg touch -d '2 hours ago' "$objects_dir/${orphan_old:0:2}/$orphan_old"
swept=$(q -d rp_security -c "SELECT resume_pipeline.sweep_storage()")
t_expect "sweep_storage() removes an old orphan, keeps a young one and every committed object" "1 gone kept 0" \
    "$swept $([ -e "$objects_dir/${orphan_old:0:2}/$orphan_old" ] && echo kept || echo gone) $([ -e "$objects_dir/${orphan_young:0:2}/$orphan_young" ] && echo kept || echo gone) $(q -d rp_security -c "
        SELECT count(*) FROM resume_pipeline.files f WHERE f.object_id IS NOT NULL AND f.name NOT LIKE '%/ghost%'
           AND NOT EXISTS (SELECT 1 FROM resume_pipeline._storage_list() l WHERE l.object_id = f.object_id)")"
as_pg rm -f "$objects_dir/${orphan_young:0:2}/$orphan_young"
out=$(as_user "$MALLORY" rp_mallory <<<"SELECT resume_pipeline.sweep_storage();")
t_expect "users cannot run the sweep" "1" "$(grep -c 'permission denied for function sweep_storage' <<<"$out")"

# 4. One storage per database: the same key in a second database is another object.
fresh_db rp_security2
load_files rp_security2 samples build/samples/priya_raghunathan.docx
q -d rp_security2 -c "SELECT resume_pipeline.upload('resumes', 'ada.pdf', data, '{}', '$ALICE') FROM samples" >/dev/null
t_expect "each database has its own storage: the same key holds each database's own bytes" "f t" \
    "$(q -d rp_security2 -c "SELECT resume_pipeline.document_kind(resume_pipeline.storage_get('resumes', '$alice_key')) = 'pdf'") $(q -d rp_security -c "SELECT resume_pipeline.document_kind(resume_pipeline.storage_get('resumes', '$alice_key')) = 'pdf'")"
q -c "DROP DATABASE rp_security2" >/dev/null
q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "ALTER SYSTEM RESET resume_pipeline.retry_base_delay" -c "SELECT pg_reload_conf()" >/dev/null
