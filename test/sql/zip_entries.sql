-- ZIP archives: regular files with safe names; bombs, traversal and oversized archives fail
-- whole with a clear ERROR, and the session goes on.
\getenv abs_srcdir PG_ABS_SRCDIR
\set samples :abs_srcdir '/../build/samples'
\set fx :abs_srcdir '/../build/fixtures'
SET search_path = resume_pipeline, public;

\set batch `base64 -w0 :samples/batch.zip`
SELECT name, size, size = length(data) AS size_matches,
       split_part(pdf_text(data), E'\n', 1) AS candidate
FROM zip_entries(decode(:'batch', 'base64'));

-- Directories and symbolic links are dropped, names are normalised, and a nested archive
-- comes back as bytes without being opened.
\set mixed `base64 -w0 :fx/mixed.zip`
SELECT name, size, CASE WHEN name LIKE '%.zip' THEN substr(data, 1, 4) ELSE data END AS head
FROM zip_entries(decode(:'mixed', 'base64'));

-- Names that could escape an extraction directory → 22P03, nothing returned.
\set f `base64 -w0 :fx/traversal.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set f `base64 -w0 :fx/absolute.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set f `base64 -w0 :fx/backslash.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set f `base64 -w0 :fx/drive_letter.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
-- A control character in a UTF-8 name: libzip itself calls the archive inconsistent.
\set f `base64 -w0 :fx/control_char.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
-- A name without the UTF-8 flag is CP437, where 0x01 is the glyph ☺: harmless.
\set f `base64 -w0 :fx/control_char_cp437.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
-- libzip turns a NUL inside a stored name into a space, so the name cannot be cut short.
\set f `base64 -w0 :fx/nul_char.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));

-- Zip bombs → 54000: by compression ratio, by entry size, by total size, by entry count.
\set f `base64 -w0 :fx/bomb_ratio.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set f `base64 -w0 :fx/bomb_entry_size.zip`
SELECT name FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set f `base64 -w0 :fx/bomb_total.zip`
SELECT count(*) FROM zip_entries(decode(:'f', 'base64'));
SET resume_pipeline.zip_max_total_size = '1MB';
SELECT count(*) FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
RESET resume_pipeline.zip_max_total_size;
\set f `base64 -w0 :fx/many_entries.zip`
SELECT count(*) FROM zip_entries(decode(:'f', 'base64'));
\echo :LAST_ERROR_SQLSTATE
SET resume_pipeline.zip_max_entries = 20000;
SELECT count(*), sum(size) FROM zip_entries(decode(:'f', 'base64'));
RESET resume_pipeline.zip_max_entries;

-- Not an archive, an empty value, a damaged archive.
SELECT name FROM zip_entries(convert_to('PK but not really', 'UTF8'));
\echo :LAST_ERROR_SQLSTATE
SELECT name FROM zip_entries(''::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT name FROM zip_entries(substr(decode(:'batch', 'base64'), 1, 30000));
\echo :LAST_ERROR_SQLSTATE

SELECT 1 AS still_alive;
