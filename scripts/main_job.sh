#!/usr/bin/env bash
# The main job on the embedded default (no network, no configuration): installs what it needs,
# builds and installs the extension, starts a throwaway cluster with the library preloaded,
# uploads the project's sample résumés (PDFs, a DOCX, a ZIP batch of PDFs), runs the pipeline
# (text extraction in the isolated parser, the built-in parser) and prints the filled rows:
# per résumé its name, email, status and ZIP lineage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/lib/cluster.sh
source scripts/lib/db.sh
trap cluster_stop EXIT
cluster_start

fresh_db resume_demo
load_files resume_demo samples build/samples/*.pdf build/samples/*.docx build/samples/*.zip
psql -X -q -d resume_demo -P pager=off <<'SQL'
SET search_path = resume_pipeline, public;
\echo
\echo '1. Upload: each sample becomes a stored object and, in the same transaction, a pending résumé'
\echo '   (the ZIP batch is queued for expansion). Filesystem storage under the data directory.'
SELECT count(upload('resumes', s.name, s.data, '{}', '5a3b6c1e-0000-4000-8000-000000000001')) AS uploaded
  FROM public.samples s;
\echo
\echo '2. Process: extract text in the isolated parser, parse it with the built-in parser, write the rows.'
SELECT process_pending() AS jobs_run;
\echo
\echo '3. The filled rows:'
SELECT r.original_filename AS document,
       r.parsed #>> '{basics,name}' AS name,
       r.parsed #>> '{basics,email}' AS email,
       r.parsed #>> '{basics,phone}' AS phone,
       r.status,
       regexp_replace(z.name, '^.*/', '') AS from_zip,
       (SELECT string_agg(w ->> 'name', '; ') FROM jsonb_array_elements(r.parsed -> 'work') w) AS employers
  FROM resumes r LEFT JOIN files z ON z.id = r.zip_id
 ORDER BY z.name NULLS FIRST, r.original_filename;
SELECT regexp_replace(f.name, '^.*/', '') AS zip_batch, p.*
  FROM files f, batch_progress(f.id) p WHERE f.mime_type = 'application/zip';
SQL
