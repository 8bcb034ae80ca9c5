# Per-bucket rules (README "Storage rules: versions, size and types"): upload() keeps the last
# keep_versions versions of a key (rows and objects: the storage directory is looked at), refuses
# an object too large or of a type the bucket does not accept, decided from the content, before
# anything is stored; the rules are the owner's to change and everyone's to read; the per-user
# quota still holds; a rolled-back upload that pruned versions loses nothing; the storage.objects
# hook applies what it can; a dump brings the rules back.
br_user=aaaaaaaa-0000-4000-8000-0000000000e1
br_other=aaaaaaaa-0000-4000-8000-0000000000e2
fresh_db rp_br
load_files rp_br docs build/samples/ada_whitfield.pdf build/samples/jonas_becker.pdf \
    build/samples/priya_raghunathan.docx build/samples/batch.zip test/data/word/cv_ada.doc \
    build/fixtures/image.png
q -d rp_br >/dev/null <<'SQL'
GRANT SELECT ON docs TO PUBLIC;
-- An executable (a PE header and code bytes) and a version of a PDF with a different tail.
INSERT INTO docs VALUES ('program.exe', '\x4d5a90000300000004000000ffff0000b8000000000000004000'::bytea || decode(repeat('c3', 4000), 'hex'));
CREATE FUNCTION pdf_v(i int) RETURNS bytea LANGUAGE sql
    RETURN (SELECT data FROM docs WHERE name = 'ada_whitfield.pdf') || convert_to(E'\n% version ' || i || E'\n', 'UTF8');
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_br_user') THEN
        CREATE ROLE rp_br_user LOGIN IN ROLE resume_pipeline_user;
    END IF;
END $$;
SQL
br_oid=$(q -c "SELECT oid FROM pg_database WHERE datname = 'rp_br'")
br_objects="$RP_CLUSTER_DIR/data/resume_pipeline_storage/$br_oid/objects"
# br_on_disk ID... — how many of these objects are files in the storage directory.
br_on_disk() {
    local n=0 id
    for id in "$@"; do as_pg test -f "$br_objects/${id:0:2}/$id" && n=$((n + 1)); done
    echo "$n"
}
br_disk_total() { as_pg find "$br_objects" -type f 2>/dev/null | wc -l; }
# br_as_user — psql in rp_br as a member of resume_pipeline_user signed in as br_user; errors
# do not stop it.
br_as_user() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$br_user\"}" psql -X -q -A -t -d rp_br -U rp_br_user -v ON_ERROR_STOP=0 2>&1
}
# br_state — what a refused upload must not change: rows, jobs, résumés and objects on disk.
br_state() {
    echo "$(q -d rp_br -c "SELECT (SELECT count(*) FROM resume_pipeline.files) || ' files ' ||
        (SELECT count(*) FROM resume_pipeline.jobs) || ' jobs ' || (SELECT count(*) FROM resume_pipeline.resumes) || ' resumes'") $(br_disk_total) objects"
}

# The rules as installed, readable by users (the table and bucket_rule()), which the default
# row answers for a bucket without its own.
t_expect "bucket_rules: a user reads the rules: '*' (5 versions, 50 MB, pdf/doc/docx/zip) and 'resumes'" \
    "*|5|52428800|{pdf,doc,docx,zip} resumes|5|52428800|{pdf,docx,doc,odt,rtf,png,jpeg,tiff,zip,text} cvs:*|5" \
    "$(br_as_user <<'SQL' | tr '\n' ' ' | sed 's/ $//'
SELECT bucket || '|' || keep_versions || '|' || max_size || '|' || allowed_types::text FROM resume_pipeline.bucket_rules ORDER BY bucket;
SELECT 'cvs:' || r.bucket || '|' || r.keep_versions FROM resume_pipeline.bucket_rule('cvs') r;
SQL
)"
out=$(br_as_user <<'SQL'
INSERT INTO resume_pipeline.bucket_rules (bucket, keep_versions) VALUES ('mine', 1000);
\echo :LAST_ERROR_SQLSTATE
UPDATE resume_pipeline.bucket_rules SET max_size = 1e12 WHERE bucket = '*';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM resume_pipeline.bucket_rules;
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.prune_versions();
\echo :LAST_ERROR_SQLSTATE
SQL
)
t_expect "bucket_rules: a user can neither insert, update nor delete rules, nor prune (42501 each), and nothing changed" \
    "42501 42501 42501 42501 2|52428800" \
    "$(grep -E '^[0-9A-Z]{5}$' <<<"$out" | tr '\n' ' ')$(q -d rp_br -c "SELECT count(*) || '|' || min(max_size) FROM resume_pipeline.bucket_rules")"
