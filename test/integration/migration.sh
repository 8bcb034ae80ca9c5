# Storage migration (migrate_storage) against two S3 stand-ins (@20minutes/s3rver, which checks
# SigV4): A is the settings' store (resume_pipeline.s3_*), B another endpoint with other keys,
# defined as the location 's3:far'. 200 objects of four users (and 8 PDFs the parser reads while
# objects move) go filesystem → s3 with uploads written to both meanwhile, reads and uploads by a
# user during the run, a delete and a rollback removing both copies; then s3 → s3:far (another
# bucket on another endpoint), stopped and resumed, with S3 server A killed mid-way and started
# again; then s3:far → filesystem with objects copied but never switched (a crash between the two),
# a partial copy in the target, a corrupted source object, and the cluster stopped with
# -m immediate mid-way. After each: every row names the target, every object there is verified
# byte for byte by SHA-256 against files.checksum (read with the S3 API directly, or the file),
# the target holds exactly the objects rows name (no duplicate, no orphan) and the source none.
# Also: users can call none of it nor see its jobs; progress and NOTIFY, with no key in them.
mg_dir=$(mktemp -d /tmp/rp-migration.XXXXXX)
chmod 755 "$mg_dir"
mg_users=(aaaaaaaa-0000-4000-8000-00000000a001 aaaaaaaa-0000-4000-8000-00000000a002
    aaaaaaaa-0000-4000-8000-00000000a003 aaaaaaaa-0000-4000-8000-00000000a004)
mg_acc_a="rp-mig-a-$RANDOM" mg_sec_a="rp-mig-secret-a-$RANDOM$RANDOM$RANDOM"
mg_acc_b="rp-mig-b-$RANDOM" mg_sec_b="rp-mig-secret-b-$RANDOM$RANDOM$RANDOM"
mg_port_a= mg_port_b= mg_pid_a= mg_listener=

# psql in rp_mig as the end user with PostgREST's claim for UUID.
mg_as() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_mig -U rp_mig_user -v ON_ERROR_STOP=0 2>&1
}
mg_s3a() { S3_ENDPOINT="http://127.0.0.1:$mg_port_a" S3_ACCESS_KEY=$mg_acc_a S3_SECRET_KEY=$mg_sec_a test/s3/client.sh "$@"; }
mg_s3b() { S3_ENDPOINT="http://127.0.0.1:$mg_port_b" S3_ACCESS_KEY=$mg_acc_b S3_SECRET_KEY=$mg_sec_b test/s3/client.sh "$@"; }
mg_progress() {
    q -d rp_mig -c "SELECT state || '|' || phase || '|' || total || '|' || remaining || '|' || switched || '|' || failed
                           || '|' || (copied + reused = verified) || '|' || (verified = switched)
                      FROM resume_pipeline.migration_progress()"
}
# Starts S3 server A on its port (again after a kill); its pid in mg_pid_a.
mg_start_a() {
    S3_ACCESS_KEY=$mg_acc_a S3_SECRET_KEY=$mg_sec_a node --openssl-legacy-provider test/s3/start.mjs \
        --directory "$mg_dir/a" --port "${mg_port_a:-0}" --bucket resume-pipeline >"$mg_dir/a.out" 2>"$mg_dir/a.err" &
    mg_pid_a=$!
    RP_SERVER_PIDS+=("$mg_pid_a")
    mg_port_a=$(_servers_port "$mg_dir/a.out" 's/^port=\([0-9]*\)$/\1/p')
    [ -n "$mg_port_a" ]
}

