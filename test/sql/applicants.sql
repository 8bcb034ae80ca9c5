-- Generated columns of applicants: status from the sub-statuses, score from ai_data, and
-- name/email/phone following cv_data.
SET search_path = resume_pipeline, public;
-- Each test file starts from empty tables (pg_regress runs them all in one database).
TRUNCATE users, files, resumes, resume_versions, job_postings, analysis_sessions, resume_analyses, embeddings,
         applicants, applicant_steps, jobs;
\set alice '''aaaaaaaa-0000-4000-8000-00000000000a'''

-- Every combination of the seed's rule: failed when cv or li is error; completed when ai is
-- ready; processing when cv is processing; otherwise uploading. Earlier rules win.
INSERT INTO applicants (user_id, cv_status, li_status, ai_status)
SELECT :alice, cv, li, ai
  FROM unnest(enum_range(NULL::processing_status)) cv,
       unnest(enum_range(NULL::processing_status)) li,
       unnest(enum_range(NULL::processing_status)) ai;
SELECT count(*) AS combinations FROM applicants;
SELECT status, count(*) FROM applicants GROUP BY status ORDER BY status;
-- Spot checks against the rule as written in the seed.
SELECT cv_status, li_status, ai_status, status FROM applicants
 WHERE (cv_status, li_status, ai_status) IN (
       ('error', 'ready', 'ready'), ('ready', 'error', 'ready'), ('processing', 'pending', 'ready'),
       ('processing', 'pending', 'pending'), ('pending', 'pending', 'pending'),
       ('not_provided', 'not_provided', 'not_provided'), ('ready', 'ready', 'processing'))
 ORDER BY 1, 2, 3;
-- Nobody can write the derived columns.
UPDATE applicants SET status = 'completed';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM applicants;

-- score from ai_data->>'score', and null (not an error) when it is not a number.
INSERT INTO applicants (user_id, ai_data) VALUES
    (:alice, '{"score": 87}'), (:alice, '{"score": "91.5"}'), (:alice, '{"score": "n/a"}'),
    (:alice, '{"summary": "no score"}'), (:alice, NULL);
SELECT ai_data, score FROM applicants ORDER BY score NULLS LAST, ai_data::text;
DELETE FROM applicants;

-- name/email/phone follow cv_data when it has them, and keep what was typed when it does not.
INSERT INTO applicants (user_id, name, phone, cv_data)
VALUES (:alice, 'Typed Name', '+1 555 0100', '{"basics": {"name": "Parsed Name", "email": "p@example.com"}}')
RETURNING name, email, phone;
UPDATE applicants SET cv_data = '{"basics": {"name": "New Name", "phone": "+44 20 7946 0000"}}'
RETURNING name, email, phone;
-- A CV file must exist.
INSERT INTO applicants (user_id, cv_file_id) VALUES (:alice, '00000000-0000-4000-8000-000000000000');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM applicants;