t_expect "bucket_rules: the owner's rules are checked (keep_versions 1..1000, max_size > 0, known types only)" "23514 23514 23514 23514" \
    "$(q -d rp_br -v ON_ERROR_STOP=0 2>&1 <<'SQL' | grep -E '^[0-9A-Z]{5}$' | tr '\n' ' ' | sed 's/ $//'
INSERT INTO resume_pipeline.bucket_rules (bucket, keep_versions) VALUES ('x', 0);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO resume_pipeline.bucket_rules (bucket, max_size) VALUES ('x', 0);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO resume_pipeline.bucket_rules (bucket, allowed_types) VALUES ('x', '{pdf,exe}');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO resume_pipeline.bucket_rules (bucket) VALUES ('../x');
\echo :LAST_ERROR_SQLSTATE
SQL
)"

# 1. Seven uploads of one key in a bucket under the default rule: five versions kept.
ids=()
for i in 1 2 3 4 5 6 7; do
    q -d rp_br -c "SELECT resume_pipeline.upload('cvs', 'cv.pdf', pdf_v($i), '{}', '$br_user')" >/dev/null
    ids+=("$(q -d rp_br -c "SELECT object_id FROM resume_pipeline.files WHERE name = '$br_user/cv.pdf'")")
done
t_expect "versions: 7 uploads of one key keep 5 rows, versions 3 to 7, the current one (7) under the key, one id throughout" \
    "5|3,4,5,6,7|7|1" \
    "$(q -d rp_br -c "SELECT count(*) || '|' || string_agg(f.version::text, ',' ORDER BY f.version) || '|' ||
                             max(c.version) || '|' || count(DISTINCT coalesce(f.version_of, f.id))
                        FROM resume_pipeline.files f JOIN resume_pipeline.files c ON c.name = '$br_user/cv.pdf'
                       WHERE f.id = c.id OR f.version_of = c.id")"
t_expect "versions: on disk, the objects of versions 3 to 7 are there and those of 1 and 2 are gone" "5 0" \
    "$(br_on_disk "${ids[@]:2}") $(br_on_disk "${ids[@]:0:2}")"
t_expect "versions: the current version and a kept older one read back (storage_get of the key, and of <key>//v3)" "t t" \
    "$(br_as_user <<SQL | tr '\n' ' ' | sed 's/ $//'
SELECT resume_pipeline.storage_get('cvs', '$br_user/cv.pdf') = (SELECT pdf_v(7));
SELECT resume_pipeline.storage_get('cvs', '$br_user/cv.pdf//v3') = (SELECT pdf_v(3));
SQL
)"
t_expect "versions: the résumé is at version 7 with 4 earlier versions (3 to 6), each naming the row that keeps its bytes" \
    "7|3,4,5,6|4" \
    "$(q -d rp_br -c "SELECT r.version || '|' || string_agg(v.version::text, ',' ORDER BY v.version) || '|' ||
                             count(f.id) FILTER (WHERE f.version = v.version)
                        FROM resume_pipeline.resumes r JOIN resume_pipeline.resume_versions v ON v.resume_id = r.id
                        LEFT JOIN resume_pipeline.files f ON f.id = v.file_id
                       WHERE r.object_name = '$br_user/cv.pdf' GROUP BY r.version")"
t_expect "versions: the same bytes again make no version; every object on disk is named by a row" "7|5|0" \
    "$(q -d rp_br -c "SELECT resume_pipeline.upload('cvs', 'cv.pdf', pdf_v(7), '{}', '$br_user')" \
         -c "SELECT f.version || '|' || (SELECT count(*) FROM resume_pipeline.files v WHERE v.version_of = f.id) + 1 || '|' ||
                    (SELECT count(*) FROM resume_pipeline._storage_list() l
                      WHERE NOT EXISTS (SELECT 1 FROM resume_pipeline.files x WHERE x.object_id = l.object_id))
               FROM resume_pipeline.files f WHERE f.name = '$br_user/cv.pdf'" | tail -1)"

