-- The embedded pipeline end to end, synchronously: uploads (PDF, DOCX, a ZIP of five PDFs, a
-- ZIP holding a bad file) become résumé rows with ZIP lineage in the uploader's transaction;
-- process_pending() extracts and parses them; failures stay on their own row.
\getenv abs_srcdir PG_ABS_SRCDIR
\set samples :abs_srcdir '/../build/samples'
\set fx :abs_srcdir '/../build/fixtures'
SET search_path = resume_pipeline, public;
-- Each test file starts from empty tables (pg_regress runs them all in one database).
TRUNCATE users, files, resumes, resume_versions, job_postings, analysis_sessions, resume_analyses, embeddings,
         applicants, applicant_steps, jobs;
\set SHOW_CONTEXT never
\set alice '''aaaaaaaa-0000-4000-8000-00000000000a'''
\set bob '''bbbbbbbb-0000-4000-8000-00000000000b'''
\set ada `base64 -w0 :samples/ada_whitfield.pdf`
\set jonas `base64 -w0 :samples/jonas_becker.pdf`
\set priya `base64 -w0 :samples/priya_raghunathan.docx`
\set batch5 `base64 -w0 :fx/batch5.zip`
\set bad `base64 -w0 :fx/bad_batch.zip`

-- Registering an object creates its résumé row and job at once (no processing yet).
SELECT upload('resumes', 'ada.pdf', decode(:'ada', 'base64'), '{}', :alice) AS ada_file \gset
SELECT upload('resumes', 'priya.docx', decode(:'priya', 'base64'), '{}', :alice) IS NOT NULL AS docx_uploaded;
SELECT upload('resumes', 'batch5.zip', decode(:'batch5', 'base64'), '{}', :alice) AS batch5 \gset
SELECT upload('resumes', 'bad_batch.zip', decode(:'bad', 'base64'), '{}', :alice) AS bad \gset
SELECT name, mime_type, size FROM files ORDER BY name;
SELECT original_filename, status FROM resumes ORDER BY 1;
SELECT kind, state, count(*) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2;

-- A rolled-back upload leaves no object row, no résumé row, no job and no object.
BEGIN;
SELECT upload('resumes', 'rolled_back.pdf', decode(:'ada', 'base64'), '{}', :alice) IS NOT NULL AS uploaded;
SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM resumes) AS resumes, (SELECT count(*) FROM jobs) AS jobs;
ROLLBACK;
SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM resumes) AS resumes, (SELECT count(*) FROM jobs) AS jobs;
SELECT storage_get('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/rolled_back.pdf');
\echo :LAST_ERROR_SQLSTATE
-- On disk too: every stored object is named by a row, none is left by the rollback.
SELECT count(*) AS stored_objects, count(*) FILTER (WHERE f.id IS NULL) AS without_a_row
  FROM _storage_list() l LEFT JOIN files f ON f.object_id = l.object_id;

-- Process everything: the archives expand into résumés that the same call then processes.
SELECT process_pending() AS jobs_run;
SELECT r.original_filename, r.status, z.name AS from_zip, r.parsed #>> '{basics,name}' AS name,
       r.parsed #>> '{basics,email}' AS email, r.error
  FROM resumes r LEFT JOIN files z ON z.id = r.zip_id
 ORDER BY z.name NULLS FIRST, r.original_filename;
SELECT * FROM batch_progress(:'batch5');
SELECT * FROM batch_progress(:'bad');
SELECT metadata -> 'expanded' AS expanded, metadata -> 'skipped' AS skipped FROM files WHERE id = :'bad';
SELECT kind, state, count(*) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS texts_indexed FROM resumes WHERE content_tsvector @@ 'postgresql'::tsquery;
SELECT process_pending() AS nothing_left;

