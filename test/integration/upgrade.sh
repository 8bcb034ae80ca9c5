# Upgrades. A database made with the released 0.1.0 install script (sql/released/) and holding
# data is updated with ALTER EXTENSION resume_pipeline UPDATE:
# - the workers, built for 0.2.0, wait while the schema is 0.1.0 (jobs stay queued), then run
#   the jobs queued under 0.1.0 once it is updated;
# - every row of every table is kept, column for column;
# - the schema is the fresh install's. pg_dump leaves an extension's objects out of a plain dump;
#   --binary-upgrade writes each of them (tables, columns in order, functions with their bodies,
#   triggers, policies, grants), which is what is compared, less the per-database OIDs and xids.
up_sharedir="$("$RP_PG_BIN/pg_config" --sharedir)/extension"
up_script="$up_sharedir/resume_pipeline--0.1.0.sql"
up_installed_here=no
if [ ! -f "$up_script" ]; then
    cp sql/released/resume_pipeline--0.1.0.sql "$up_script" && up_installed_here=yes
fi

upgrade_main() {
    local user=bbbbbbbb-0000-4000-8000-0000000000b1
    q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_up_old" \
      -c "DROP DATABASE IF EXISTS rp_up_new" -c "CREATE DATABASE rp_up_old" -c "CREATE DATABASE rp_up_new" >/dev/null
    if ! q -d rp_up_old -c "CREATE EXTENSION resume_pipeline VERSION '0.1.0'" >/dev/null; then
        t_fail "upgrade: CREATE EXTENSION resume_pipeline VERSION '0.1.0' with the released script"
        return
    fi
    t_expect "upgrade: the update path from 0.1.0 to the default version exists" "0.1.0--0.2.0" \
        "$(q -d rp_up_old -c "SELECT path FROM pg_extension_update_paths('resume_pipeline')
                               WHERE source = '0.1.0' AND target = '0.2.0'")"

    # Data written by 0.1.0: two résumés read (process_pending in this session), a ZIP batch and an
    # applicant's CV queued, a posting, an analysis session, a user with an Ashby key.
    load_files rp_up_old up_uploads build/samples/ada_whitfield.pdf build/samples/priya_raghunathan.docx \
        build/samples/batch.zip
    q -d rp_up_old >/dev/null <<SQL
SET search_path = resume_pipeline, public;
INSERT INTO users (id, email, ashby_api_key, ashby_features) VALUES ('$user', 'b@example.com', 'ashby-secret', '{"sync": false}');
SELECT upload('resumes', u.name, u.data, '{}', '$user') FROM public.up_uploads u WHERE u.name <> 'batch.zip';
SELECT process_pending();  -- read under 0.1.0, in this session
SELECT upload('resumes', u.name, u.data, '{}', '$user') FROM public.up_uploads u WHERE u.name = 'batch.zip';
INSERT INTO job_postings (user_id, title, description, required_skills)
VALUES ('$user', 'Backend Engineer', 'Go and PostgreSQL', '{Go,PostgreSQL}');
INSERT INTO analysis_sessions (user_id, session_name, status) VALUES ('$user', 'old session', 'completed');
INSERT INTO applicants (user_id, cv_file_id) SELECT user_id, id FROM files WHERE name LIKE '%priya%';
SQL
    # The workers serve this database; the schema is older than they are, so they wait.
    q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_up_old'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
      -c "SELECT pg_reload_conf()" >/dev/null
    if ! wait_for rp_up_old "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_up_old'" 30; then
        t_fail "upgrade: a worker serves the 0.1.0 database"
        return
    fi
    local waited=0
    while [ $waited -lt 200 ] && ! grep -q "worker waits: the database has version 0.1.0 of the extension, this module is 0.2.0" "$RP_SERVER_LOG"; do
        sleep 0.1; waited=$((waited + 1))
    done
    if grep -q "worker waits: the database has version 0.1.0 of the extension, this module is 0.2.0" "$RP_SERVER_LOG"; then
        t_pass "upgrade: a worker facing the 0.1.0 schema waits and says why in the log"
    else
        t_fail "upgrade: a worker facing the 0.1.0 schema waits and says why in the log"
    fi
    t_expect "upgrade: jobs queued under 0.1.0 stay queued until the update" "cv/queued,zip/queued" \
        "$(q -d rp_up_old -c "SELECT string_agg(DISTINCT kind || '/' || state, ',') FROM resume_pipeline.jobs WHERE state <> 'done'")"

    # Each table's rows as JSON: all columns before, the columns 0.1.0 had after.
    q -d rp_up_old >/dev/null <<'SQL'
CREATE FUNCTION public.up_fingerprint(cols jsonb) RETURNS TABLE (tbl text, n bigint, h text)
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'resume_pipeline'::regnamespace AND c.relkind = 'r'
                AND (cols IS NULL OR cols ? c.relname) ORDER BY 1 LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %L::text, count(*), md5(coalesce(string_agg(k::text, %L ORDER BY k::text), %L))
               FROM (SELECT (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(to_jsonb(x)) e
                              WHERE $1 IS NULL OR e.key IN (SELECT jsonb_array_elements_text($1))) k
                       FROM resume_pipeline.%I x) s', r.relname, '|', '', r.relname)
            USING cols -> r.relname;
    END LOOP;
END
$$;
CREATE TABLE public.up_columns AS
SELECT jsonb_object_agg(c.relname, (SELECT jsonb_agg(a.attname) FROM pg_attribute a
                                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)) AS cols
  FROM pg_class c WHERE c.relnamespace = 'resume_pipeline'::regnamespace AND c.relkind = 'r';
SQL
    local before after tables
    before=$(q -d rp_up_old -c "SELECT string_agg(tbl || ':' || n || ':' || h, ' ' ORDER BY tbl) FROM public.up_fingerprint(NULL)")
    tables=$(q -d rp_up_old -c "SELECT count(*) || ' tables, ' || sum(n) || ' rows' FROM public.up_fingerprint(NULL)")
    # The update and the look at the rows in one transaction: the workers start on the jobs as
    # soon as it commits.
    after=$(q -d rp_up_old -c "BEGIN" -c "ALTER EXTENSION resume_pipeline UPDATE" \
        -c "SELECT string_agg(tbl || ':' || n || ':' || h, ' ' ORDER BY tbl) FROM public.up_fingerprint((SELECT cols FROM public.up_columns))" \
        -c "COMMIT" 2>&1)
    t_expect "upgrade: ALTER EXTENSION resume_pipeline UPDATE brings 0.1.0 to 0.2.0" "0.2.0" \
        "$(q -d rp_up_old -c "SELECT extversion FROM pg_extension WHERE extname = 'resume_pipeline'")"
    if [ -n "$before" ] && [ "$before" = "$after" ]; then
        t_pass "upgrade: every row of every table is kept, column for column ($tables)"
    else
        t_fail "upgrade: every row of every table is kept, column for column" "before: $before"$'\n'"after:  $after"
    fi
    t_expect "upgrade: the Ashby key stays unreadable to its user after the update" "permission denied" \
        "$(q -d rp_up_old -c "SET ROLE resume_pipeline_user" -c "SELECT ashby_api_key FROM resume_pipeline.users" 2>&1 |
           grep -o 'permission denied' | head -1)"
    if wait_for rp_up_old "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 90 &&
        wait_for rp_up_old "SELECT bool_and(status = 'completed') AND count(*) >= 3 FROM resume_pipeline.resumes" 10; then
        t_pass "upgrade: the jobs queued under 0.1.0 run once the schema is updated"
    else
        t_fail "upgrade: the jobs queued under 0.1.0 run once the schema is updated" \
            "$(q -d rp_up_old -c "SELECT kind, state, last_error FROM resume_pipeline.jobs")"
    fi
    t_expect "upgrade: the jobs 0.1.0 finished are counted once, with those finished since (job_counts)" "true|true" \
        "$(q -d rp_up_old -c "SELECT ((SELECT sum(jobs) FROM resume_pipeline.job_counts WHERE state = 'done')
                                      = (SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'done'))::text || '|' ||
                                    ((SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'done') > 2)::text" 2>&1)"
    t_expect "upgrade: the applicant made under 0.1.0 has its CV read after the update" "ready" \
        "$(q -d rp_up_old -c "SELECT string_agg(cv_status::text, ',') FROM resume_pipeline.applicants")"

    # The same schema as a fresh install.
    q -d rp_up_new -c "CREATE EXTENSION resume_pipeline" >/dev/null
    q -d rp_up_old -c "DROP FUNCTION public.up_fingerprint(jsonb)" -c "DROP TABLE public.up_columns, public.up_uploads" >/dev/null
    local old_dump new_dump
    old_dump=$(mktemp) new_dump=$(mktemp)
    schema_of() {
        pg_dump --schema-only --binary-upgrade -d "$1" |
            grep -v -E "binary_upgrade|relfrozenxid|WHERE oid = '[0-9]+'|^\\\\(un)?restrict |^-- Dumped"
    }
    schema_of rp_up_old >"$old_dump"
    schema_of rp_up_new >"$new_dump"
    local objects
    objects=$(grep -c "^ALTER EXTENSION resume_pipeline ADD" "$new_dump")
    if [ "$objects" -gt 100 ] && diff -u "$new_dump" "$old_dump" >/dev/null; then
        t_pass "upgrade: the updated schema equals a fresh install's (pg_dump --schema-only --binary-upgrade, $objects objects)"
    else
        t_fail "upgrade: the updated schema equals a fresh install's (pg_dump --schema-only --binary-upgrade)" \
            "$(diff -u "$new_dump" "$old_dump" | head -80)"
    fi
    rm -f "$old_dump" "$new_dump"
    t_expect "upgrade: updating again is a no-op" "0.2.0" \
        "$(q -d rp_up_old -c "SET client_min_messages = warning" -c "ALTER EXTENSION resume_pipeline UPDATE" \
             -c "SELECT extversion FROM pg_extension WHERE extname = 'resume_pipeline'")"
}

upgrade_main
q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "ALTER SYSTEM RESET resume_pipeline.workers" \
  -c "SELECT pg_reload_conf()" >/dev/null
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_up_old WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS rp_up_new" >/dev/null
[ "$up_installed_here" = yes ] && rm -f "$up_script"
