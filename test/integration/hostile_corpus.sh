# Every file in ../shared/corpus/hostile gives its documented outcome through pdf_text and
# document_text — text, or an ERROR with the SQLSTATE below — and the same session then runs
# SELECT 1. The two readable résumés among them must also yield their candidate's name, and the
# scanned one (read by OCR) its e-mail.
declare -A hostile_expected=(
    [resume_rtl_two_column_best_resume_ever.pdf]=00000
    [resume_chinese_moderncv_template.pdf]=00000
    [encrypted_aes256_user_password_required.pdf]=0A000            # needs a password
    [encrypted_rc4_owner_password_only.pdf]=00000                  # empty user password: opens
    [corrupted_flate_stream_zen_of_python.pdf]=00000               # poppler recovers the text
    [cjk_nonembedded_font_no_unicode_pdfplumber_932.pdf]=00000     # little text: read by OCR, no error
    [empty_zero_bytes.pdf]=22P03
    [invalid_header_and_eof_only.pdf]=22P03
    [scanned_image_only_book_page.pdf]=00000                       # no text layer: read by OCR
    [text_as_vector_outlines.pdf]=00000                            # no text layer: read by OCR
    [font_without_unicode_mapping.pdf]=00000                       # garbage glyphs, no error
    [derived_resume_truncated_sb2nov.pdf]=22P03                    # no xref table
    [derived_resume_scanned_image_only_bruce_wayne.pdf]=00000
    [derived_resume_encrypted_user_password_latexcv_classic.pdf]=0A000
)
declare -A hostile_name_in_text=(
    [resume_rtl_two_column_best_resume_ever.pdf]=1
    [resume_chinese_moderncv_template.pdf]=1
)
# Scans whose text comes from OCR: their truth's e-mail is found (the name is set in a display
# face OCR misreads).
declare -A hostile_email_in_text=(
    [derived_resume_scanned_image_only_bruce_wayne.pdf]=1
)

if [ ! -d "$CORPUS/hostile" ]; then
    t_skip "hostile corpus" "$CORPUS/hostile is absent (../shared not checked out)"
else
    fresh_db rp_hostile
    load_files rp_hostile hostile "$CORPUS"/hostile/*.pdf
    load_files rp_hostile truths "$CORPUS"/hostile/*.truth.json
    for path in "$CORPUS"/hostile/*.pdf; do
        file=$(basename "$path")
        expected=${hostile_expected[$file]:-}
        if [ -z "$expected" ]; then
            t_fail "hostile $file: has a documented outcome in test/integration/hostile_corpus.sh"
            continue
        fi
        for fn in pdf_text document_text; do
            name_check=
            if [ -n "${hostile_name_in_text[$file]:-}" ]; then
                name_check="SELECT 'name_found=' || (strpos(norm(resume_pipeline.$fn(h.data)),
                    norm(convert_from(t.data, 'UTF8')::jsonb->>'name')) > 0)
                FROM hostile h JOIN truths t ON t.name = replace(h.name, '.pdf', '.truth.json')
                WHERE h.name = '$file';"
            fi
            if [ -n "${hostile_email_in_text[$file]:-}" ]; then
                name_check="SELECT 'name_found=' || (strpos(resume_pipeline.$fn(h.data),
                    convert_from(t.data, 'UTF8')::jsonb->>'email') > 0)
                FROM hostile h JOIN truths t ON t.name = replace(h.name, '.pdf', '.truth.json')
                WHERE h.name = '$file';"
            fi
            out=$(psql -X -q -A -t -d rp_hostile 2>&1 <<SQL
SELECT 'chars=' || length(resume_pipeline.$fn(data)) FROM hostile WHERE name = '$file';
\echo state=:SQLSTATE
$name_check
SELECT 'alive=' || 1;
SQL
            )
            state=$(sed -n 's/^state=//p' <<<"$out")
            label="hostile $fn $file: SQLSTATE $expected, then SELECT 1 works"
            if [ "$state" = "$expected" ] && grep -qx 'alive=1' <<<"$out" && { [ -z "$name_check" ] || grep -qx 'name_found=true' <<<"$out"; }; then
                t_pass "$label"
            else
                t_fail "$label" "$out"
            fi
        done
    done
fi
