# OCR of scans and photos (resume_pipeline.ocr): a scanned résumé PDF (an image on each page, no
# text layer, turned a degree) and the same page as a PNG, JPEG and TIFF give the sample's name,
# e-mail and phone through document_text; through upload() the résumé completes with the built-in
# parser's fields and text_source = 'ocr', in the session (process_pending) and in a worker. With
# OCR off a scan is refused (0A000) with a message that says so. Bombs are limit errors (54000)
# within seconds: more pages without a text layer than ocr_max_pages, a PNG header declaring
# 100000 × 100000 pixels, a 200-inch PDF page. A text PDF is never rendered (pdf_info's
# ocr_pages is empty, its text is the text layer).
fresh_db rp_ocr
fx=build/fixtures
load_files rp_ocr docs build/samples/ada_whitfield.pdf "$fx"/ocr_photo.png "$fx"/ocr_photo.jpg "$fx"/ocr_photo.tif \
    "$fx"/ocr_scan.pdf "$fx"/ocr_many_pages.pdf "$fx"/ocr_pixel_bomb.png "$fx"/ocr_huge_page.pdf
ocr_user=aaaaaaaa-0000-4000-8000-0000000000c1

# Name, e-mail and phone of the sample in a text, as "name|email|phone" booleans.
ocr_found="norm(t) LIKE '%ada whitfield%' AND t LIKE '%ada.whitfield@example.com%' AND t LIKE '%503 555 0142%'"
for f in ocr_scan.pdf ocr_photo.png ocr_photo.jpg ocr_photo.tif; do
    t_expect "ocr: document_text of $f holds the sample's name, e-mail and phone" "t" \
        "$(q -d rp_ocr -c "SELECT $ocr_found FROM (SELECT resume_pipeline.document_text(data) AS t FROM docs WHERE name = '$f') s" 2>&1)"
done
t_expect "ocr: pdf_info of the scan names its page as read by OCR; of a text PDF, none" '[1]|[]' \
    "$(q -d rp_ocr -c "SELECT string_agg((resume_pipeline.pdf_info(data) -> 'ocr_pages')::text, '|' ORDER BY name DESC)
                        FROM docs WHERE name IN ('ocr_scan.pdf', 'ada_whitfield.pdf')")"
t_expect "ocr: a text PDF's text is its text layer (not OCR: pdf_text equals the layer poppler prints)" "t" \
    "$(q -d rp_ocr -c "SELECT resume_pipeline.pdf_text(data) LIKE 'Ada Whitfield' || E'\n' || 'Backend Engineer · Portland, Oregon%'
                        FROM docs WHERE name = 'ada_whitfield.pdf'")"