# mg_verify PLACE — every files row with an object of ours: "rows=N here=N verified=N", where
# here counts rows naming PLACE and verified the objects read from there (the file, or a GET with
# the S3 API) whose SHA-256 is the row's checksum.
mg_verify() {
    local place=$1 rows=0 here=0 ok=0 key sum storage got
    while IFS='|' read -r key sum storage; do
        [ -n "$key" ] || continue
        rows=$((rows + 1))
        [ "$storage" = "$place" ] || continue
        here=$((here + 1))
        case $place in
            filesystem) got=$(sha256sum <"$key" 2>/dev/null | cut -d' ' -f1) ;;
            s3) got=$(mg_s3a get resume-pipeline "$key" 2>/dev/null | sha256sum | cut -d' ' -f1) ;;
            s3:far) got=$(mg_s3b get far-bucket "$key" 2>/dev/null | sha256sum | cut -d' ' -f1) ;;
        esac
        [ "$got" = "$sum" ] && ok=$((ok + 1))
    done < <(q -d rp_mig -c "SELECT l.key || '|' || f.checksum || '|' || f.storage
                               FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l
                              WHERE f.object_id IS NOT NULL")
    echo "rows=$rows here=$here verified=$ok"
}
# mg_named PLACE — the keys (S3) or paths (filesystem) of the objects rows name in PLACE, sorted.
mg_named() {
    q -d rp_mig -c "SELECT l.key FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l
                     WHERE f.storage = '$1'" | sort
}
# mg_stored PLACE — what PLACE holds of this database's objects, sorted.
mg_stored() {
    case $1 in
        filesystem) find "$mg_fs_objects" -type f 2>/dev/null | sort ;;
        s3) mg_s3a list resume-pipeline "$mg_oid/objects/" | sort ;;
        s3:far) mg_s3b list far-bucket "$mg_oid/objects/" | sort ;;
    esac
}
# mg_exactly NAME PLACE — passes when PLACE holds exactly the objects rows name there, each once.
mg_exactly() {
    local named stored
    named=$(mg_named "$2")
    stored=$(mg_stored "$2")
    if [ -n "$named" ] && [ "$named" = "$stored" ]; then
        t_pass "$1"
    else
        t_fail "$1" "named $(wc -l <<<"$named"), stored $(wc -l <<<"$stored"); first differences:"$'\n'"$(diff <(echo "$named") <(echo "$stored") | head -6)"
    fi
}
# A session LISTENing on the migration channel, appending what it hears to $mg_dir/heard until
# $mg_dir/stop_listening exists (or its connection goes, as when the cluster restarts).
mg_listen() {
    ( echo "LISTEN \"$mg_channel\";"
      while [ ! -f "$mg_dir/stop_listening" ]; do echo "SELECT 1;"; sleep 0.2; done ) |
        PGAPPNAME=rp_mig_listener psql -X -q -A -t -d rp_mig >>"$mg_dir/heard" 2>&1 &
    mg_listener=$!
    # Listening once it has run a statement after LISTEN.
    wait_for rp_mig "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rp_mig_listener' AND query LIKE 'SELECT 1%'" 30
}
mg_wait_state() {  # STATES SECONDS
    wait_for rp_mig "SELECT state IN ($1) FROM resume_pipeline.migration_progress()" "$2"
}

mg_run() {
    local reason
    if ! reason=$(servers_have_node); then
        t_skip "migration" "$reason"
        return
    fi
    if ! mg_start_a || ! servers_s3 "$mg_dir/b" "$mg_acc_b" "$mg_sec_b" far-bucket; then
        t_fail "migration: the S3 stand-ins start" "$(cat "$mg_dir"/*.err "$mg_dir"/b/*.err 2>/dev/null)"
        return
    fi
    mg_port_b=$RP_S3_PORT
    fresh_db rp_mig
    q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rp_mig_user') THEN
              CREATE ROLE rp_mig_user LOGIN IN ROLE resume_pipeline_user; END IF; END\$\$" >/dev/null
    # The workers wait (workers = 0) until the dual-write checks are done.
    q -c "ALTER SYSTEM SET resume_pipeline.workers = 0" -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_mig'" \
      -c "ALTER SYSTEM SET resume_pipeline.storage_backend = 'filesystem'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_endpoint = 'http://127.0.0.1:$mg_port_a'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_access_key = '$mg_acc_a'" \
      -c "ALTER SYSTEM SET resume_pipeline.s3_secret_key = '$mg_sec_a'" \
      -c "ALTER SYSTEM SET resume_pipeline.request_timeout_ms = 3000" \
      -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" -c "SELECT pg_reload_conf()" >/dev/null
    wait_for postgres "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
    load_files rp_mig samples build/samples/ada_whitfield.pdf >/dev/null
    mg_oid=$(q -d rp_mig -c "SELECT oid FROM pg_database WHERE datname = current_database()")

    # 200 objects of four users (text, 1 to 14 kB) and 8 PDFs, which become résumés the parser
    # reads while their objects move.
    q -d rp_mig >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'obj-' || i || '.txt',
                              convert_to(repeat(md5(i::text) || ' ', 40 + (i * 37) % 400), 'UTF8'), '{}',
                              (ARRAY['${mg_users[0]}', '${mg_users[1]}', '${mg_users[2]}', '${mg_users[3]}'])[1 + i % 4]::uuid)
  FROM generate_series(1, 200) i;
