-- Limits and crash isolation: an oversized input, a parser that crashes, spins, eats memory
-- or hangs each give an ERROR in this session only; the next call gets a fresh parser.
\getenv abs_srcdir PG_ABS_SRCDIR
\set samples :abs_srcdir '/../build/samples'
SET search_path = resume_pipeline, public;
\set ada `base64 -w0 :samples/ada_whitfield.pdf`

-- Largest input.
SHOW resume_pipeline.max_file_size;
SET resume_pipeline.max_file_size = '8kB';
SELECT pdf_text(decode(:'ada', 'base64'));
\echo :LAST_ERROR_SQLSTATE
RESET resume_pipeline.max_file_size;

-- The parser is killed for each misbehaviour; the session survives each time.
SELECT debug_parser_crash('segv');
\echo :LAST_ERROR_SQLSTATE
SELECT 1 AS alive_after_segv;
SELECT debug_parser_crash('abort');
\echo :LAST_ERROR_SQLSTATE
SET resume_pipeline.parser_cpu_time_limit = '1s';
SELECT debug_parser_crash('loop');
\echo :LAST_ERROR_SQLSTATE
SET resume_pipeline.parser_memory_limit = '256MB';
SELECT debug_parser_crash('memory');
\echo :LAST_ERROR_SQLSTATE
RESET resume_pipeline.parser_memory_limit;
SET statement_timeout = '300ms';
SELECT debug_parser_crash('hang');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT debug_parser_crash('hang');
\echo :LAST_ERROR_SQLSTATE
RESET resume_pipeline.parser_cpu_time_limit;
SELECT debug_parser_crash('explode');
\echo :LAST_ERROR_SQLSTATE
SELECT split_part(pdf_text(decode(:'ada', 'base64')), E'\n', 1) AS parser_restarted;

-- Ordinary users (members of resume_pipeline_user) can neither lift the limits nor crash the
-- parser.
CREATE ROLE rp_regress_user IN ROLE resume_pipeline_user;
SET ROLE rp_regress_user;
SET resume_pipeline.max_file_size = '1GB';
\echo :LAST_ERROR_SQLSTATE
SET resume_pipeline.parser_memory_limit = '64GB';
\echo :LAST_ERROR_SQLSTATE
SELECT resume_pipeline.debug_parser_crash('segv');
\echo :LAST_ERROR_SQLSTATE
SELECT length(resume_pipeline.pdf_text(decode(:'ada', 'base64'))) > 0 AS users_may_read;
-- A role that is not a member reaches nothing of the extension.
RESET ROLE;
CREATE ROLE rp_regress_outsider;
SET ROLE rp_regress_outsider;
SELECT length(resume_pipeline.pdf_text(decode(:'ada', 'base64')));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE rp_regress_user;
DROP ROLE rp_regress_outsider;
