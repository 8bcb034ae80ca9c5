# Formats decided by content, containers first, through upload() and the workers: a ZIP whose
# entries are stored uncompressed (zip -0, Python's zipfile default) is an archive of résumés, not
# one PDF; deflated and mixed archives likewise; a PDF/ZIP polyglot is refused with a clear error,
# never guessed.
fresh_db rp_formats
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_formats'" -c "SELECT pg_reload_conf()" >/dev/null
load_files rp_formats samples build/fixtures/batch5_stored.zip build/fixtures/batch5.zip build/fixtures/polyglot.bin
fm_user=aaaaaaaa-0000-4000-8000-00000000000a
wait_for rp_formats "SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_formats'" 30
t_expect "formats: document_kind takes a stored ZIP of PDFs for an archive, and names the polyglot" "zip|zip|ambiguous" \
    "$(q -d rp_formats -c "SELECT string_agg(resume_pipeline.document_kind(data), '|' ORDER BY name) FROM samples")"
q -d rp_formats >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'stored.zip', data, '{}', '$fm_user') FROM samples WHERE name = 'batch5_stored.zip';
SELECT resume_pipeline.upload('resumes', 'deflated.zip', data, '{}', '$fm_user') FROM samples WHERE name = 'batch5.zip';
SQL
wait_for rp_formats "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 60
for z in stored deflated; do
    t_expect "formats: a $z ZIP of five PDFs gives five completed résumés with its zip_id, none for the archive itself" "5|5|0" \
        "$(q -d rp_formats -c "SELECT count(*) || '|' || count(*) FILTER (WHERE r.status = 'completed' AND r.parsed #>> '{basics,name}' <> '') || '|' ||
                                      (SELECT count(*) FROM resume_pipeline.resumes x WHERE x.file_id = z.id)
                                 FROM resume_pipeline.files z JOIN resume_pipeline.resumes r ON r.zip_id = z.id
                                WHERE z.name = '$fm_user/$z.zip' GROUP BY z.id")"
done
out=$(q -d rp_formats -v ON_ERROR_STOP=0 2>&1 <<SQL
SELECT resume_pipeline.upload('resumes', 'cv.pdf', data, '{}', '$fm_user') FROM samples WHERE name = 'polyglot.bin';
\echo state=:SQLSTATE
SELECT 'files=' || count(*) FROM resume_pipeline.files WHERE name = '$fm_user/cv.pdf';
SQL
)
if grep -q "state=0A000" <<<"$out" && grep -q "polyglot" <<<"$out" && grep -q "files=0" <<<"$out"; then
    t_pass "formats: a PDF/ZIP polyglot is refused at upload with 0A000, and nothing is stored"
else
    t_fail "formats: a PDF/ZIP polyglot is refused at upload with 0A000, and nothing is stored" "$out"
fi
q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "SELECT pg_reload_conf()" >/dev/null
