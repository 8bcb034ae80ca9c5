-- resume_pipeline 0.1.0: reading documents.
--
-- Every function below hands the bytes to resume_pipeline_parser, a separate process with
-- memory and CPU limits, so a hostile file can fail only its own statement.

\echo Use "CREATE EXTENSION resume_pipeline" to load this file. \quit

-- Every role may call the document functions; what each may see of the data is decided by
-- row-level security on the tables, not by hiding the schema.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

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

-- Test hook, superuser-only: makes the parser process crash ('segv', 'abort'), spin
-- ('loop'), exhaust its memory ('memory') or hang ('hang') so tests can prove that only the
-- parser dies and the calling session gets an ERROR.
CREATE FUNCTION debug_parser_crash(mode text DEFAULT 'segv') RETURNS void
    AS 'MODULE_PATHNAME', 'rp_debug_parser_crash'
    LANGUAGE C STRICT PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION debug_parser_crash(text) FROM PUBLIC;
