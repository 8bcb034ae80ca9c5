-- Row-level security matrix: two users, identified as PostgREST does (request.jwt.claims),
-- each see and change only their own rows in every table; the functions leak nothing.
\getenv abs_srcdir PG_ABS_SRCDIR
\set samples :abs_srcdir '/../build/samples'
SET search_path = resume_pipeline, public;
-- Each test file starts from empty tables (pg_regress runs them all in one database).
TRUNCATE users, files, resumes, resume_versions, job_postings, analysis_sessions, resume_analyses, embeddings,
         applicants, applicant_steps, jobs;
\set SHOW_CONTEXT never
\set ada `base64 -w0 :samples/ada_whitfield.pdf`
\set jonas `base64 -w0 :samples/jonas_becker.pdf`
\set alice '''aaaaaaaa-0000-4000-8000-00000000000a'''
\set bob '''bbbbbbbb-0000-4000-8000-00000000000b'''

-- Data for both, written by the pipeline's role (this superuser).
INSERT INTO users (id, email, ashby_api_key) VALUES
    (:alice, 'alice@example.com', 'alice-secret'), (:bob, 'bob@example.com', 'bob-secret');
SELECT upload('resumes', 'ada.pdf', decode(:'ada', 'base64'), '{}', :alice) IS NOT NULL AS alice_uploaded;
SELECT upload('resumes', 'jonas.pdf', decode(:'jonas', 'base64'), '{}', :bob) IS NOT NULL AS bob_uploaded;
UPDATE resumes SET raw_text = 'postgres go rust engineer' WHERE user_id = :alice;
UPDATE resumes SET raw_text = 'postgres ansible linux engineer' WHERE user_id = :bob;
INSERT INTO job_postings (user_id, title) VALUES (:alice, 'Alice job'), (:bob, 'Bob job');
INSERT INTO analysis_sessions (user_id, session_name, status) VALUES (:alice, 'a', 'completed'), (:bob, 'b', 'completed');
INSERT INTO resume_analyses (user_id, resume_id, analysis_session_id, overall_fit_score)
SELECT r.user_id, r.id, s.id, 50 FROM resumes r JOIN analysis_sessions s USING (user_id);
INSERT INTO resume_versions (user_id, resume_id, version) SELECT user_id, id, 0 FROM resumes;
INSERT INTO applicants (user_id, name) VALUES (:alice, 'A applicant'), (:bob, 'B applicant');

SELECT id AS bob_file FROM files WHERE user_id = :bob \gset

-- An ordinary role, as PostgREST's "authenticated" would be.
CREATE ROLE rp_app NOLOGIN IN ROLE resume_pipeline_user;
GRANT USAGE ON SCHEMA public TO rp_app;
SET ROLE rp_app;
SELECT set_config('request.jwt.claims', '{"sub": "aaaaaaaa-0000-4000-8000-00000000000a", "role": "authenticated"}', false) IS NOT NULL AS alice_signed_in;
SELECT current_user_id();

-- Alice sees exactly her own row in every table.
SELECT 'users' AS t, count(*), bool_and(id = current_user_id()) AS own FROM users
UNION ALL SELECT 'files', count(*), bool_and(user_id = current_user_id()) FROM files
UNION ALL SELECT 'resumes', count(*), bool_and(user_id = current_user_id()) FROM resumes
UNION ALL SELECT 'resume_versions', count(*), bool_and(user_id = current_user_id()) FROM resume_versions
UNION ALL SELECT 'job_postings', count(*), bool_and(user_id = current_user_id()) FROM job_postings
UNION ALL SELECT 'analysis_sessions', count(*), bool_and(user_id = current_user_id()) FROM analysis_sessions
UNION ALL SELECT 'resume_analyses', count(*), bool_and(user_id = current_user_id()) FROM resume_analyses
UNION ALL SELECT 'applicants', count(*), bool_and(user_id = current_user_id()) FROM applicants
UNION ALL SELECT 'jobs', count(*), bool_and(user_id = current_user_id()) FROM jobs;
-- Her own secret is write-only: stored, never read back.
SELECT ashby_api_key_set FROM users;
SELECT ashby_api_key FROM users;
\echo :LAST_ERROR_SQLSTATE
UPDATE users SET email = email RETURNING ashby_api_key;
\echo :LAST_ERROR_SQLSTATE