-- Uploading the same key with new content makes a new version; the same bytes change nothing.
SELECT upload('resumes', 'ada.pdf', decode(:'jonas', 'base64'), '{}', :alice) = :'ada_file' AS same_file;
SELECT version, status FROM resumes WHERE file_id = :'ada_file';
SELECT process_pending() AS reprocessed;
SELECT version, status, parsed #>> '{basics,name}' AS name FROM resumes WHERE file_id = :'ada_file';
SELECT version, parsed #>> '{basics,name}' AS old_name FROM resume_versions ORDER BY version;
SELECT upload('resumes', 'ada.pdf', decode(:'jonas', 'base64'), '{}', :alice) IS NOT NULL AS same_bytes;
-- Each version was written as a new object and the one it replaced removed at commit: the
-- objects on disk are exactly those the rows name.
SELECT (SELECT count(*) FROM _storage_list()) = (SELECT count(object_id) FROM files) AS one_object_per_row,
       (SELECT count(*) FROM _storage_list() l WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.object_id = l.object_id)) AS orphans;
-- A deleted row's object goes at commit; a rolled-back delete keeps it.
SELECT upload('resumes', 'doomed.pdf', decode(:'jonas', 'base64'), '{}', :alice) IS NOT NULL AS uploaded;
BEGIN;
DELETE FROM files WHERE name LIKE '%doomed.pdf';
ROLLBACK;
SELECT length(storage_get('resumes', 'aaaaaaaa-0000-4000-8000-00000000000a/doomed.pdf')) > 0 AS kept_after_rollback;
SELECT object_id AS doomed_object FROM files WHERE name LIKE '%doomed.pdf' \gset
DELETE FROM files WHERE name LIKE '%doomed.pdf';
SELECT count(*) AS doomed_object_on_disk FROM _storage_list() WHERE object_id = :'doomed_object';
SELECT process_pending() AS its_job_finds_nothing;
SELECT version, status FROM resumes WHERE file_id = :'ada_file';

-- zip_id in metadata must name one of the uploader's own files.
SELECT upload('resumes', 'fake_lineage.pdf', decode(:'ada', 'base64'), '{"zip_id": "00000000-0000-4000-8000-000000000000"}', :alice);
\echo :LAST_ERROR_SQLSTATE
SELECT upload('resumes', 'x.pdf', decode(:'ada', 'base64'));
\echo :LAST_ERROR_SQLSTATE
-- Object names can never leave the storage root.
SELECT upload('resumes', '../../../etc/passwd', decode(:'ada', 'base64'), '{}', :alice);
\echo :LAST_ERROR_SQLSTATE
SELECT upload('../outside', 'x.pdf', decode(:'ada', 'base64'), '{}', :alice);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS files_registered_by_those FROM files WHERE name LIKE '%passwd%' OR bucket LIKE '%outside%';

-- Applicants: a CV file queues its step; processing fills cv_data and the synced columns.
INSERT INTO applicants (user_id, cv_file_id) VALUES (:alice, (SELECT id FROM files WHERE name LIKE '%priya.docx'))
RETURNING cv_status, status;
SELECT kind, state FROM jobs WHERE kind = 'cv';
SELECT process_pending() AS cv_jobs;
SELECT cv_status, status, name, email, phone, cv_error FROM applicants;
-- A CV file id of another user is refused when it is named, exactly like an id that does not
-- exist (same constraint, same SQLSTATE): it cannot be used to learn that the file exists.
SELECT upload('resumes', 'bob.pdf', decode(:'jonas', 'base64'), '{}', :bob) AS bob_file \gset
\set VERBOSITY terse
INSERT INTO applicants (user_id, cv_file_id) VALUES (:alice, :'bob_file');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) AS applicants_with_bobs_file FROM applicants WHERE cv_file_id = :'bob_file';
SELECT process_pending() AS ran;

-- A job left running by a worker that died is claimed again; one whose every attempt died with
-- its worker fails instead of looping forever.
INSERT INTO applicants (user_id, cv_file_id, li_data) VALUES
    (:alice, (SELECT id FROM files WHERE name LIKE '%priya.docx'), '{"case": "orphaned"}'),
    (:alice, (SELECT id FROM files WHERE name LIKE '%priya.docx'), '{"case": "poisoned"}');
