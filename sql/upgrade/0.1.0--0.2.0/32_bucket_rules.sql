
-- Identical to sql/install/32_bucket_rules.sql, then one data fix-up.

------------------------------------------------------------------------------------------
-- Bucket rules: per bucket, how many versions of an object are kept, how large an object may
-- be and which types (decided from the content) it may have. Buckets are shared by every
-- tenant, so only the pipeline's owner (and superusers) change the rules; users read them.
-- upload() and the storage.objects hook apply them before anything is stored.
------------------------------------------------------------------------------------------

-- The row of bucket '*' applies to every bucket without a row of its own. allowed_types are
-- document_kind() names. Install makes two rows: '*' (5 versions, 50 MB, PDF, DOC, DOCX and ZIP
-- batches) and 'resumes', the bucket of the README and of Supabase's hook (5 versions, 50 MB,
-- every type the pipeline reads or accepted in 0.1.0: an update refuses nothing that was
-- accepted before, except binaries no reader knows).
CREATE TABLE bucket_rules (
    bucket        text PRIMARY KEY CHECK (bucket = '*' OR _object_name_ok(bucket, 'x')),
    keep_versions integer NOT NULL DEFAULT 5 CHECK (keep_versions BETWEEN 1 AND 1000),
    max_size      bigint NOT NULL DEFAULT 52428800 CHECK (max_size > 0),
    allowed_types text[] NOT NULL DEFAULT '{pdf,doc,docx,zip}'
                  CHECK (allowed_types <@ '{pdf,docx,doc,odt,rtf,png,jpeg,tiff,zip,text,other}'::text[])
);
COMMENT ON TABLE bucket_rules IS 'Per-bucket versions kept, size limit and allowed types (bucket ''*'': every other bucket).';

-- An INSERT of a bucket that has a row replaces that row: restoring a dump (which reloads this
-- table after CREATE EXTENSION made its rows) brings the dumped rules back instead of failing.
CREATE FUNCTION _bucket_rules_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.bucket_rules r
       SET keep_versions = NEW.keep_versions, max_size = NEW.max_size, allowed_types = NEW.allowed_types
     WHERE r.bucket = NEW.bucket;
    RETURN CASE WHEN FOUND THEN NULL ELSE NEW END;
END
$$;
CREATE TRIGGER bucket_rules_insert BEFORE INSERT ON bucket_rules
    FOR EACH ROW EXECUTE FUNCTION _bucket_rules_insert();

INSERT INTO bucket_rules (bucket) VALUES ('*');
INSERT INTO bucket_rules (bucket, allowed_types)
VALUES ('resumes', '{pdf,docx,doc,odt,rtf,png,jpeg,tiff,zip,text}');

-- Shared settings, not a user's rows: everyone may read every row, only the owner writes.
ALTER TABLE bucket_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON bucket_rules FOR SELECT USING (true);
GRANT SELECT ON bucket_rules TO resume_pipeline_user;
SELECT pg_catalog.pg_extension_config_dump('bucket_rules', '');

-- The rule that applies to a bucket: its own row, else the '*' row, else the built-in defaults.
-- The returned bucket says which ('*' for the default).
CREATE FUNCTION bucket_rule(bucket text) RETURNS bucket_rules
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    r @extschema@.bucket_rules;
BEGIN
    SELECT * INTO r FROM @extschema@.bucket_rules b WHERE b.bucket IN (bucket_rule.bucket, '*')
     ORDER BY b.bucket = '*' LIMIT 1;
    IF NOT FOUND THEN
        r := ROW('*', 5, 52428800, '{pdf,doc,docx,zip}');
    END IF;
    RETURN r;
END
$$;
GRANT EXECUTE ON FUNCTION bucket_rule(text) TO resume_pipeline_user;