# 2. A bucket that keeps 2 versions.
q -d rp_br -c "INSERT INTO resume_pipeline.bucket_rules (bucket, keep_versions) VALUES ('two', 2)" >/dev/null
two=()
for i in 1 2 3 4; do
    q -d rp_br -c "SELECT resume_pipeline.upload('two', 'cv.pdf', pdf_v($i), '{}', '$br_user')" >/dev/null
    two+=("$(q -d rp_br -c "SELECT object_id FROM resume_pipeline.files WHERE bucket = 'two' AND name = '$br_user/cv.pdf'")")
done
t_expect "keep_versions 2: 4 uploads keep versions 3 and 4 (rows, objects on disk), one earlier résumé version" \
    "3,4|2 0|1" \
    "$(q -d rp_br -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'")|$(br_on_disk "${two[@]:2}") $(br_on_disk "${two[@]:0:2}")|$(q -d rp_br -c "SELECT count(*) FROM resume_pipeline.resume_versions v JOIN resume_pipeline.resumes r ON r.id = v.resume_id WHERE r.bucket = 'two'")"

# 3. A rolled-back upload that pruned a version: rows and objects all come back.
before_rows=$(q -d rp_br -c "SELECT string_agg(id || ':' || version || ':' || object_id, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'")
disk_before=$(br_disk_total)
inside=$(q -d rp_br -c "BEGIN" -c "SELECT resume_pipeline.upload('two', 'cv.pdf', pdf_v(5), '{}', '$br_user')" \
    -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'" -c "ROLLBACK" | tail -1)
t_expect "rollback: inside the transaction version 3 was pruned (4, 5 left); after ROLLBACK the rows are as before, version 3's object is on disk, the new object is gone" \
    "4,5|t|2|$disk_before" \
    "$inside|$([ "$before_rows" = "$(q -d rp_br -c "SELECT string_agg(id || ':' || version || ':' || object_id, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'")" ] && echo t || echo f)|$(br_on_disk "${two[@]:2}")|$(br_disk_total)"

# 4. A version an applicant's CV names is kept beyond keep_versions, until nothing names it.
q -d rp_br >/dev/null <<SQL
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
SELECT user_id, id FROM resume_pipeline.files WHERE bucket = 'two' AND version = 3;
SELECT resume_pipeline.upload('two', 'cv.pdf', pdf_v(5), '{}', '$br_user');
SELECT resume_pipeline.upload('two', 'cv.pdf', pdf_v(6), '{}', '$br_user');
SQL
kept=$(q -d rp_br -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'")
q -d rp_br -c "DELETE FROM resume_pipeline.applicants" -c "SELECT resume_pipeline.upload('two', 'cv.pdf', pdf_v(7), '{}', '$br_user')" >/dev/null
t_expect "referenced: version 3, an applicant's cv_file_id, stays while named (3,5,6) and goes at the next upload after (6,7)" \
    "3,5,6 6,7" "$kept $(q -d rp_br -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM resume_pipeline.files WHERE bucket = 'two'")"

# 5. Size: over the bucket's max_size (the default 50 MB, and a bucket's own) is refused first.
q -d rp_br -c "INSERT INTO resume_pipeline.bucket_rules (bucket, max_size, allowed_types) VALUES ('small', 100000, '{pdf}')" >/dev/null
state=$(br_state)
out=$(q -d rp_br -v ON_ERROR_STOP=0 2>&1 <<SQL
SELECT resume_pipeline.upload('cvs', 'huge.pdf', (SELECT pdf_v(1)) || decode(repeat('00', 52428800), 'hex'), '{}', '$br_user');
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.upload('small', 'big.pdf', (SELECT pdf_v(1)) || decode(repeat('00', 100000), 'hex'), '{}', '$br_user');
\echo :LAST_ERROR_SQLSTATE
SQL
)
t_expect "size: 50 MB + a PDF to the default rule, and 100 kB + a PDF to a 100 kB bucket, are refused with 54000 naming the limit; nothing is stored" \
    "54000 54000 2 $state" \
    "$(grep -E '^[0-9A-Z]{5}$' <<<"$out" | tr '\n' ' ')$(grep -cE 'bucket "(cvs|small)" accepts at most (52428800|100000) bytes' <<<"$out") $(br_state)"

# 6. Types, from the content whatever the name.
out=$(br_as_user <<'SQL'
SELECT resume_pipeline.upload('cvs', 'cv1.pdf', data) FROM docs WHERE name = 'program.exe';
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.upload('cvs', 'cv2.pdf', data) FROM docs WHERE name = 'image.png';
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.upload('small', 'cv3.pdf', data) FROM docs WHERE name = 'batch.zip';
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.upload('small', 'cv4.pdf', data) FROM docs WHERE name = 'priya_raghunathan.docx';
\echo :LAST_ERROR_SQLSTATE
SQL
)
t_expect "types: an EXE and a PNG named .pdf (default rule), a ZIP and a DOCX named .pdf (a pdf-only bucket) are refused by content (0A000); nothing is stored" \
    "0A000 0A000 0A000 0A000 4 $state" \
    "$(grep -E '^[0-9A-Z]{5}$' <<<"$out" | tr '\n' ' ')$(grep -cE 'by its content, "cv[1-4].pdf" is (data of no document type|a PNG image|a ZIP archive|a Word document \(DOCX\))[ (),a-z]*, which bucket "(cvs|small)" does not accept' <<<"$out") $(br_state)"
grep -q 'Bucket "cvs" accepts: pdf, doc, docx, zip.' <<<"$out" &&
    t_pass "types: the refusal lists what the bucket accepts" ||
    t_fail "types: the refusal lists what the bucket accepts" "$out"

# 7. What the default rule accepts: PDF, DOCX, DOC become résumés and are read; a ZIP batch is
# expanded and its entries are read.
out=$(br_as_user <<'SQL'
SELECT count(resume_pipeline.upload('cvs', 'in/' || name, data)) FROM docs
 WHERE name IN ('jonas_becker.pdf', 'priya_raghunathan.docx', 'cv_ada.doc', 'batch.zip');
SELECT resume_pipeline.process_pending();
SELECT 'kinds=' || string_agg(DISTINCT document_kind, ',' ORDER BY document_kind) FROM (
    SELECT resume_pipeline.document_kind(resume_pipeline.storage_get(bucket, object_name)) FROM resume_pipeline.resumes
     WHERE object_name LIKE '%/in/%' AND zip_id IS NULL) k(document_kind);
SELECT 'direct=' || count(*) FILTER (WHERE status = 'completed') || '/' || count(*) FROM resume_pipeline.resumes WHERE object_name LIKE '%/in/%' AND zip_id IS NULL;
SELECT 'batch=' || b.completed || '/' || b.total FROM resume_pipeline.files f, resume_pipeline.batch_progress(f.id) b WHERE f.name LIKE '%/in/batch.zip';
SQL
)
t_expect "accepted: a PDF, a DOCX and a DOC upload become completed résumés; a ZIP batch is expanded and read" \
    "kinds=doc,docx,pdf direct=3/3 batch=3/3" \
    "$(grep -oE '^(kinds|direct|batch)=.*' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"

# 8. The per-user quota holds, counting the versions kept; pruning frees what it removes.
out=$(q -d rp_br -v ON_ERROR_STOP=0 2>&1 <<SQL
SET resume_pipeline.max_user_objects = 3;
SELECT resume_pipeline.upload('cvs', 'q1.pdf', pdf_v(1), '{}', '$br_other');
SELECT resume_pipeline.upload('cvs', 'q1.pdf', pdf_v(2), '{}', '$br_other');
SELECT resume_pipeline.upload('cvs', 'q2.pdf', pdf_v(1), '{}', '$br_other');
SELECT resume_pipeline.upload('cvs', 'q3.pdf', pdf_v(1), '{}', '$br_other');
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.upload('two', 'q1.pdf', pdf_v(1), '{}', '$br_other');
\echo :LAST_ERROR_SQLSTATE
SET resume_pipeline.max_user_objects = 5;
SELECT count(resume_pipeline.upload('two', 'q1.pdf', pdf_v(i), '{}', '$br_other')) FROM generate_series(1, 6) i;
SELECT 'objects=' || count(*) FROM resume_pipeline.files WHERE user_id = '$br_other';
RESET resume_pipeline.max_user_objects;
SET resume_pipeline.max_user_storage = '60kB';
SELECT resume_pipeline.upload('cvs', 'q2.pdf', pdf_v(2), '{}', '$br_other');
\echo :LAST_ERROR_SQLSTATE
SQL
)
t_expect "quota: with 3 objects allowed, two versions of q1 and q2 fill it (q3 refused, 54000; a 4th object elsewhere too); with 5, six versions in a keep-2 bucket fit (5 objects); a new version past max_user_storage is refused (54000)" \
    "54000 54000 objects=5 54000" \
    "$(grep -E '^([0-9A-Z]{5}|objects=[0-9]+)$' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"

# 9. prune_versions() applies a lowered keep_versions now.
t_expect "prune_versions: after 'cvs' is lowered to 3 versions, the owner's prune_versions('cvs') removes 2 file versions and 2 résumé versions of cv.pdf" \
    "4|5,6,7|5,6" \
    "$(q -d rp_br -c "INSERT INTO resume_pipeline.bucket_rules (bucket, keep_versions) VALUES ('cvs', 3)" \
         -c "SELECT resume_pipeline.prune_versions('cvs')" \
         -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM resume_pipeline.files WHERE name LIKE '$br_user/cv.pdf%' AND bucket = 'cvs'" \
         -c "SELECT string_agg(v.version::text, ',' ORDER BY v.version) FROM resume_pipeline.resume_versions v JOIN resume_pipeline.resumes r ON r.id = v.resume_id WHERE r.object_name = '$br_user/cv.pdf' AND r.bucket = 'cvs'" |
         tr '\n' '|' | sed 's/|$//')"

