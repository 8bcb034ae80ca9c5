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

-- The GitHub login the gh step reads: from a profile URL, a GitHub network with a username, or
-- basics.url; never GitHub's own pages, an invalid login, or a look-alike host; a login given
-- by hand wins. Each one found makes the gh step pending with a job.
INSERT INTO applicants (user_id, cv_data, gh_username) VALUES
    (:alice, '{"basics": {"profiles": [{"network": "LinkedIn", "url": "https://linkedin.com/in/x"}, {"url": "https://github.com/Ada-L/"}]}}', NULL),
    (:alice, '{"basics": {"profiles": [{"network": "GitHub", "username": "grace-h"}]}}', NULL),
    (:alice, '{"basics": {"url": "www.github.com/linus?tab=repositories"}}', NULL),
    (:alice, '{"basics": {"url": "https://github.com/orgs/acme"}}', NULL),
    (:alice, '{"basics": {"url": "https://github.com/-bad-"}}', NULL),
    (:alice, '{"basics": {"url": "https://notgithub.com/ada"}}', NULL),
    (:alice, '{"basics": {"profiles": "not a list", "url": 42}}', NULL),
    (:alice, '{"basics": {"url": "https://github.com/ada"}}', 'typed-login');
SELECT cv_data #>> '{basics,url}' AS url, gh_username, gh_status,
       (SELECT count(*) FROM jobs j WHERE j.target_id = a.id AND j.kind = 'gh') AS gh_jobs
  FROM applicants a ORDER BY a.created_at, a.gh_username NULLS LAST, 1;
DELETE FROM applicants;
DELETE FROM jobs;

-- The ai step is due once the CV is ready and gh/li are over; a new job posting asks again.
INSERT INTO job_postings (id, user_id, title) VALUES
    ('dddddddd-0000-4000-8000-000000000001', :alice, 'One'), ('dddddddd-0000-4000-8000-000000000002', :alice, 'Two');
INSERT INTO applicants (id, user_id, cv_status, gh_status, job_posting_id) VALUES
    ('cccccccc-0000-4000-8000-000000000001', :alice, 'ready', 'processing', 'dddddddd-0000-4000-8000-000000000001');
SELECT ai_status, (SELECT count(*) FROM jobs WHERE kind = 'ai') AS ai_jobs FROM applicants;
UPDATE applicants SET gh_status = 'ready';
SELECT ai_status, (SELECT count(*) FROM jobs WHERE kind = 'ai') AS ai_jobs FROM applicants;
UPDATE applicants SET ai_status = 'ready', ai_data = '{"score": 70}';
UPDATE applicants SET job_posting_id = 'dddddddd-0000-4000-8000-000000000002';
SELECT ai_status, ai_data, score, (SELECT count(*) FROM jobs WHERE kind = 'ai') AS ai_jobs FROM applicants;
-- Another user's posting is refused like one that does not exist.
UPDATE applicants SET job_posting_id = 'eeeeeeee-0000-4000-8000-00000000000e';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM applicants;
DELETE FROM jobs;
DELETE FROM job_postings;

-- Another GitHub login named while the step runs: pending again with a job of its own (the
-- running job stores nothing for a login it did not read).
INSERT INTO applicants (id, user_id, gh_username) VALUES ('cccccccc-0000-4000-8000-000000000002', :alice, 'first-login');
UPDATE applicants SET gh_status = 'processing';
UPDATE applicants SET gh_username = 'second-login';
SELECT gh_username, gh_status, (SELECT count(*) FROM jobs WHERE kind = 'gh') AS gh_jobs FROM applicants;
DELETE FROM applicants;
DELETE FROM jobs;
