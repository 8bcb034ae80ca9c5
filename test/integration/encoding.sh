# The parser speaks UTF-8; a database in another encoding gets converted text, and a character
# it cannot hold is an error (22P05), never mojibake.
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_latin1" \
    -c "CREATE DATABASE rp_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
q -d rp_latin1 -c "CREATE EXTENSION resume_pipeline" >/dev/null
load_files rp_latin1 docs build/samples/ada_whitfield.pdf

got=$(PGCLIENTENCODING=UTF8 q -d rp_latin1 -c "SELECT resume_pipeline.document_text(convert_to('Mateo Álvarez Ruiz, València', 'UTF8'))")
t_expect "LATIN1 database: accented text arrives converted" "Mateo Álvarez Ruiz, València" "$got"

out=$(psql -X -q -A -t -d rp_latin1 2>&1 <<'SQL'
SELECT resume_pipeline.pdf_text(data) FROM docs WHERE name = 'ada_whitfield.pdf';
\echo state=:SQLSTATE
SQL
)
# Ada's résumé uses an em dash, which LATIN1 lacks.
if grep -qx 'state=22P05' <<<"$out"; then
    t_pass "LATIN1 database: a character the encoding lacks is an error (22P05)"
else
    t_fail "LATIN1 database: a character the encoding lacks is an error (22P05)" "$out"
fi
