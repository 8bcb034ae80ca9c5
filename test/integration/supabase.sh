# On a Supabase-shaped database (auth.uid(), storage.objects), CREATE EXTENSION attaches the
# upload trigger to storage.objects: an upload to the 'resumes' bucket registers a file and a
# résumé with the ZIP lineage from the object's metadata, and identity comes from auth.uid().
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_supabase" -c "CREATE DATABASE rp_supabase" >/dev/null
q -d rp_supabase >/dev/null <<'SQL'
-- The parts of Supabase's schema that matter here, as Supabase defines them.
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
CREATE SCHEMA storage;
CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text,
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    user_metadata jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);
CREATE EXTENSION resume_pipeline;
SQL
out=$(q -d rp_supabase <<'SQL'
SET request.jwt.claim.sub = 'aaaaaaaa-0000-4000-8000-00000000000a';
SELECT 'uid=' || resume_pipeline.current_user_id();
INSERT INTO storage.objects (bucket_id, name, owner, metadata)
VALUES ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/batch.zip', 'aaaaaaaa-0000-4000-8000-00000000000a',
        '{"mimetype": "application/zip", "size": 1234}');
INSERT INTO storage.objects (bucket_id, name, owner_id, metadata, user_metadata)
SELECT 'resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/batch/cv.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a',
       '{"mimetype": "application/pdf", "size": 99}', jsonb_build_object('zip_id', f.id)
  FROM resume_pipeline.files f WHERE f.name LIKE '%batch.zip';
INSERT INTO storage.objects (bucket_id, name, owner, metadata)
VALUES ('avatars', 'aaaaaaaa-0000-4000-8000-00000000000a/me.png', 'aaaaaaaa-0000-4000-8000-00000000000a', '{}');
SELECT 'files=' || string_agg(name || '|' || mime_type || '|' || size, ',' ORDER BY name) FROM resume_pipeline.files;
SELECT 'resume=' || r.original_filename || '|' || r.status || '|' || (z.name IS NOT NULL)
  FROM resume_pipeline.resumes r LEFT JOIN resume_pipeline.files z ON z.id = r.zip_id;
SELECT 'jobs=' || string_agg(kind::text, ',' ORDER BY kind::text) FROM resume_pipeline.jobs;
SQL
)
t_expect "Supabase: current_user_id() follows auth.uid()" "uid=aaaaaaaa-0000-4000-8000-00000000000a" "$(grep '^uid=' <<<"$out")"
# Size and type come from the bytes when the pipeline reads them, never from client metadata.
t_expect "Supabase: uploads to the resumes bucket register files (other buckets are ignored)" \
    "files=aaaaaaaa-0000-4000-8000-00000000000a/batch.zip|application/zip|0,aaaaaaaa-0000-4000-8000-00000000000a/batch/cv.pdf|application/pdf|0" \
    "$(grep '^files=' <<<"$out")"
t_expect "Supabase: a PDF upload becomes a pending résumé carrying its ZIP lineage" "resume=cv.pdf|pending|true" "$(grep '^resume=' <<<"$out")"
t_expect "Supabase: the archive and the résumé are queued" "jobs=resume,zip" "$(grep '^jobs=' <<<"$out")"

# The storage hook as an attacker meets it: a signed-in user (claims set, a member of the role
# the README names) inserting into storage.objects directly, as Supabase's RLS may allow.
q -d rp_supabase >/dev/null <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_supa_user') THEN
        CREATE ROLE rp_supa_user NOLOGIN IN ROLE resume_pipeline_user;
    END IF;