-- A document_kind() name for a message.
CREATE FUNCTION _kind_description(kind text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kind WHEN 'pdf' THEN 'a PDF document'
                 WHEN 'docx' THEN 'a Word document (DOCX)'
                 WHEN 'doc' THEN 'a Word 97-2003 document (DOC)'
                 WHEN 'odt' THEN 'an OpenDocument text (ODT)'
                 WHEN 'rtf' THEN 'an RTF document'
                 WHEN 'png' THEN 'a PNG image'
                 WHEN 'jpeg' THEN 'a JPEG image'
                 WHEN 'tiff' THEN 'a TIFF image'
                 WHEN 'zip' THEN 'a ZIP archive'
                 WHEN 'text' THEN 'plain text'
                 ELSE 'data of no document type (an executable, other binary data)' END;

-- Refuses what a bucket's rule (bucket_rule()) does not accept: more bytes than its max_size
-- (or the global resume_pipeline.max_file_size) with 54000, a kind (a document_kind() name)
-- outside its allowed_types with 0A000. A null size or kind is not checked. how says what the
-- kind was decided from, for the message: 'content' (upload()) or 'name' (the storage hook).
CREATE FUNCTION _check_bucket_rules(bucket text, name text, size bigint, kind text DEFAULT NULL,
                                    how text DEFAULT 'content') RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    rule @extschema@.bucket_rules := @extschema@.bucket_rule(bucket);
    global_max bigint := pg_catalog.pg_size_bytes(pg_catalog.current_setting('resume_pipeline.max_file_size'));
BEGIN
    IF size > rule.max_size THEN
        RAISE EXCEPTION 'upload: "%" is % bytes; bucket "%" accepts at most % bytes (%)', name, size, bucket,
                        rule.max_size, pg_catalog.pg_size_pretty(rule.max_size)
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = format('The limit is max_size of the row %s of resume_pipeline.bucket_rules.',
                                pg_catalog.quote_literal(rule.bucket));
    END IF;
    IF size > global_max THEN
        RAISE EXCEPTION 'upload: "%" is % bytes, more than resume_pipeline.max_file_size (%)', name, size,
                        pg_catalog.current_setting('resume_pipeline.max_file_size')
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF kind IS NOT NULL AND NOT kind = ANY (rule.allowed_types) THEN
        RAISE EXCEPTION 'upload: by its %, "%" is %, which bucket "%" does not accept', how, name,
                        @extschema@._kind_description(kind), bucket
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('Bucket "%s" accepts: %s.', bucket,
                                  coalesce(nullif(pg_catalog.array_to_string(rule.allowed_types, ', '), ''), 'nothing')),
                  HINT = format('The types are allowed_types of the row %s of resume_pipeline.bucket_rules.',
                                pg_catalog.quote_literal(rule.bucket));
    END IF;
END
$$;

-- Whether a bucket accepts an object of this kind and size (for a caller that skips rather
-- than fails, such as an archive's expansion).
CREATE FUNCTION _bucket_allows(bucket text, kind text, size bigint) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN (SELECT size <= r.max_size AND kind = ANY (r.allowed_types)
               AND size <= pg_catalog.pg_size_bytes(pg_catalog.current_setting('resume_pipeline.max_file_size'))
          FROM @extschema@.bucket_rule(bucket) r);

-- Versions. A key's current version is its files row (its id never changes: résumés,
-- applicants and archives reference it); each older version kept is a files row of its own,
-- named "<key>//v<version>" (a name no upload can take: empty path components are refused),
-- with version_of = the current row, holding that version's object. Deleting the current row
-- deletes its versions (and their objects, at commit): _file_deleted does, rather than a foreign
-- key of files on itself, which would make every pg_dump warn of circular constraints.
ALTER TABLE files ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE files ADD COLUMN version_of uuid;
CREATE INDEX files_versions_idx ON files (version_of, version) WHERE version_of IS NOT NULL;
-- An earlier résumé version's own files row (null when it was not kept, or was registered
-- from storage.objects, whose old bytes Supabase does not keep).
ALTER TABLE resume_versions ADD COLUMN file_id uuid;
ALTER TABLE resume_versions ADD CONSTRAINT resume_versions_file_id_fkey
    FOREIGN KEY (user_id, file_id) REFERENCES files (user_id, id) ON DELETE SET NULL (file_id);
CREATE INDEX resume_versions_file_idx ON resume_versions (file_id) WHERE file_id IS NOT NULL;

-- The older versions of a key (current_id: its current row) beyond the newest keep: what
-- pruning removes. A version an applicant's cv_file_id or a résumé's zip_id names is never among
-- them: it stays while something names it, and the next upload of the key prunes it after.
CREATE FUNCTION _versions_to_prune(current_id uuid, keep integer) RETURNS SETOF uuid
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
SELECT o.id
  FROM (SELECT v.id, v.user_id FROM @extschema@.files v
         WHERE v.version_of = current_id ORDER BY v.version DESC OFFSET greatest(keep, 0)) o
 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.applicants a WHERE a.user_id = o.user_id AND a.cv_file_id = o.id)
   AND NOT EXISTS (SELECT 1 FROM @extschema@.resumes r WHERE r.zip_id = o.id)
$$;

-- Removes a résumé's earlier versions (text and JSON) beyond the newest keep, except those
-- whose own files row is still kept (see _versions_to_prune).
CREATE FUNCTION _prune_resume_versions(resume_id uuid, keep integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM @extschema@.resume_versions v
     WHERE v.id IN (SELECT x.id FROM @extschema@.resume_versions x WHERE x.resume_id = _prune_resume_versions.resume_id
                     ORDER BY x.version DESC OFFSET greatest(keep, 0))
       AND v.file_id IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Applies keep_versions now to every key of a bucket (every bucket when null), as the next
-- upload of each key would: after lowering a rule. Owner only (granted to nobody; it deletes
-- other users' rows). Returns how many versions it removed (files rows and résumé versions).
CREATE FUNCTION prune_versions(bucket text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    n integer := 0;
    k integer;
BEGIN
    FOR c IN SELECT f.id, f.bucket FROM @extschema@.files f
              WHERE f.version_of IS NULL AND (prune_versions.bucket IS NULL OR f.bucket = prune_versions.bucket)
                AND EXISTS (SELECT 1 FROM @extschema@.files v WHERE v.version_of = f.id) LOOP
        DELETE FROM @extschema@.files f
         WHERE f.id IN (SELECT @extschema@._versions_to_prune(c.id, (@extschema@.bucket_rule(c.bucket)).keep_versions - 1));
        GET DIAGNOSTICS k = ROW_COUNT;
        n := n + k;
    END LOOP;
    FOR c IN SELECT r.id, r.bucket FROM @extschema@.resumes r
              WHERE (prune_versions.bucket IS NULL OR r.bucket = prune_versions.bucket)
                AND EXISTS (SELECT 1 FROM @extschema@.resume_versions v WHERE v.resume_id = r.id) LOOP
        n := n + @extschema@._prune_resume_versions(c.id, (@extschema@.bucket_rule(c.bucket)).keep_versions - 1);
    END LOOP;
    RETURN n;
END
$$;

-- Only on update: a file of 0.1.0 with a résumé of several versions is at that version.
UPDATE files f SET version = r.version FROM resumes r WHERE r.file_id = f.id AND r.version > 1;