# Deleting a key's current row deletes its versions too, and their objects at commit.
two_now=$(q -d rp_br -c "SELECT string_agg(object_id::text, ' ') FROM resume_pipeline.files WHERE bucket = 'two' AND user_id = '$br_user'")
t_expect "delete: a user deleting the current row of a key deletes its kept versions, rows and objects on disk" "0 0" \
    "$(br_as_user <<SQL | tail -1
DELETE FROM resume_pipeline.files WHERE bucket = 'two' AND name = '$br_user/cv.pdf';
SELECT count(*) FROM resume_pipeline.files WHERE bucket = 'two' AND name LIKE '$br_user/cv.pdf%';
SQL
) $(br_on_disk $two_now)"

# 10. pg_dump / pg_restore: the rules come back as they were (the install's rows are replaced by
# the dumped ones, not duplicated), with the versions and their links.
br_dump=$(mktemp)
br_restore_log=$(mktemp)
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_br_restored" -c "CREATE DATABASE rp_br_restored" >/dev/null
q -d rp_br -c "UPDATE resume_pipeline.bucket_rules SET keep_versions = 7 WHERE bucket = '*'" >/dev/null
br_rules="SELECT string_agg(bucket || ':' || keep_versions || ':' || max_size || ':' || allowed_types::text, ' ' ORDER BY bucket) FROM resume_pipeline.bucket_rules"
br_versions="SELECT count(*) FILTER (WHERE version_of IS NOT NULL) || '/' || (SELECT count(file_id) FROM resume_pipeline.resume_versions) FROM resume_pipeline.files"
if pg_dump -Fc -d rp_br -f "$br_dump" && pg_restore -d rp_br_restored --exit-on-error "$br_dump" >"$br_restore_log" 2>&1; then
    t_expect "dump: the rules and the versions (rows kept, résumé versions' links) survive pg_dump / pg_restore" \
        "$(q -d rp_br -c "$br_rules") $(q -d rp_br -c "$br_versions")" \
        "$(q -d rp_br_restored -c "$br_rules") $(q -d rp_br_restored -c "$br_versions")"