SELECT resume_pipeline.upload('resumes', 'cv-' || i || '.pdf', data || convert_to(E'\n%' || i, 'UTF8'), '{}', '${mg_users[0]}')
  FROM samples, generate_series(1, 8) i;
SQL
    local path
    path=$(q -d rp_mig -c "SELECT l.key FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l LIMIT 1")
    mg_fs_objects=$(dirname "$(dirname "$path")")
    t_expect "migration: 208 objects of 4 users on the filesystem to begin with" "rows=208 here=208 verified=208" \
        "$(mg_verify filesystem)"

    # Users: none of it is theirs.
    local out
    out=$(mg_as "${mg_users[0]}" <<'SQL'
SELECT resume_pipeline.migrate_storage('filesystem', 's3');
\echo migrate=:SQLSTATE
SELECT resume_pipeline.stop_migration();
\echo stop=:SQLSTATE
SELECT * FROM resume_pipeline.migration_progress();
\echo progress=:SQLSTATE
SELECT resume_pipeline.migration_channel();
\echo channel=:SQLSTATE
SELECT resume_pipeline.define_storage_location('x', 'http://127.0.0.1:9', 'abc', 'k', 's');
\echo define=:SQLSTATE
SELECT * FROM resume_pipeline.storage_locations;
\echo locations=:SQLSTATE
SELECT * FROM resume_pipeline.storage_migrations;
\echo migrations=:SQLSTATE
SELECT resume_pipeline._migrate_copy(object_id, 'filesystem', 's3', checksum, null, null, null) FROM resume_pipeline.files LIMIT 1;
\echo copy=:SQLSTATE
SQL
)
    t_expect "migration: a user may not migrate, stop, follow, define locations, read them or the migrations, or copy objects (42501)" \
        "migrate=42501 stop=42501 progress=42501 channel=42501 define=42501 locations=42501 migrations=42501 copy=42501" \
        "$(grep -oE '^[a-z]+=[0-9A-Z]+' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"

    # Refused: unknown places, an undefined location, one store under two names.
    q -d rp_mig -c "SELECT resume_pipeline.define_storage_location('alias', 'http://127.0.0.1:$mg_port_a/', 'resume-pipeline', 'k', 's')" >/dev/null
    out=$(q -d rp_mig -v ON_ERROR_STOP=0 2>&1 <<'SQL'
SELECT resume_pipeline.migrate_storage('filesystem', 'ftp');
\echo unknown=:SQLSTATE
SELECT resume_pipeline.migrate_storage('filesystem', 's3:nowhere');
\echo undefined=:SQLSTATE
SELECT resume_pipeline.migrate_storage('s3', 's3:alias');
\echo same=:SQLSTATE
SELECT resume_pipeline.migrate_storage('filesystem', 'filesystem');
\echo itself=:SQLSTATE
SELECT resume_pipeline.define_storage_location('Bad Name', 'http://x', 'abc', 'k', 's');
\echo badname=:SQLSTATE
SELECT count(*) FROM resume_pipeline.storage_migrations;
SQL
)
    t_expect "migration: an unknown place, an undefined location, one store under two names, a bad name: refused, nothing started" \
        "unknown=22023 undefined=42704 same=22023 itself=22023 badname=22023 0" \
        "$(grep -oE '^[a-z]+=[0-9A-Z]+|^[0-9]+$' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    q -d rp_mig -c "SELECT resume_pipeline.drop_storage_location('alias')" >/dev/null

    # NOTIFY: a listener on the migration channel for the whole test.
    mg_channel=$(q -d rp_mig -c "SELECT resume_pipeline.migration_channel()")
    mg_listen

    # --- filesystem → s3 -------------------------------------------------------------------
    local id
    id=$(q -d rp_mig -c "SELECT resume_pipeline.migrate_storage('filesystem', 's3', '0', 25)" 2>/dev/null)
    # No worker yet: the migration is copying and every upload to the source goes to both.
    out=$(q -d rp_mig -v ON_ERROR_STOP=0 2>&1 <<SQL
SELECT resume_pipeline.upload('resumes', 'both.txt', convert_to('written to both', 'UTF8'), '{}', '${mg_users[1]}');
SELECT resume_pipeline.upload('resumes', 'gone.txt', convert_to('deleted during the migration', 'UTF8'), '{}', '${mg_users[1]}');
SELECT 'gone=' || object_id FROM resume_pipeline.files WHERE name = '${mg_users[1]}/gone.txt';
BEGIN;
SELECT resume_pipeline.upload('resumes', 'rolled.txt', convert_to('rolled back', 'UTF8'), '{}', '${mg_users[1]}');
SELECT 'rolled=' || object_id FROM resume_pipeline.files WHERE name = '${mg_users[1]}/rolled.txt';
ROLLBACK;
SELECT 'both=' || object_id FROM resume_pipeline.files WHERE name = '${mg_users[1]}/both.txt';
SQL
)
    local both gone rolled
    both=$(sed -n 's/^both=//p' <<<"$out")
    gone=$(sed -n 's/^gone=//p' <<<"$out")
    rolled=$(sed -n 's/^rolled=//p' <<<"$out")
    echo "DELETE FROM resume_pipeline.files WHERE name = '${mg_users[1]}/gone.txt';" | mg_as "${mg_users[1]}" >/dev/null
    mg_here() {  # OBJECT_ID — fs=<0|1> s3=<status>
        local f="$mg_fs_objects/${1:0:2}/$1"
        echo "fs=$([ -f "$f" ] && echo 1 || echo 0) s3=$(mg_s3a status resume-pipeline "$mg_oid/objects/${1:0:2}/$1")"
    }
    t_expect "migration: while copying, an upload to the source is written to the target too; a deleted row's object and a rolled-back upload's go from both" \
        "both: fs=1 s3=200 gone: fs=0 s3=404 rolled: fs=0 s3=404" \
        "both: $(mg_here "$both") gone: $(mg_here "$gone") rolled: $(mg_here "$rolled")"

    # The workers start; a user uploads and reads meanwhile.
    q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "SELECT pg_reload_conf()" >/dev/null
    for i in $(seq 1 25); do
        echo "SELECT resume_pipeline.upload('resumes', 'during-$i.txt', convert_to(repeat('during $i ', 300), 'UTF8'));"
        echo "SELECT 'read=' || (encode(sha256(resume_pipeline.storage_get(f.bucket, f.name)), 'hex') = f.checksum)
                FROM resume_pipeline.files f WHERE f.object_id IS NOT NULL ORDER BY random() LIMIT 4;"
        echo "SELECT pg_sleep(0.04);"
    done | mg_as "${mg_users[2]}" >"$mg_dir/during" 2>&1
    if mg_wait_state "'done', 'incomplete', 'stopped'" 90; then
        t_expect "migration: filesystem → s3 done: 234 rows switched (208 + 1 written to both + 25 uploaded during it), none failed, counts agree" \
            "done|cleanup|234|0|234|0|true|true" "$(mg_progress)"
    else
        t_fail "migration: filesystem → s3 finishes" "$(mg_progress)"$'\n'"$(q -d rp_mig -c "SELECT state, last_error FROM resume_pipeline.jobs WHERE kind::text = 'migrate' ORDER BY created_at DESC LIMIT 3")"
    fi
    t_expect "migration: a user's 25 uploads and 100 reads during the run all succeed, every read verified" \
        "errors=0 reads=100 ok=100" \
        "errors=$(grep -c 'ERROR' "$mg_dir/during") reads=$(grep -c '^read=' "$mg_dir/during") ok=$(grep -c '^read=true' "$mg_dir/during")"
    t_expect "migration: every object on S3, verified byte for byte (GET with the S3 API, SHA-256 = files.checksum)" \
        "rows=234 here=234 verified=234" "$(mg_verify s3)"
    mg_exactly "migration: the bucket holds exactly the objects rows name there, each once" s3
    t_expect "migration: the source's copies are gone (keep_source 0), the one written to both was reused, not copied again" \
        "fs=0 reused>=1" "fs=$(mg_stored filesystem | grep -c .) reused>=$(q -d rp_mig -c "SELECT least(reused, 1) FROM resume_pipeline.migration_progress()")"
    wait_for rp_mig "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 60
    t_expect "migration: the 8 résumés read by the parser while their objects moved are completed" "8" \
        "$(q -d rp_mig -c "SELECT count(*) FROM resume_pipeline.resumes WHERE status = 'completed'")"
    t_expect "migration: a user sees none of the migration's jobs" "0" \
        "$(echo "SELECT count(*) FROM resume_pipeline.jobs WHERE kind::text = 'migrate';" | mg_as "${mg_users[0]}")"

    # --- s3 → s3:far (another bucket on another endpoint): stopped and resumed, S3 killed mid-way
    q -d rp_mig -c "SELECT resume_pipeline.define_storage_location('far', 'http://127.0.0.1:$mg_port_b', 'far-bucket', '$mg_acc_b', '$mg_sec_b')" >/dev/null
    id=$(q -d rp_mig -c "SELECT resume_pipeline.migrate_storage('s3', 's3:far', '0', 10)" 2>/dev/null)
    wait_for rp_mig "SELECT switched >= 10 FROM resume_pipeline.migration_progress()" 30
    local stopped_at again other
    q -d rp_mig -c "SELECT resume_pipeline.stop_migration()" >/dev/null
    stopped_at=$(q -d rp_mig -c "SELECT switched FROM resume_pipeline.migration_progress()")
    sleep 1.5
    out=$(q -d rp_mig -v ON_ERROR_STOP=0 2>&1 <<'SQL'
SELECT 'swept=' || resume_pipeline.sweep_storage('0');
SELECT resume_pipeline.migrate_storage('s3', 'filesystem');
\echo other=:SQLSTATE
SQL
)
    t_expect "migration: stopped, it switches nothing more; the sweep removes no copy; another migration is refused meanwhile (55006)" \
        "state=stopped switched=$stopped_at swept=0 other=55006" \
        "state=$(q -d rp_mig -c "SELECT state FROM resume_pipeline.migration_progress()") switched=$(q -d rp_mig -c "SELECT switched FROM resume_pipeline.migration_progress()") $(grep -oE '^(swept|other)=[0-9A-Z]+' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
    again=$(q -d rp_mig -c "SELECT resume_pipeline.migrate_storage('s3', 's3:far', '0', 10)" 2>/dev/null)
    t_expect "migration: migrate_storage with the same places resumes the stopped migration" "$id running" \
        "$again $(q -d rp_mig -c "SELECT state FROM resume_pipeline.migration_progress()")"
    wait_for rp_mig "SELECT switched >= $((stopped_at + 30)) FROM resume_pipeline.migration_progress()" 30
    kill "$mg_pid_a" 2>/dev/null
    wait "$mg_pid_a" 2>/dev/null
    if wait_for rp_mig "SELECT state = 'running' AND last_error LIKE '%could not read storage object%' FROM resume_pipeline.migration_progress()" 30; then
        t_pass "migration: with the source's S3 server gone the migration waits, running, saying why"
    else
        t_fail "migration: with the source's S3 server gone the migration waits, running, saying why" "$(mg_progress) $(q -d rp_mig -c "SELECT last_error FROM resume_pipeline.migration_progress()")"
    fi
    mg_start_a
    if mg_wait_state "'done', 'incomplete'" 90; then
        t_expect "migration: S3 back, s3 → s3:far ends done: 234 switched in all, none twice, none failed" \
            "done|cleanup|234|0|234|0|true|true" "$(mg_progress)"
    else
        t_fail "migration: s3 → s3:far finishes after S3 comes back" "$(mg_progress)"
    fi
    t_expect "migration: every object in the other bucket, verified byte for byte with that endpoint's own keys" \
        "rows=234 here=234 verified=234" "$(mg_verify s3:far)"
    mg_exactly "migration: the other bucket holds exactly the objects rows name there, each once" s3:far
    t_expect "migration: the first bucket holds none of them any more" "0" "$(mg_stored s3 | grep -c .)"

    # --- s3:far → filesystem: copies never switched, a partial copy, a corrupt source, a crash
    local pre partial corrupt corrupt_key
    q -d rp_mig >/dev/null <<'SQL'
