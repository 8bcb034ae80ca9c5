# Word 97-2003 (.doc), RTF and ODT résumés, read in the sandboxed parser process: document_text
# gives the résumé's text (field codes left out, Unicode and code-page text as UTF-8), upload() +
# process_pending() make completed résumés with name and e-mail, and damaged or refused files
# give a clear error with the right SQLSTATE, and a failed résumé through the pipeline.
# Samples: test/data/word (made with LibreOffice, see regenerate.sh); damaged variants are built
# from them by test/data/word/damaged.sh.
wf_dir=build/word_formats
rm -rf "$wf_dir"
bash test/data/word/damaged.sh "$wf_dir"
fresh_db rp_word
load_files rp_word word test/data/word/cv_*.doc test/data/word/cv_*.rtf test/data/word/cv_*.odt "$wf_dir"/*
wf_user=aaaaaaaa-0000-4000-8000-0000000000f1

t_expect "word formats: document_kind names each format from its bytes" "doc|odt|rtf|doc|odt|rtf" \
    "$(q -d rp_word -c "SELECT string_agg(resume_pipeline.document_kind(data), '|' ORDER BY name) FROM word WHERE name LIKE 'cv\_%'")"

# text_has FILE PATTERN... — every pattern is in document_text(FILE), "HYPERLINK" (a field code) is not.
text_has() {
    local file=$1 text
    shift
    text=$(q -d rp_word -c "SELECT resume_pipeline.document_text(data) FROM word WHERE name = '$file'" 2>&1)
    local missing=
    for pattern in "$@"; do grep -qF -- "$pattern" <<<"$text" || missing+="'$pattern' "; done
    grep -q HYPERLINK <<<"$text" && missing+="(field code HYPERLINK shown) "
    if [ -z "$missing" ]; then
        t_pass "word formats: document_text of $file has the résumé's text"
    else
        t_fail "word formats: document_text of $file has the résumé's text" "missing: $missing"$'\n'"$text"
    fi
}
for ext in doc rtf odt; do
    text_has "cv_ada.$ext" "Ada Whitfield" "ada.whitfield@example.com" "Café Numérique Ltd — 2019 to present" \
        "University of Leeds" "Python, SQL, Kafka, Airflow"
    text_has "cv_lukasz.$ext" "Łukasz Wiśniewski" "Łódź, Poland" "Żółta Firma" "Работал с PostgreSQL и Go."
done
t_expect "word formats: a .doc table row is one line, its cells separated by tabs" \
    "University of Leeds	B.Sc. Mathematics	2015" \
    "$(q -d rp_word -c "SELECT resume_pipeline.document_text(data) FROM word WHERE name = 'cv_ada.doc'" | grep Leeds)"

# Through the pipeline: upload() makes pending résumés, process_pending() reads them in the session.
q -d rp_word >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', name, data, '{}', '$wf_user') FROM word
 WHERE name LIKE 'cv\_%' OR name IN ('truncated.doc', 'bad_ole2.doc', 'encrypted.doc', 'workbook.xls',
                                     'truncated.rtf', 'unbalanced.rtf', 'deep.rtf', 'broken_xml.odt');
SELECT resume_pipeline.process_pending();
SQL
for ext in doc rtf odt; do
    t_expect "word formats: cv_ada.$ext through upload() and process_pending() is a completed résumé with name and e-mail" \
        "completed|Ada Whitfield|ada.whitfield@example.com" \
        "$(q -d rp_word -c "SELECT status || '|' || coalesce(parsed #>> '{basics,name}', '') || '|' || coalesce(parsed #>> '{basics,email}', '')
                              FROM resume_pipeline.resumes WHERE object_name = '$wf_user/cv_ada.$ext'")"
    t_expect "word formats: cv_lukasz.$ext through the pipeline keeps the Polish name and finds the e-mail" \
        "completed|Łukasz Wiśniewski|lukasz.wisniewski@example.org" \
        "$(q -d rp_word -c "SELECT status || '|' || coalesce(parsed #>> '{basics,name}', '') || '|' || coalesce(parsed #>> '{basics,email}', '')
                              FROM resume_pipeline.resumes WHERE object_name = '$wf_user/cv_lukasz.$ext'")"
done

# Damaged and refused files: SQLSTATE and message from document_text, then a failed résumé
# carrying the same message. The session goes on after each error.
declare -A wf_state=(
    [truncated.doc]="22P03|Word document is damaged: not a readable OLE2 compound file"
    [bad_ole2.doc]="22P03|Word document is damaged: not a readable OLE2 compound file"
    [encrypted.doc]="0A000|Word document is encrypted: it needs a password to open"
    [workbook.xls]="0A000|unsupported document: found an Excel workbook (.xls)"
    [truncated.rtf]="22P03|RTF is truncated"
    [unbalanced.rtf]="22P03|RTF is damaged: a '}' closes no group"
    [deep.rtf]="54000|RTF groups nest deeper than 256 levels"
    [broken_xml.odt]="22P03|ODT content.xml is not well-formed XML"
)
for file in truncated.doc bad_ole2.doc encrypted.doc workbook.xls truncated.rtf unbalanced.rtf deep.rtf broken_xml.odt; do
    IFS='|' read -r state message <<<"${wf_state[$file]}"
    out=$(psql -X -q -A -t -d rp_word 2>&1 <<SQL
SELECT resume_pipeline.document_text(data) FROM word WHERE name = '$file';
\echo state=:SQLSTATE
SELECT 'alive=' || 1;
SQL
    )
    if grep -qx "state=$state" <<<"$out" && grep -qF -- "$message" <<<"$out" && grep -qx 'alive=1' <<<"$out"; then
        t_pass "word formats: document_text of $file fails with $state and a clear message"
    else
        t_fail "word formats: document_text of $file fails with $state and a clear message" "$out"
    fi
    row=$(q -d rp_word -c "SELECT status || '|' || coalesce(error, '') FROM resume_pipeline.resumes WHERE object_name = '$wf_user/$file'")
    if [[ "$row" == failed\|* ]] && grep -qF -- "$message" <<<"$row"; then
        t_pass "word formats: $file through the pipeline is a failed résumé with its reason"
    else
        t_fail "word formats: $file through the pipeline is a failed résumé with its reason" "$row"
    fi
done