else
    t_fail "dump: the rules and the versions survive pg_dump / pg_restore" "$(cat "$br_restore_log")"
fi
rm -f "$br_dump" "$br_restore_log"
q -c "DROP DATABASE rp_br_restored" >/dev/null

# 11. Supabase's storage.objects hook: the size Supabase recorded and the type the name names are
# checked at registration; an upsert is a new résumé version, kept up to keep_versions (Supabase
# keeps no older bytes, so there is no files row of an older version).
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_br_supa" -c "CREATE DATABASE rp_br_supa" >/dev/null
q -d rp_br_supa >/dev/null <<'SQL'
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
CREATE SCHEMA storage;
CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), bucket_id text, name text, owner uuid, owner_id text,
    metadata jsonb, user_metadata jsonb, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now()
);
CREATE EXTENSION resume_pipeline;
INSERT INTO resume_pipeline.bucket_rules (bucket, keep_versions, max_size, allowed_types) VALUES ('resumes', 2, 1000, '{pdf,zip}');
SQL
out=$(q -d rp_br_supa -v ON_ERROR_STOP=0 2>&1 <<SQL
SET request.jwt.claim.sub = '$br_user';
INSERT INTO storage.objects (bucket_id, name, owner, metadata) VALUES ('resumes', '$br_user/big.pdf', '$br_user', '{"size": 5000}');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO storage.objects (bucket_id, name, owner, metadata) VALUES ('resumes', '$br_user/photo.png', '$br_user', '{"size": 10}');
\echo :LAST_ERROR_SQLSTATE
SELECT 'refused_left=' || (SELECT count(*) FROM storage.objects) || '/' || (SELECT count(*) FROM resume_pipeline.files);
INSERT INTO storage.objects (bucket_id, name, owner, metadata) VALUES ('resumes', '$br_user/cv.pdf', '$br_user', '{"size": 100}');
UPDATE storage.objects SET updated_at = now() + interval '1 minute', metadata = '{"size": 101}';
UPDATE storage.objects SET updated_at = now() + interval '2 minutes', metadata = '{"size": 102}';
UPDATE storage.objects SET updated_at = now() + interval '3 minutes', metadata = '{"size": 103}';
UPDATE storage.objects SET updated_at = now() + interval '4 minutes', metadata = '{"size": 2000}';
\echo :LAST_ERROR_SQLSTATE
SELECT 'versions=' || f.version || '/' || r.version || '/' || (SELECT count(*) FROM resume_pipeline.resume_versions) || '/' ||
       (SELECT count(*) FROM resume_pipeline.files)
  FROM resume_pipeline.files f JOIN resume_pipeline.resumes r ON r.file_id = f.id;
SQL
)
t_expect "storage hook: metadata.size over max_size (54000) and a .png the bucket refuses by its name (0A000) fail the insert; 4 upserts of cv.pdf make version 4 with one earlier résumé version kept, no extra files row; an upsert past max_size is refused" \
    "54000 0A000 refused_left=0/0 54000 versions=4/4/1/1" \
    "$(grep -E '^([0-9A-Z]{5}|refused_left=.*|versions=.*)$' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
