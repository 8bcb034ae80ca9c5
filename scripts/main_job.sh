#!/usr/bin/env bash
# The main job on the embedded default (no network, no configuration): installs what it needs,
# builds and installs the extension, starts a throwaway cluster with the library preloaded,
# loads the project's sample résumés (PDFs, a DOCX, a ZIP batch of PDFs) and prints, for each
# document, its format, page count and first lines, read through the extension's isolated
# parser. Later issues grow this into the whole pipeline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/lib/cluster.sh
source scripts/lib/db.sh
trap cluster_stop EXIT
cluster_start

fresh_db resume_demo
load_files resume_demo uploads build/samples/*.pdf build/samples/*.docx build/samples/*.zip
echo
echo "Sample résumés read by resume_pipeline (uploads → documents → text):"
psql -X -q -d resume_demo -P pager=off <<'SQL'
SET search_path = resume_pipeline, public;
WITH documents AS (
    -- Plain uploads, and every document inside an uploaded ZIP, with its lineage.
    SELECT u.name AS document, NULL AS from_zip, u.data FROM uploads u WHERE u.name NOT LIKE '%.zip'
    UNION ALL
    SELECT e.name, u.name, e.data FROM uploads u, zip_entries(u.data) e WHERE u.name LIKE '%.zip'
)
SELECT document,
       from_zip,
       CASE WHEN substr(data, 1, 5) = '\x255044462d' THEN 'PDF' ELSE 'DOCX' END AS format,
       CASE WHEN substr(data, 1, 5) = '\x255044462d' THEN (pdf_info(data) ->> 'pages')::int END AS pages,
       array_to_string((regexp_split_to_array(document_text(data), '\n+'))[1:3], ' | ') AS first_lines
FROM documents
ORDER BY from_zip NULLS FIRST, document;
SQL