UPDATE jobs SET state = 'running', attempts = 1, claimed_by = 999999, lease_expires_at = now() + interval '1 hour'
 WHERE target_id = (SELECT id FROM applicants WHERE li_data ->> 'case' = 'orphaned');
UPDATE jobs SET state = 'running', attempts = 5, claimed_by = 999999, lease_expires_at = now() + interval '1 hour'
 WHERE target_id = (SELECT id FROM applicants WHERE li_data ->> 'case' = 'poisoned');
SELECT process_pending() AS reclaimed;
SELECT a.li_data ->> 'case' AS "case", a.cv_status, a.cv_error, j.state, j.attempts
  FROM applicants a JOIN jobs j ON j.target_id = a.id WHERE a.li_data ? 'case' ORDER BY 1;

-- A worker reads a document in one transaction and stores its result in another. A new
-- version uploaded in between gets its own job, and the older result is not stored over it.
TRUNCATE jobs;
SELECT upload('resumes', 'race.pdf', decode(:'ada', 'base64'), '{}', :alice) AS race_file \gset
SELECT _claim_job() AS job1 \gset
SELECT kind, length(data) > 0 AS read_bytes FROM _start_parse_job(:'job1');
SELECT upload('resumes', 'race.pdf', decode(:'jonas', 'base64'), '{}', :alice) = :'race_file' AS uploaded_again;
SELECT _finish_parse_job(:'job1', convert_to('stale text', 'UTF8'),
                         convert_to('{"basics": {"name": "Stale Result"}}', 'UTF8'), NULL, NULL) AS job1_outcome;
SELECT version, status, raw_text IS NULL AS no_text FROM resumes WHERE file_id = :'race_file';
SELECT state, payload ->> 'read_version' AS read_version FROM jobs ORDER BY created_at, id;
SELECT process_pending() AS ran;
SELECT version, status, parsed #>> '{basics,name}' AS name FROM resumes WHERE file_id = :'race_file';
-- The same for a CV asked for again while its job runs: the newer job stores the result.
INSERT INTO applicants (user_id, cv_file_id) SELECT :alice, id FROM files WHERE name LIKE '%priya.docx';
SELECT _claim_job() AS job2 \gset
SELECT kind, length(data) > 0 AS read_bytes FROM _start_parse_job(:'job2');
UPDATE applicants SET cv_status = 'pending', cv_file_id = :'race_file' WHERE cv_file_id IS NOT NULL AND cv_status = 'processing';
SELECT _finish_parse_job(:'job2', convert_to('stale text', 'UTF8'),
                         convert_to('{"basics": {"name": "Stale Result"}}', 'UTF8'), NULL, NULL) AS job2_outcome;
SELECT cv_status, name FROM applicants WHERE cv_file_id = :'race_file';
SELECT process_pending() > 0 AS ran;  -- the CV's job, then its ai step (queued by the CV's result)
SELECT cv_status, name FROM applicants WHERE cv_file_id = :'race_file';
-- Nor does an older version's failure mark the newer one failed.
TRUNCATE jobs;
SELECT upload('resumes', 'race2.pdf', decode(:'ada', 'base64'), '{}', :alice) AS race2_file \gset
SELECT _claim_job() AS job3 \gset
SELECT kind FROM _start_parse_job(:'job3');
SELECT upload('resumes', 'race2.pdf', decode(:'jonas', 'base64'), '{}', :alice) = :'race2_file' AS uploaded_again;
SELECT _finish_parse_job(:'job3', NULL, NULL, '22P03', 'the PDF is damaged or truncated and cannot be read') AS job3_outcome;
SELECT version, status, error FROM resumes WHERE file_id = :'race2_file';
SELECT process_pending() AS ran;
SELECT version, status, parsed #>> '{basics,name}' AS name FROM resumes WHERE file_id = :'race2_file';