-- She cannot insert rows for Bob, anywhere.
INSERT INTO job_postings (user_id, title) VALUES (:bob, 'forged');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO applicants (user_id, name) VALUES (:bob, 'forged');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO users (id, email) VALUES ('cccccccc-0000-4000-8000-00000000000c', 'x');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO files (user_id, bucket, name, size) VALUES (:bob, 'resumes', 'bbbbbbbb-0000-4000-8000-00000000000b/x.pdf', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT upload('resumes', 'forged.pdf', decode(:'ada', 'base64'), '{}', :bob);
\echo :LAST_ERROR_SQLSTATE
-- Nor take a key under Bob's prefix for herself.
INSERT INTO files (user_id, bucket, name, size) VALUES (:alice, 'resumes', 'bbbbbbbb-0000-4000-8000-00000000000b/squat.pdf', 1);
\echo :LAST_ERROR_SQLSTATE
-- Nor hand her rows over to Bob.
UPDATE job_postings SET user_id = :bob;
\echo :LAST_ERROR_SQLSTATE

-- Updates and deletes of Bob's rows touch nothing.
UPDATE applicants SET name = 'hijacked' WHERE user_id = :bob;
UPDATE job_postings SET title = 'hijacked' WHERE user_id = :bob;
DELETE FROM files WHERE user_id = :bob;
DELETE FROM users WHERE id = :bob;

-- Nor can she read Bob's object, even knowing its key.
SELECT length(storage_get('resumes', 'bbbbbbbb-0000-4000-8000-00000000000b/jonas.pdf'));
\echo :LAST_ERROR_SQLSTATE
SELECT length(storage_get('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/ada.pdf')) > 0 AS reads_her_own;
-- Nor write it.
SELECT _storage_write(gen_random_uuid(), '\x00');
\echo :LAST_ERROR_SQLSTATE

-- Nor re-register his file to reset his résumé (its id leaked somehow).
SELECT _register_document(:'bob_file', NULL);
\echo :LAST_ERROR_SQLSTATE

-- Her applicant with her CV queues its job though she has no INSERT on jobs; she sees it.
INSERT INTO applicants (user_id, name, cv_file_id)
SELECT :alice, 'Queued by Alice', id FROM files WHERE name LIKE '%ada.pdf';
SELECT a.cv_status, j.kind, j.state FROM applicants a JOIN jobs j ON j.target_id = a.id
 WHERE a.name = 'Queued by Alice';
DELETE FROM applicants WHERE name = 'Queued by Alice';
-- Nor attach the applicants trigger, which writes jobs, to a table of her own.
CREATE TEMP TABLE mine (id uuid);
CREATE TRIGGER mine_write BEFORE INSERT ON mine FOR EACH ROW EXECUTE FUNCTION _applicant_write();
\echo :LAST_ERROR_SQLSTATE

-- The query functions stay within her rows.
SELECT original_filename FROM available_resumes(NULL);
SELECT original_filename FROM available_resumes((SELECT id FROM job_postings LIMIT 1));
SELECT original_filename FROM search_resumes('postgres');
SELECT original_filename FROM search_resumes('ansible');
SELECT count(*) FROM analysis_history((SELECT id FROM resumes LIMIT 1));

-- Bob, in turn, sees only his, and Alice's attempts changed nothing of his.
SELECT set_config('request.jwt.claims', '{"sub": "bbbbbbbb-0000-4000-8000-00000000000b"}', false) IS NOT NULL AS bob_signed_in;
SELECT (SELECT count(*) FROM files) AS files, (SELECT name FROM applicants) AS applicant,
       (SELECT title FROM job_postings) AS posting, (SELECT ashby_api_key_set FROM users) AS his_key_set;
SELECT original_filename FROM search_resumes('postgres');

-- Anonymous: nothing at all.
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS signed_out;
SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM resumes) + (SELECT count(*) FROM users)
       + (SELECT count(*) FROM applicants) AS visible_rows;

RESET ROLE;
DROP OWNED BY rp_app;
DROP ROLE rp_app;
