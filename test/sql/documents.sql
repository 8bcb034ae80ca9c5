-- Reading PDF, DOCX and text documents; every bad input gives a clear ERROR with a SQLSTATE
-- and leaves the session usable. Inputs are the project's own samples and crafted fixtures
-- (make samples; test/fixtures.sh).
\getenv abs_srcdir PG_ABS_SRCDIR
\set samples :abs_srcdir '/../build/samples'
\set fx :abs_srcdir '/../build/fixtures'
SET search_path = resume_pipeline, public;

\set ada `base64 -w0 :samples/ada_whitfield.pdf`
\set mateo `base64 -w0 :samples/mateo_alvarez.pdf`
\set priya `base64 -w0 :samples/priya_raghunathan.docx`

-- PDF text: reading order, one form feed between pages.
SELECT split_part(pdf_text(decode(:'ada', 'base64')), E'\n', 1) AS first_line,
       pdf_text(decode(:'ada', 'base64')) LIKE '%ada.whitfield@example.com%' AS has_email,
       pdf_text(decode(:'ada', 'base64')) LIKE '%Senior Backend Engineer, Lumen Freight Inc.%' AS has_employer;
SELECT length(regexp_replace(t, E'[^\\f]', '', 'g')) AS form_feeds,
       split_part(t, E'\n', 1) AS first_line,
       t LIKE '%Universitat Politècnica de València%' AS accents_kept,
       right(t, 1) <> E'\f' AS no_trailing_form_feed
FROM (SELECT pdf_text(decode(:'mateo', 'base64')) AS t) s;

-- PDF metadata.
SELECT info->'pages' AS pages, info->'encrypted' AS encrypted, info->'locked' AS locked,
       info->>'title' AS title, info->>'author' AS author, info->>'creator' AS creator,
       info->>'producer' LIKE 'cairo%' AS producer_is_cairo, info->>'creation_date' AS created
FROM (SELECT pdf_info(decode(:'mateo', 'base64')) AS info) s;

-- DOCX: paragraphs in order, tabs kept, empty paragraphs as empty lines.
SELECT docx_text(decode(:'priya', 'base64'));

-- document_text recognises the format from the bytes, not a name.
SELECT split_part(document_text(decode(:'ada', 'base64')), E'\n', 1) AS from_pdf,
       split_part(document_text(decode(:'priya', 'base64')), E'\n', 1) AS from_docx,
       document_text(convert_to('plain résumé text', 'UTF8')) AS from_text,
       document_text('\xefbbbf48656c6c6f'::bytea) AS bom_dropped;

-- Encrypted PDFs: a user password is required → 0A000; owner-password-only opens.
\set enc `base64 -w0 :fx/encrypted_user.pdf`
SELECT pdf_text(decode(:'enc', 'base64'));
\echo :LAST_ERROR_SQLSTATE
SELECT pdf_info(decode(:'enc', 'base64')) ->> 'locked' AS locked,
       pdf_info(decode(:'enc', 'base64')) -> 'pages' AS pages;
\set owner `base64 -w0 :fx/encrypted_owner_only.pdf`
SELECT pdf_text(decode(:'owner', 'base64')) LIKE 'Ada Whitfield%' AS opens,
       pdf_info(decode(:'owner', 'base64')) ->> 'encrypted' AS encrypted;

-- Broken documents → 22P03, naming the cause.
\set trunc `base64 -w0 :fx/truncated.pdf`
SELECT pdf_text(decode(:'trunc', 'base64'));
\echo :LAST_ERROR_SQLSTATE
SELECT document_text(decode(:'trunc', 'base64'));
\echo :LAST_ERROR_SQLSTATE
SELECT pdf_text(convert_to(E'%PDF-1.4\n%%EOF\n', 'UTF8'));
\echo :LAST_ERROR_SQLSTATE
SELECT pdf_text(convert_to('hello, I am not a PDF', 'UTF8'));
\echo :LAST_ERROR_SQLSTATE
SELECT pdf_text(''::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT document_text(''::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT docx_text(decode(:'ada', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set broken_docx `base64 -w0 :fx/docx_broken_xml.docx`
SELECT docx_text(decode(:'broken_docx', 'base64'));
\echo :LAST_ERROR_SQLSTATE

-- What document_text does not read is named → 0A000 (or 22021 for non-UTF-8 text).
\set rnd `base64 -w0 :fx/random.bin`
SELECT document_text(decode(:'rnd', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set png `base64 -w0 :fx/image.png`
SELECT document_text(decode(:'png', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set zip `base64 -w0 :fx/not_a_docx.zip`
SELECT document_text(decode(:'zip', 'base64'));
\echo :LAST_ERROR_SQLSTATE
\set latin1 `base64 -w0 :fx/latin1.txt`
SELECT document_text(decode(:'latin1', 'base64'));
\echo :LAST_ERROR_SQLSTATE

-- After all of that the session and its parser still work.
SELECT 1 AS still_alive;
SELECT split_part(pdf_text(decode(:'ada', 'base64')), E'\n', 1) AS parser_still_works;
