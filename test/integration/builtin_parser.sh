# The built-in parser over ../shared/corpus/resumes, through the real pipeline functions
# (pdf_text → parse_resume_builtin): per field, the mean share of each file's truth values it
# finds, matched as MANIFEST.md describes (NFKC, case folding, white-space folding; urls without
# scheme, "www." and trailing "/"; phones by their digits; employers and schools by containment
# either way, the shorter side at least 3 characters). Each field has a floor at the level
# reached when the parser was written; a drop below it fails.
declare -A parser_floor=([name]=0.95 [email]=1.00 [phone]=1.00 [urls]=1.00 [employers]=0.96 [schools]=0.94)

if [ ! -d "$CORPUS/resumes" ]; then
    t_skip "built-in parser accuracy" "$CORPUS/resumes is absent (../shared not checked out)"
else
    fresh_db rp_parser
    load_files rp_parser pdfs "$CORPUS"/resumes/*.pdf
    load_files rp_parser truths "$CORPUS"/resumes/*.truth.json
    shares=$(q -d rp_parser <<'SQL'
CREATE FUNCTION url_norm(u text) RETURNS text LANGUAGE sql IMMUTABLE
    RETURN rtrim(regexp_replace(regexp_replace(norm(u), '^[a-z]+://', ''), '^www\.', ''), '/');
CREATE FUNCTION contains_either(a text, b text) RETURNS boolean LANGUAGE sql IMMUTABLE
    RETURN norm(a) = norm(b) OR (least(length(norm(a)), length(norm(b))) >= 3
                                 AND (strpos(norm(a), norm(b)) > 0 OR strpos(norm(b), norm(a)) > 0));
CREATE TABLE cases AS
SELECT p.name AS file, convert_from(t.data, 'UTF8')::jsonb AS truth,
       resume_pipeline.parse_resume_builtin(resume_pipeline.pdf_text(p.data)) AS got
  FROM pdfs p JOIN truths t ON t.name = replace(p.name, '.pdf', '.truth.json');
-- One row per (file, field) with a truth value: the share of its truth items found.
CREATE TABLE scores AS
SELECT file, 'name' AS field, coalesce(norm(got #>> '{basics,name}') = norm(truth ->> 'name'), false)::int::numeric AS share
  FROM cases WHERE truth ->> 'name' IS NOT NULL
UNION ALL
SELECT file, 'email', coalesce(norm(got #>> '{basics,email}') = norm(truth ->> 'email'), false)::int
  FROM cases WHERE truth ->> 'email' IS NOT NULL
UNION ALL
SELECT file, 'phone', coalesce(regexp_replace(got #>> '{basics,phone}', '\D', '', 'g') = regexp_replace(truth ->> 'phone', '\D', '', 'g'), false)::int
  FROM cases WHERE truth ->> 'phone' IS NOT NULL
UNION ALL
SELECT file, 'urls', avg((EXISTS (
           SELECT 1 FROM (SELECT got #>> '{basics,url}' AS u
                          UNION ALL SELECT p ->> 'url' FROM jsonb_array_elements(got #> '{basics,profiles}') p) g
            WHERE url_norm(g.u) = url_norm(t.u)))::int)
  FROM cases, jsonb_array_elements_text(truth -> 'urls') t(u)
 GROUP BY file
UNION ALL
SELECT file, 'employers', avg((EXISTS (
           SELECT 1 FROM jsonb_array_elements(got -> 'work') w WHERE contains_either(w ->> 'name', t.e)))::int)
  FROM cases, jsonb_array_elements_text(truth -> 'employers') t(e)
 GROUP BY file
UNION ALL
SELECT file, 'schools', avg((EXISTS (
           SELECT 1 FROM jsonb_array_elements(got -> 'education') ed WHERE contains_either(ed ->> 'institution', t.s)))::int)
  FROM cases, jsonb_array_elements_text(truth -> 'schools') t(s)
 GROUP BY file;
SELECT field || ' ' || round(avg(share), 3) || ' ' || count(*) FROM scores GROUP BY field ORDER BY field;
SQL
    )
    echo "# built-in parser over $(q -d rp_parser -c 'SELECT count(*) FROM cases') corpus résumés (field, mean share, files):"
    sed 's/^/#   /' <<<"$shares"
    for field in name email phone urls employers schools; do
        read -r _ share files < <(grep "^$field " <<<"$shares")
        floor=${parser_floor[$field]}
        if [ -n "${share:-}" ] && awk -v s="$share" -v f="$floor" 'BEGIN { exit !(s >= f) }'; then
            t_pass "built-in parser $field: $share over $files files (floor $floor)"
        else
            t_fail "built-in parser $field: share ${share:-none} fell below its floor $floor"
        fi
    done
fi