grep -q 'by its name, "'"$br_user"'/photo.png" is a PNG image, which bucket "resumes" does not accept' <<<"$out" &&
    t_pass "storage hook: the refusal says the type was read from the name" ||
    t_fail "storage hook: the refusal says the type was read from the name" "$out"
q -c "DROP DATABASE rp_br_supa" >/dev/null

# A ZIP batch in a bucket that refuses some of its entries: those are skipped and listed, the
# others become résumés.
br_zip_dir=$(mktemp -d)
tools/make_documents zip "$br_zip_dir/mixed.zip" jonas_becker.pdf=build/samples/jonas_becker.pdf \
    priya_raghunathan.docx=build/samples/priya_raghunathan.docx
load_files rp_br mixed "$br_zip_dir/mixed.zip"
q -d rp_br -c "INSERT INTO resume_pipeline.bucket_rules (bucket, allowed_types) VALUES ('pdfonly', '{pdf,zip}')" \
  -c "SELECT resume_pipeline.upload('pdfonly', 'mixed.zip', data, '{}', '$br_user') FROM mixed" \
  -c "SELECT resume_pipeline.process_pending()" -c "SELECT resume_pipeline.process_pending()" >/dev/null
t_expect "bucket_rules: a ZIP entry the bucket refuses (a DOCX where only PDF is accepted) is skipped and listed; the PDF is read" \
    "1|1|true|completed" \
    "$(q -d rp_br -c "SELECT (f.metadata ->> 'expanded') || '|' || (f.metadata ->> 'skipped_count') || '|' ||
                             (f.metadata -> 'skipped' ->> 0 LIKE '%priya_raghunathan.docx') || '|' ||
                             (SELECT string_agg(r.status::text, ',') FROM resume_pipeline.resumes r WHERE r.zip_id = f.id)
                        FROM resume_pipeline.files f WHERE f.name LIKE '%/mixed.zip'")"
rm -rf "$br_zip_dir"
