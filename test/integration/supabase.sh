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
    created_at timestamptz DEFAULT now()
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
t_expect "Supabase: uploads to the resumes bucket register files (other buckets are ignored)" \
    "files=aaaaaaaa-0000-4000-8000-00000000000a/batch.zip|application/zip|1234,aaaaaaaa-0000-4000-8000-00000000000a/batch/cv.pdf|application/pdf|99" \
    "$(grep '^files=' <<<"$out")"
t_expect "Supabase: a PDF upload becomes a pending résumé carrying its ZIP lineage" "resume=cv.pdf|pending|true" "$(grep '^resume=' <<<"$out")"
t_expect "Supabase: the archive and the résumé are queued" "jobs=resume,zip" "$(grep '^jobs=' <<<"$out")"