END $$;
GRANT USAGE ON SCHEMA storage, auth TO rp_supa_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON storage.objects TO rp_supa_user;
SQL
hook=$(q -d rp_supabase <<'SQL' 2>&1
SET ROLE rp_supa_user;
SET request.jwt.claim.sub = 'aaaaaaaa-0000-4000-8000-00000000000a';
-- Into Bob's folder, claiming to be Alice, or with Bob named as owner_id: not registered.
INSERT INTO storage.objects (bucket_id, name, owner) VALUES ('resumes', 'bbbbbbbb-0000-4000-8000-00000000000b/planted.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a');
INSERT INTO storage.objects (bucket_id, name, owner, owner_id) VALUES ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/x.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a', 'bbbbbbbb-0000-4000-8000-00000000000b');
INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('resumes', 'bbbbbbbb-0000-4000-8000-00000000000b/squat.pdf', 'bbbbbbbb-0000-4000-8000-00000000000b');
-- A top folder that is not a user id, with no owner: the upload itself still succeeds.
INSERT INTO storage.objects (bucket_id, name) VALUES ('resumes', 'public/logo.pdf');
SELECT 'odd_upload=' || count(*) FROM storage.objects WHERE name = 'public/logo.pdf';
-- Huge or malformed lineage in user_metadata is not kept, and the upload goes through.
INSERT INTO storage.objects (bucket_id, name, owner, user_metadata) VALUES ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/big.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a', jsonb_build_object('zip_id', repeat('z', 100000)));
SELECT 'big_meta=' || pg_column_size(metadata) || '|' || (metadata ? 'zip_id') FROM resume_pipeline.files WHERE name LIKE '%/big.pdf';
DELETE FROM storage.objects WHERE name LIKE '%/big.pdf';
-- A deceptive name (right-to-left override) is left alone.
INSERT INTO storage.objects (bucket_id, name, owner) VALUES ('resumes', E'aaaaaaaa-0000-4000-8000-00000000000a/cv\u202Efdp.exe', 'aaaaaaaa-0000-4000-8000-00000000000a');
-- Her own upload, then an upsert of it (new bytes: new version), then a move, then a delete.
INSERT INTO storage.objects (bucket_id, name, owner, metadata) VALUES ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/mine.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a', '{"size": 4242, "mimetype": "application/zip"}');
SELECT 'mine=' || f.size || '|' || f.mime_type || '|' || r.version FROM resume_pipeline.files f JOIN resume_pipeline.resumes r ON r.file_id = f.id WHERE f.name LIKE '%mine.pdf';
UPDATE storage.objects SET metadata = '{"eTag": "2"}', updated_at = now() + interval '1 second' WHERE name LIKE '%mine.pdf';
SELECT 'upserted=' || r.version FROM resume_pipeline.resumes r WHERE r.object_name LIKE '%mine.pdf';
UPDATE storage.objects SET name = 'aaaaaaaa-0000-4000-8000-00000000000a/moved.pdf' WHERE name LIKE '%mine.pdf';
SELECT 'moved=' || string_agg(f.name, ',') FROM resume_pipeline.files f WHERE f.name LIKE '%mine.pdf' OR f.name LIKE '%moved.pdf';
DELETE FROM storage.objects WHERE name LIKE '%moved.pdf';
SELECT 'deleted=' || count(*) FROM resume_pipeline.files f WHERE f.name LIKE '%moved.pdf';
RESET ROLE;
SELECT 'registered=' || coalesce(string_agg(name, ',' ORDER BY name), '') FROM resume_pipeline.files WHERE name NOT LIKE '%batch%';
\set ON_ERROR_STOP 0
-- The hook cannot be attached elsewhere: not by a user, and not by mistake by the owner.
SET ROLE rp_supa_user;
CREATE TEMP TABLE objects (bucket_id text, name text, owner uuid);
CREATE TRIGGER steal AFTER INSERT ON objects FOR EACH ROW EXECUTE FUNCTION resume_pipeline._on_storage_object();
RESET ROLE;
CREATE TABLE public.objects (bucket_id text, name text, owner uuid);
CREATE TRIGGER misplaced AFTER INSERT ON public.objects FOR EACH ROW EXECUTE FUNCTION resume_pipeline._on_storage_object();
INSERT INTO public.objects VALUES ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/y.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a');
SQL
)
t_expect "Supabase hook: an upload it does not handle (no owner, odd folder) still succeeds" "odd_upload=1" "$(grep -o 'odd_upload=[0-9]*' <<<"$hook")"
big=$(grep -o 'big_meta=[0-9]*|[a-z]*' <<<"$hook"); big_size=${big#big_meta=}; big_size=${big_size%%|*}
if [ -n "$big" ] && [ "${big##*|}" = false ] && [ "$big_size" -lt 200 ]; then
    t_pass "Supabase hook: a 100 kB zip_id in user_metadata is not kept ($big_size bytes of metadata), the upload goes through"
else
    t_fail "Supabase hook: a 100 kB zip_id in user_metadata is not kept, the upload goes through" "$hook"
fi
t_expect "Supabase hook: size and type come from the bytes, not client metadata" "mine=0|application/pdf|1" "$(grep -o 'mine=.*' <<<"$hook")"
t_expect "Supabase hook: an upsert of the object makes a new résumé version" "upserted=2" "$(grep -o 'upserted=.*' <<<"$hook")"
t_expect "Supabase hook: a move follows the object" "moved=aaaaaaaa-0000-4000-8000-00000000000a/moved.pdf" "$(grep -o 'moved=.*' <<<"$hook")"
t_expect "Supabase hook: a delete removes the files row" "deleted=0" "$(grep -o 'deleted=.*' <<<"$hook")"
t_expect "Supabase hook: nothing planted in another user's folder, nothing under a mismatched owner, no deceptive name" \
    "registered=" "$(grep -o 'registered=.*' <<<"$hook")"
if grep -q 'permission denied for function .*_on_storage_object' <<<"$hook" &&
   grep -q 'is the trigger of storage.objects only' <<<"$hook"; then
    t_pass "Supabase hook: nobody can attach it to another table, and it refuses to run on one"
else
    t_fail "Supabase hook: nobody can attach it to another table, and it refuses to run on one" "$hook"
fi

# With storage_backend = 's3' and resume_pipeline.s3_bucket one of Supabase's buckets, Supabase
# announces the pipeline's own objects (<database oid>/objects/<2 hex>/<object id>, a ZIP entry
# with x-amz-meta-zip_id) through storage.objects: the hook never registers them a second time,
# in whatever bucket, and its delete leaves the files rows alone. A user's own folder named
# "objects" is still theirs.
own=$(q -d rp_supabase <<'SQL'
SELECT count(*) AS before FROM resume_pipeline.files \gset
SET request.jwt.claim.sub = 'aaaaaaaa-0000-4000-8000-00000000000a';
INSERT INTO storage.objects (bucket_id, name, owner, owner_id, user_metadata)
SELECT b, d.oid || '/objects/6b/6bc9cdc3-b53b-48e1-b194-8de33268cf0c', 'aaaaaaaa-0000-4000-8000-00000000000a',
       'aaaaaaaa-0000-4000-8000-00000000000a', jsonb_build_object('zip_id', (SELECT id FROM resume_pipeline.files LIMIT 1))
  FROM pg_database d, unnest(ARRAY['resume-pipeline', 'resumes']) b WHERE d.datname = current_database();
SELECT 'own=' || (count(*) - :before) FROM resume_pipeline.files;
DELETE FROM storage.objects WHERE name LIKE '%/objects/6b/%';
SELECT 'own_deleted=' || (count(*) - :before) FROM resume_pipeline.files;
INSERT INTO storage.objects (bucket_id, name, owner) VALUES
    ('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/objects/6b/cv.pdf', 'aaaaaaaa-0000-4000-8000-00000000000a');
SELECT 'user_folder=' || count(*) FROM resume_pipeline.files WHERE name = 'aaaaaaaa-0000-4000-8000-00000000000a/objects/6b/cv.pdf';
SQL
)
t_expect "Supabase hook: the pipeline's own S3 objects announced back are not registered a second time (either bucket); a user's 'objects' folder is" \
    "own=0 own_deleted=0 user_folder=1" "$(grep -oE '^(own|own_deleted|user_folder)=[0-9-]+' <<<"$own" | tr '\n' ' ' | sed 's/ $//')"
