#!/usr/bin/env bash
# Builds the project's sample résumés into $1 (default build/samples) from the texts here:
# PDFs typeset with cairo, a DOCX, and a ZIP batch of PDFs. All content is the project's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/samples}
tool=${MAKE_DOCUMENTS:-$here/../tools/make_documents}
mkdir -p "$out"
for name in ada_whitfield mateo_alvarez jonas_becker chen_wei fatima_okafor; do
    "$tool" pdf "$out/$name.pdf" "$here/$name.txt"
done
"$tool" docx "$out/priya_raghunathan.docx" "$here/priya_raghunathan.txt"
"$tool" zip "$out/batch.zip" \
    "batch/jonas_becker.pdf=$out/jonas_becker.pdf" \
    "batch/chen_wei.pdf=$out/chen_wei.pdf" \
    "batch/fatima_okafor.pdf=$out/fatima_okafor.pdf"
