
-- Only on update: a file of 0.1.0 with a résumé of several versions is at that version.
UPDATE files f SET version = r.version FROM resumes r WHERE r.file_id = f.id AND r.version > 1;