-- Three objects copied and verified but never switched, as a crash between the two leaves them.
SELECT resume_pipeline._migrate_copy(f.object_id, 's3:far', 'filesystem', f.checksum, f.mime_type, NULL, f.name)
  FROM resume_pipeline.files f ORDER BY f.id LIMIT 3;
SQL
    pre=$(q -d rp_mig -c "SELECT count(*) FROM resume_pipeline.files WHERE storage = 's3:far'")
    partial=$(q -d rp_mig -c "SELECT object_id FROM resume_pipeline.files ORDER BY id OFFSET 3 LIMIT 1")
    as_pg mkdir -p "$mg_fs_objects/${partial:0:2}"
    printf 'half a cop' | as_pg tee "$mg_fs_objects/${partial:0:2}/$partial" >/dev/null
    corrupt=$(q -d rp_mig -c "SELECT object_id FROM resume_pipeline.files ORDER BY id OFFSET 4 LIMIT 1")
    corrupt_key="$mg_oid/objects/${corrupt:0:2}/$corrupt"
    printf 'not what was stored' >"$mg_dir/corrupt"
    mg_s3b put far-bucket "$corrupt_key" "$mg_dir/corrupt" >/dev/null
    q -d rp_mig -c "SELECT resume_pipeline.migrate_storage('s3:far', 'filesystem', '0', 10)" >/dev/null 2>&1
    wait_for rp_mig "SELECT switched >= 20 FROM resume_pipeline.migration_progress()" 30
    if cluster_restart immediate; then
        t_pass "migration: the cluster stopped with -m immediate mid-way and started again"
        wait "$mg_listener" 2>/dev/null
        mg_listen
    else
        t_fail "migration: the cluster stopped with -m immediate mid-way and started again"
    fi
    if mg_wait_state "'done', 'incomplete'" 120; then
        t_expect "migration: s3:far → filesystem resumes after the crash and ends incomplete: the corrupt object failed, the rest switched" \
            "incomplete|cleanup|$pre|0|$((pre - 1))|1|true|true" "$(mg_progress)"
    else
        t_fail "migration: s3:far → filesystem resumes after the crash and finishes" "$(mg_progress)"
    fi
    t_expect "migration: the corrupt object is reported, its row still names s3:far and its bytes are still there" \
        "failed=1 checksum=t storage=s3:far status=200" \
        "failed=$(q -d rp_mig -c "SELECT count(*) FROM resume_pipeline.storage_migration_objects WHERE state = 'failed' AND object_id = '$corrupt'") checksum=$(q -d rp_mig -c "SELECT bool_and(error LIKE '%does not match its checksum%') FROM resume_pipeline.storage_migration_objects WHERE state = 'failed'") storage=$(q -d rp_mig -c "SELECT storage FROM resume_pipeline.files WHERE object_id = '$corrupt'") status=$(mg_s3b status far-bucket "$corrupt_key")"
    t_expect "migration: copies made but never switched are verified and reused, not copied again" "t" \
        "$(q -d rp_mig -c "SELECT reused >= 3 FROM resume_pipeline.migration_progress()")"
    t_expect "migration: every other object on the filesystem, verified byte for byte (the partial copy replaced)" \
        "rows=234 here=$((pre - 1)) verified=$((pre - 1))" "$(mg_verify filesystem)"
    mg_exactly "migration: the filesystem holds exactly the objects rows name there, each once" filesystem
    t_expect "migration: the other bucket keeps only the object that failed" "$corrupt_key" "$(mg_stored s3:far)"
    out=$(q -d rp_mig -v ON_ERROR_STOP=0 2>&1 -c "SELECT resume_pipeline.drop_storage_location('far')" -c '\echo drop=:SQLSTATE')
    t_expect "migration: a location a row still names cannot be dropped (55006)" "drop=55006" "$(grep -o 'drop=.*' <<<"$out")"

    # --- without workers: process_pending() runs the same batches in the caller's transaction
    q -c "ALTER SYSTEM SET resume_pipeline.workers = 0" -c "SELECT pg_reload_conf()" >/dev/null
    wait_for postgres "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30
    local on_fs
    on_fs=$(q -d rp_mig -c "SELECT count(*) FROM resume_pipeline.files WHERE storage = 'filesystem'")
    out=$(q -d rp_mig 2>/dev/null <<'SQL'
SELECT resume_pipeline.migrate_storage('filesystem', 's3', '0', 50) IS NOT NULL;
BEGIN;
SELECT resume_pipeline.process_pending() > 0;
SELECT 'inside=' || count(*) FROM resume_pipeline.files WHERE storage = 's3';
ROLLBACK;
SELECT 'rolled=' || count(*) FROM resume_pipeline.files WHERE storage = 's3';
SQL
)
    t_expect "migration: process_pending() moves every row in its transaction; rolled back, every row is at the source again" \
        "inside=$on_fs rolled=0 fs=$on_fs" \
        "$(grep -oE '^(inside|rolled)=[0-9]+' <<<"$out" | tr '\n' ' ')fs=$(mg_stored filesystem | grep -c .)"
    q -d rp_mig -c "SELECT resume_pipeline.process_pending()" >/dev/null
    t_expect "migration: committed, the source's copies stay until a later transaction (never removed with the switch uncommitted)" \
        "running|cleanup|$on_fs fs=$on_fs" \
        "$(q -d rp_mig -c "SELECT state || '|' || phase || '|' || switched FROM resume_pipeline.migration_progress()") fs=$(mg_stored filesystem | grep -c .)"
    sleep 1.1
    q -d rp_mig -c "SELECT resume_pipeline.process_pending()" >/dev/null
    t_expect "migration: the next process_pending() removes them and the migration is done" "done|$on_fs fs=0" \
        "$(q -d rp_mig -c "SELECT state || '|' || removed FROM resume_pipeline.migration_progress()") fs=$(mg_stored filesystem | grep -c .)"

    # NOTIFY: progress batches and every change of state, none holding a key or an endpoint. The
    # listener prints a notification after its next statement: let it run a few more first.
    sleep 1
    touch "$mg_dir/stop_listening"
    wait "$mg_listener" 2>/dev/null
    mg_listener=
    local payloads
    payloads=$(sed -n "s/^Asynchronous notification \"$mg_channel\" with payload \"\(.*\)\" received from server process.*/\1/p" "$mg_dir/heard")
    local states progress
    states=$(jq -r 'select(.old != .new) | "\(.old)>\(.new)"' <<<"$payloads" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
    progress=$(jq -r 'select(.old == "running" and .new == "running") | .switched' <<<"$payloads" 2>/dev/null | grep -c .)
    if [ "$states" = "null>running running>done null>running running>stopped stopped>running running>done null>running running>incomplete null>running running>done" ] &&
        [ "$progress" -ge 10 ] && ! grep -qF -e "$mg_sec_a" -e "$mg_sec_b" -e "$mg_acc_a" -e "$mg_acc_b" -e "127.0.0.1" <<<"$payloads"; then
        t_pass "migration: NOTIFY on the migration channel: every change of state and $progress progress batches, no key or endpoint in any"
    else
        t_fail "migration: NOTIFY on the migration channel: every change of state and progress batches, no key or endpoint in any" \
            "states: $states"$'\n'"progress: $progress"$'\n'"$(head -3 <<<"$payloads")"
    fi
    if ! grep -qF -e "$mg_sec_a" -e "$mg_sec_b" "$RP_SERVER_LOG" 2>/dev/null ||
        [ -z "$(grep -F -e "$mg_sec_a" -e "$mg_sec_b" "$RP_SERVER_LOG" | grep -v 'parameter "resume_pipeline.s3_secret_key" changed to')" ]; then
        t_pass "migration: no location or S3 secret in the server log"
    else
        t_fail "migration: no location or S3 secret in the server log"
    fi
}

mg_run
[ -z "$mg_listener" ] || { touch "$mg_dir/stop_listening"; wait "$mg_listener" 2>/dev/null; }
for mg_s in workers database storage_backend s3_endpoint s3_access_key s3_secret_key request_timeout_ms retry_base_delay; do
    q -c "ALTER SYSTEM RESET resume_pipeline.$mg_s" >/dev/null
done
q -c "SELECT pg_reload_conf()" >/dev/null
servers_stop
rm -rf "$mg_dir"
unset -f mg_run mg_listen mg_as mg_s3a mg_s3b mg_progress mg_start_a mg_verify mg_named mg_stored mg_exactly mg_wait_state mg_here
unset mg_dir mg_channel mg_users mg_acc_a mg_sec_a mg_acc_b mg_sec_b mg_port_a mg_port_b mg_pid_a mg_listener mg_oid mg_fs_objects mg_s
