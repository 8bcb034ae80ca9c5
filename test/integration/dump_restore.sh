# pg_dump of a database with data, restored into a new database: every row is there, with the
# same content, and restoring created no extra résumés. The one job restoring may add is a second
# job for a CV that was pending when the dump was taken (the applicants trigger cannot tell a
# restore from a user's insert, and no setting a user controls may switch it off); that job is
# harmless: the CV is processed and ends ready once. Stored objects are files, not rows: they
# are copied beside the dump, into the new database's own storage directory.
fresh_db rp_dump_src
load_files rp_dump_src uploads build/samples/ada_whitfield.pdf build/samples/priya_raghunathan.docx \
    build/samples/batch.zip
q -d rp_dump_src >/dev/null <<'SQL'
SET search_path = resume_pipeline, public;
SELECT upload('resumes', u.name, u.data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a') FROM public.uploads u;
SELECT process_pending();
INSERT INTO users (id, email, ashby_api_key) VALUES ('aaaaaaaa-0000-4000-8000-00000000000a', 'a@example.com', 'k');
INSERT INTO job_postings (user_id, title) VALUES ('aaaaaaaa-0000-4000-8000-00000000000a', 'Engineer');
INSERT INTO analysis_sessions (user_id, session_name, status) VALUES ('aaaaaaaa-0000-4000-8000-00000000000a', 's', 'completed');
INSERT INTO resume_analyses (user_id, resume_id, analysis_session_id, overall_fit_score)
SELECT r.user_id, r.id, s.id, 70 FROM resumes r, analysis_sessions s;
INSERT INTO applicants (user_id, cv_file_id) SELECT user_id, id FROM files WHERE name LIKE '%priya%';
SQL
dumped_at=$(q -d rp_dump_src -c "SELECT clock_timestamp()")
# One fingerprint per table: row count and an md5 over the rows in key order.
fingerprint() {
    q -d "$1" -v dumped_at="$dumped_at" <<'SQL'
SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
    SELECT 'users' t, count(*) n, md5(string_agg(x::text, '' ORDER BY x::text)) h FROM resume_pipeline.users x
    UNION ALL SELECT 'files', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.files x
    UNION ALL SELECT 'resumes', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.resumes x
    UNION ALL SELECT 'resume_versions', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.resume_versions x
    UNION ALL SELECT 'job_postings', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.job_postings x
    UNION ALL SELECT 'analysis_sessions', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.analysis_sessions x
    UNION ALL SELECT 'resume_analyses', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.resume_analyses x
    UNION ALL SELECT 'applicants', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.applicants x
    UNION ALL SELECT 'jobs', count(*), md5(string_agg(x::text, '' ORDER BY x::text)) FROM resume_pipeline.jobs x
                                                                                      WHERE x.created_at < :'dumped_at'
) s
SQL
}
before=$(fingerprint rp_dump_src)
dump=$(mktemp)
restore_log=$(mktemp)
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_dump_dst" -c "CREATE DATABASE rp_dump_dst" >/dev/null
if pg_dump -Fc -d rp_dump_src -f "$dump" && pg_restore -d rp_dump_dst --exit-on-error "$dump" >"$restore_log" 2>&1; then
    t_pass "pg_dump and pg_restore of a database with résumé data succeed"
else
    t_fail "pg_dump and pg_restore of a database with résumé data succeed" "$(cat "$restore_log")"
fi
after=$(fingerprint rp_dump_dst)
extra=$(q -d rp_dump_dst -c "SELECT coalesce(string_agg(kind || '/' || state, ','), 'none') FROM resume_pipeline.jobs
                             WHERE created_at >= '$dumped_at'")
t_expect "restoring adds no job but one for the CV that was pending" "cv/queued" "$extra"
# The objects, into the new database's directory (named by its OID).
src_oid=$(q -c "SELECT oid FROM pg_database WHERE datname = 'rp_dump_src'")
dst_oid=$(q -c "SELECT oid FROM pg_database WHERE datname = 'rp_dump_dst'")
as_pg cp -a "$RP_CLUSTER_DIR/data/resume_pipeline_storage/$src_oid" "$RP_CLUSTER_DIR/data/resume_pipeline_storage/$dst_oid"
counts=$(q -d rp_dump_dst -c "SELECT (SELECT count(*) FROM resume_pipeline.resumes) || ' résumés, ' ||
    (SELECT count(*) FROM resume_pipeline.jobs) || ' jobs'")
if [ "$before" = "$after" ] && [ -n "$before" ]; then
    t_pass "every table's rows survive pg_dump / pg_restore unchanged ($counts)"
else
    t_fail "every table's rows survive pg_dump / pg_restore unchanged" "before: $before"$'\n'"after:  $after"
fi
# The restored queue still works: a new applicant's CV is queued and processed.
new_job=$(q -d rp_dump_dst -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
    SELECT user_id, id FROM resume_pipeline.files WHERE name LIKE '%priya%'" \
    -c "SELECT resume_pipeline.process_pending()" \
    -c "SELECT string_agg(cv_status::text, ',' ORDER BY cv_status) FROM resume_pipeline.applicants")
t_expect "the restored database queues and processes new work" "ready,ready" "$(tail -1 <<<"$new_job")"
rm -f "$dump" "$restore_log"
