# Every résumé PDF in ../shared/corpus/resumes: pdf_text and document_text contain the name
# and email from its .truth.json, compared after NFKC, case folding and white-space folding
# (MANIFEST.md). Where the truth's notes say a value is not in the text layer as printed:
# letter-spaced values must appear once spaces are removed; values drawn as outlines are skipped.
declare -A not_in_text_layer=(
    [best_resume_ever_qt_name_not_in_text_layer.pdf:name]="absent: name drawn as vector outlines"
    [best_resume_ever_material_dark.pdf:name]="spaced: name letter-spaced ('J O H N D O E')"
    [best_resume_ever_side_bar_letterspaced.pdf:email]="spaced: email letter-spaced ('j o h n . d o e @ …')"
)

if [ ! -d "$CORPUS/resumes" ]; then
    t_skip "corpus text" "$CORPUS/resumes is absent (../shared not checked out)"
else
    fresh_db rp_corpus
    load_files rp_corpus pdfs "$CORPUS"/resumes/*.pdf
    load_files rp_corpus truths "$CORPUS"/resumes/*.truth.json
    q -d rp_corpus -c "CREATE TABLE cases AS
        SELECT p.name, convert_from(t.data, 'UTF8')::jsonb AS truth, p.data
        FROM pdfs p JOIN truths t ON t.name = replace(p.name, '.pdf', '.truth.json')"
    for fn in pdf_text document_text; do
        q -d rp_corpus -c "CREATE TABLE text_$fn AS SELECT name, norm(resume_pipeline.$fn(data)) AS t FROM cases" ||
            t_fail "corpus: $fn over every résumé PDF runs without error"
        while IFS='|' read -r file field value found found_despaced; do
            label="corpus $fn $file: $field"
            exception=${not_in_text_layer[$file:$field]:-}
            case $exception in
                absent:*) t_skip "$label" "${exception#absent: }"; continue ;;
                spaced:*) label+=" (${exception#spaced: }, compared without spaces)"; found=$found_despaced ;;
            esac
            if [ "$found" = t ]; then
                t_pass "$label"
            else
                t_fail "$label" "\"$value\" not found in the extracted text"
            fi
        done < <(q -d rp_corpus -c "
            SELECT c.name, f.field, f.value, strpos(x.t, norm(f.value)) > 0,
                   strpos(replace(x.t, ' ', ''), replace(norm(f.value), ' ', '')) > 0
            FROM cases c JOIN text_$fn x USING (name),
                 LATERAL (VALUES ('name', c.truth->>'name'), ('email', c.truth->>'email')) f(field, value)
            WHERE f.value IS NOT NULL ORDER BY 1, 2")
    done
fi