# Through the pipeline in this session: upload, process_pending, the built-in parser's fields.
q -d rp_ocr >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'scan.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ocr_scan.pdf';
SELECT resume_pipeline.upload('resumes', 'photo.png', data, '{}', '$ocr_user') FROM docs WHERE name = 'ocr_photo.png';
SELECT resume_pipeline.upload('resumes', 'text.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ada_whitfield.pdf';
SELECT resume_pipeline.process_pending();
SQL
t_expect "ocr: through upload() and process_pending(), a scan and a photo complete with name, e-mail and phone, text_source ocr; the text PDF with text" \
    "photo.png|completed|Ada Whitfield|ada.whitfield@example.com|15035550142|ocr
scan.pdf|completed|Ada Whitfield|ada.whitfield@example.com|15035550142|ocr
text.pdf|completed|Ada Whitfield|ada.whitfield@example.com|15035550142|text" \
    "$(q -d rp_ocr -c "SELECT original_filename, status, parsed #>> '{basics,name}', parsed #>> '{basics,email}',
                              regexp_replace(parsed #>> '{basics,phone}', '\D', '', 'g'), text_source
                         FROM resume_pipeline.resumes ORDER BY original_filename")"

# A new version of the scan, now a text PDF: the row forgets that its text came from OCR until
# the new version is read.
t_expect "ocr: re-uploading scan.pdf as a text PDF clears text_source while pending, then records text" "pending|
completed|text" \
    "$(q -d rp_ocr -c "SELECT resume_pipeline.upload('resumes', 'scan.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ada_whitfield.pdf'" >/dev/null
       q -d rp_ocr -c "SELECT status || '|' || coalesce(text_source, '') FROM resume_pipeline.resumes WHERE original_filename = 'scan.pdf'"
       q -d rp_ocr -c "SELECT resume_pipeline.process_pending()" >/dev/null
       q -d rp_ocr -c "SELECT status || '|' || coalesce(text_source, '') FROM resume_pipeline.resumes WHERE original_filename = 'scan.pdf'")"

# OCR off: the scan and the image are refused, saying why; the text PDF is read as before.
out=$(q -d rp_ocr -v ON_ERROR_STOP=0 2>&1 <<SQL
SET resume_pipeline.ocr = off;
SELECT resume_pipeline.document_text(data) FROM docs WHERE name = 'ocr_scan.pdf';
\echo scan_state=:SQLSTATE
SELECT resume_pipeline.document_text(data) FROM docs WHERE name = 'ocr_photo.png';
\echo png_state=:SQLSTATE
SELECT 'text_ok=' || (resume_pipeline.document_text(data) LIKE 'Ada Whitfield%') FROM docs WHERE name = 'ada_whitfield.pdf';
SELECT 'ocr_pages=' || (resume_pipeline.pdf_info(data) -> 'ocr_pages')::text FROM docs WHERE name = 'ocr_scan.pdf';
SELECT resume_pipeline.upload('resumes', 'scan_ocr_off.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ocr_scan.pdf';
SELECT resume_pipeline.process_pending();
SELECT 'resume=' || status || '|' || error FROM resume_pipeline.resumes WHERE original_filename = 'scan_ocr_off.pdf';
SQL
)
if grep -q "scan_state=0A000" <<<"$out" && grep -q "no text layer" <<<"$out" && grep -q "png_state=0A000" <<<"$out" &&
    grep -q "OCR, which is off" <<<"$out" && grep -q "text_ok=true" <<<"$out" && grep -q "ocr_pages=\[\]" <<<"$out" &&
    grep -q "resume=failed|.*no text layer" <<<"$out"; then
    t_pass "ocr: with resume_pipeline.ocr off a scan and an image fail with 0A000 saying OCR is off (an uploaded scan fails); text PDFs are read"
else
    t_fail "ocr: with resume_pipeline.ocr off a scan and an image fail with 0A000 saying OCR is off (an uploaded scan fails); text PDFs are read" "$out"
fi
t_expect "ocr: only a superuser may turn OCR off or lift its limits" "42501" \
    "$(q -d rp_ocr -v ON_ERROR_STOP=0 -c "CREATE ROLE ocr_plain" -c "SET ROLE ocr_plain" -c "SET resume_pipeline.ocr_max_pages = 1000" \
         -c "\echo :SQLSTATE" -c "RESET ROLE" -c "DROP ROLE ocr_plain" 2>/dev/null | tail -1)"

# Bombs: a limit error, before anything is rendered or decoded, in seconds.
for case in "ocr_many_pages.pdf|ocr_max_pages" "ocr_pixel_bomb.png|ocr_max_megapixels" "ocr_huge_page.pdf|ocr_max_megapixels"; do
    f=${case%%|*}
    setting=${case#*|}
    start=$(date +%s%N)
    out=$(q -d rp_ocr -v ON_ERROR_STOP=0 2>&1 <<SQL
SELECT resume_pipeline.document_text(data) FROM docs WHERE name = '$f';
\echo state=:SQLSTATE
SELECT 'alive=' || 1;
SQL
    )
    ms=$((($(date +%s%N) - start) / 1000000))
    if grep -q "state=54000" <<<"$out" && grep -q "resume_pipeline.$setting" <<<"$out" && grep -qx "alive=1" <<<"$out" && [ "$ms" -lt 5000 ]; then
        t_pass "ocr: $f is a limit error (54000, $setting) in $ms ms, and the session goes on"
    else
        t_fail "ocr: $f is a limit error (54000, $setting) within 5 s, and the session goes on" "$ms ms: $out"
    fi
done

# A worker records text_source from the parser's answer.
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_ocr'" -c "SELECT pg_reload_conf()" >/dev/null
if wait_for rp_ocr "SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_ocr'" 30; then
    q -d rp_ocr >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'worker_scan.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ocr_scan.pdf';
SELECT resume_pipeline.upload('resumes', 'worker_text.pdf', data, '{}', '$ocr_user') FROM docs WHERE name = 'ada_whitfield.pdf';
SQL
    wait_for rp_ocr "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 120
    t_expect "ocr: a worker completes a scan with name, e-mail and phone and text_source ocr, a text PDF with text" \
        "worker_scan.pdf|completed|Ada Whitfield|ada.whitfield@example.com|ocr
worker_text.pdf|completed|Ada Whitfield|ada.whitfield@example.com|text" \
        "$(q -d rp_ocr -c "SELECT original_filename, status, parsed #>> '{basics,name}', parsed #>> '{basics,email}', text_source
                             FROM resume_pipeline.resumes WHERE original_filename LIKE 'worker_%' ORDER BY 1")"
else
    t_fail "ocr: a worker serves rp_ocr"
fi
q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "SELECT pg_reload_conf()" >/dev/null
