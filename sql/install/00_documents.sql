-- resume_pipeline 0.2.0. In order: reading documents (every byte of a document goes to
-- resume_pipeline_parser, a separate process with memory and CPU limits, so a hostile file can
-- fail only its own statement); identity; the data model with row-level security; storage and
-- uploads; the queue and its triggers; processing steps, retries and circuit breakers; queries;
-- the Supabase hook; observability.

\echo Use "CREATE EXTENSION resume_pipeline" to load this file. \quit

-- Who may use it: members of the role resume_pipeline_user (created here when missing; on
-- Supabase, "authenticated" is made a member). Nothing is granted to PUBLIC: a reporting role
-- or another application in the same database reaches no table and no function. Every function
-- below is created with EXECUTE for PUBLIC (PostgreSQL's default); the end of this script
-- revokes that everywhere and grants the public API back to resume_pipeline_user.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'resume_pipeline_user') THEN
        CREATE ROLE resume_pipeline_user NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
        GRANT resume_pipeline_user TO authenticated;
    END IF;
END
$$;
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO resume_pipeline_user;

-- Text of every page of a PDF in reading order, pages separated by a form feed (\f).
-- Errors: 22P03 damaged/truncated/not a PDF or empty, 0A000 encrypted, 54000 a limit.
CREATE FUNCTION pdf_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_pdf_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000;

-- Metadata of a PDF: pages, encrypted, locked, pdf_version, title, author, subject, keywords,
-- creator, producer, creation_date, modification_date, linearized. A PDF that needs a
-- password answers with locked = true and null pages instead of failing.
CREATE FUNCTION pdf_info(data bytea) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_pdf_info'
    LANGUAGE C STRICT PARALLEL SAFE COST 1000;

-- Paragraphs of a DOCX main document (word/document.xml), in order, one per line.
CREATE FUNCTION docx_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_docx_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 1000;

-- Text of a PDF, a DOCX or UTF-8 plain text, recognised by content rather than by name.
-- Anything else is an error that names what was found (0A000), e.g. "a PNG image".
CREATE FUNCTION document_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_document_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000;

-- Regular files of a ZIP archive, in archive order, with safe relative names. Directories and
-- symbolic links are skipped; nested archives come back as bytes, unopened. Archives that
-- break a limit (resume_pipeline.zip_*) or hold an unsafe name ("..", absolute paths, control
-- characters) fail whole, returning nothing.
CREATE FUNCTION zip_entries(data bytea, OUT name text, OUT size bigint, OUT data bytea)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_zip_entries'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000 ROWS 10;
