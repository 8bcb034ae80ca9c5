# Processing again, the seed orchestrator's POST /scrape/individual and POST /scrape/batch as
# SQL: reprocess_resume(id) and reprocess_batch(zip_id), for the JWT's user only. Run in this
# session (process_pending), no workers.
rep_a=aaaaaaaa-0000-4000-8000-0000000000a1
rep_b=bbbbbbbb-0000-4000-8000-0000000000b1
fresh_db rp_rep
q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rp_rep_user') THEN
          CREATE ROLE rp_rep_user LOGIN IN ROLE resume_pipeline_user; END IF; END\$\$" >/dev/null
load_files rp_rep rep_uploads build/samples/ada_whitfield.pdf build/samples/priya_raghunathan.docx build/samples/batch.zip
q -d rp_rep >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', u.name, u.data, '{}', '$rep_a') FROM public.rep_uploads u;
SELECT resume_pipeline.process_pending();
SELECT resume_pipeline.process_pending();
SQL

# rep_as UUID — psql in rp_rep as the end-user role with PostgREST's claim for UUID.
rep_as() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_rep -U rp_rep_user -v ON_ERROR_STOP=0 2>&1
}
# rep_state UUID — the same, printing errors as their SQLSTATE.
rep_state() {
    { echo '\set VERBOSITY sqlstate'; cat; } | rep_as "$1"
}
rep_ada=$(q -d rp_rep -c "SELECT id FROM resume_pipeline.resumes WHERE original_filename = 'ada_whitfield.pdf'")
rep_zip=$(q -d rp_rep -c "SELECT id FROM resume_pipeline.files WHERE name LIKE '%batch.zip'")
rep_ada_file=$(q -d rp_rep -c "SELECT file_id FROM resume_pipeline.resumes WHERE id = '$rep_ada'")
rep_text_md5=$(q -d rp_rep -c "SELECT md5(raw_text) FROM resume_pipeline.resumes WHERE id = '$rep_ada'")
t_expect "reprocess: the résumés are read first (ada, priya and the batch's 3)" "completed:5" \
    "$(q -d rp_rep -c "SELECT string_agg(DISTINCT status::text, ',') || ':' || count(*) FROM resume_pipeline.resumes")"

# Someone else's résumé, a ZIP of someone else, no signed-in user: refused, nothing changes.
t_expect "reprocess: another user's résumé is refused like a missing one (P0002)" \
    "ERROR:  P0002" "$(echo "SELECT resume_pipeline.reprocess_resume('$rep_ada');" | rep_state "$rep_b")"
t_expect "reprocess: another user's ZIP batch is refused like a missing one" \
    "ERROR:  ZIP batch $rep_zip does not exist" \
    "$(echo "SELECT resume_pipeline.reprocess_batch('$rep_zip');" | rep_as "$rep_b" | head -1)"
t_expect "reprocess: a file that is not a ZIP is not a batch" \
    "ERROR:  P0002" "$(echo "SELECT resume_pipeline.reprocess_batch('$rep_ada_file');" | rep_state "$rep_a")"
t_expect "reprocess: without a signed-in user it is refused (42501)" "42501" \
    "$(psql -X -q -A -t -d rp_rep -U rp_rep_user -v VERBOSITY=verbose \
         -c "SELECT resume_pipeline.reprocess_resume('$rep_ada')" 2>&1 | grep -o 42501 | head -1)"
t_expect "reprocess: refused calls queued nothing and changed no status" "0|completed" \
    "$(q -d rp_rep -c "SELECT (SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'queued') || '|' ||
                              (SELECT string_agg(DISTINCT status::text, ',') FROM resume_pipeline.resumes)")"

# One résumé again: pending at once, one job however often it is asked, read again.
t_expect "reprocess: reprocess_resume puts the caller's résumé back to pending" "pending" \
    "$(echo "SELECT resume_pipeline.reprocess_resume('$rep_ada');" | rep_as "$rep_a")"
echo "SELECT resume_pipeline.reprocess_resume('$rep_ada');" | rep_as "$rep_a" >/dev/null
t_expect "reprocess: asking twice queues one job" "1" \
    "$(q -d rp_rep -c "SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'queued' AND target_id = '$rep_ada'")"
q -d rp_rep -c "SELECT resume_pipeline.process_pending()" >/dev/null
t_expect "reprocess: the résumé is read again and completed with the same text" "completed|$rep_text_md5|0" \
    "$(q -d rp_rep -c "SELECT status || '|' || md5(raw_text) || '|' || (SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'queued')
                       FROM resume_pipeline.resumes WHERE id = '$rep_ada'")"

# A failed résumé is retried (the orchestrator's main use).
q -d rp_rep -c "UPDATE resume_pipeline.resumes SET status = 'failed', error = 'parser timed out', raw_text = NULL
                WHERE id = '$rep_ada'" >/dev/null
echo "SELECT resume_pipeline.reprocess_resume('$rep_ada');" | rep_as "$rep_a" >/dev/null
q -d rp_rep -c "SELECT resume_pipeline.process_pending()" >/dev/null
t_expect "reprocess: a failed résumé is read again and its error cleared" "completed||true" \
    "$(q -d rp_rep -c "SELECT status || '|' || coalesce(error, '') || '|' || (raw_text IS NOT NULL)
                       FROM resume_pipeline.resumes WHERE id = '$rep_ada'")"

# The whole batch again.
t_expect "reprocess: reprocess_batch queues each of the batch's résumés" "3" \
    "$(echo "SELECT resume_pipeline.reprocess_batch('$rep_zip');" | rep_as "$rep_a")"
t_expect "reprocess: batch_progress shows them pending" "3|3|0|0" \
    "$(echo "SELECT total || '|' || pending || '|' || completed || '|' || failed FROM resume_pipeline.batch_progress('$rep_zip');" | rep_as "$rep_a")"
q -d rp_rep -c "SELECT resume_pipeline.process_pending()" >/dev/null
t_expect "reprocess: the batch is read again, no résumé added twice" "3|0|3|0|5" \
    "$(echo "SELECT total || '|' || pending || '|' || completed || '|' || failed || '|' || (SELECT count(*) FROM resume_pipeline.resumes)
             FROM resume_pipeline.batch_progress('$rep_zip');" | rep_as "$rep_a")"

# A batch whose expansion never happened is expanded again.
q -d rp_rep -c "DELETE FROM resume_pipeline.files WHERE metadata ->> 'zip_id' = '$rep_zip'" \
            -c "UPDATE resume_pipeline.files SET metadata = metadata - 'expanded' || '{\"error\": \"storage unavailable\"}'
                WHERE id = '$rep_zip'" >/dev/null
t_expect "reprocess: a batch that was never expanded has no résumé to queue" "0" \
    "$(echo "SELECT resume_pipeline.reprocess_batch('$rep_zip');" | rep_as "$rep_a")"
q -d rp_rep -c "SELECT resume_pipeline.process_pending()" -c "SELECT resume_pipeline.process_pending()" >/dev/null
t_expect "reprocess: … and is expanded again, its résumés read" "3|0|3|0" \
    "$(echo "SELECT total || '|' || pending || '|' || completed || '|' || failed FROM resume_pipeline.batch_progress('$rep_zip');" | rep_as "$rep_a")"
