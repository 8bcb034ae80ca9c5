#!/usr/bin/env bash
# OCR throughput on one core, and what OCR costs text PDFs (nothing, it should be).
#
#   bench/ocr.sh                      ROUNDS=7 PAGES=8 bench/ocr.sh    CORPUS_DIR=/some/pdfs bench/ocr.sh
#
# Everything runs pinned to CPU 0 (taskset), the cluster included, so a backend, its parser
# zygote and the document processes share one core:
#   - OCR: document_text of PAGES copies of a scanned one-page résumé (build/fixtures/ocr_scan.pdf,
#     150 dpi, rendered at resume_pipeline.ocr_dpi) and of the same page as a PNG; pages per
#     second and CPU seconds per page;
#   - text PDFs: pdf_text over every PDF of the corpus that has a text layer on every page
#     (pdf_info's ocr_pages empty), ROUNDS rounds alternating resume_pipeline.ocr on and off;
#     the ratio of the medians should be 1.0 (OCR only looks at pages without text).
# Needs the extension installed (scripts/setup.sh) and the fixtures (make fixtures).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${RP_BENCH_PINNED:-}" ]; then
    command -v taskset >/dev/null || { echo "taskset not found (util-linux)" >&2; exit 1; }
    RP_BENCH_PINNED=1 exec taskset -c 0 "$0" "$@"
fi
CORPUS_DIR=$(realpath -m "${CORPUS_DIR:-$ROOT/../shared/corpus/resumes}")
ROUNDS=${ROUNDS:-9}
PAGES=${PAGES:-6}
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $PAGES =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS and PAGES must be positive integers" >&2; exit 1; }
scan=$ROOT/build/fixtures/ocr_scan.pdf
photo=$ROOT/build/fixtures/ocr_photo.png
[ -f "$scan" ] && [ -f "$photo" ] || { echo "no $scan: run make fixtures first" >&2; exit 1; }
shopt -s nullglob
texts=("$CORPUS_DIR"/*.pdf)
[ ${#texts[@]} -gt 0 ] || texts=("$ROOT"/build/samples/*.pdf)

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
trap cluster_stop EXIT
cluster_start "resume_pipeline.workers = 0"
PSQL=("$RP_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1)

load() { # load TABLE FILE...
    local table=$1 f
    shift
    for f in "$@"; do printf '%s\t%s\n' "$(basename "$f")" "$(base64 -w0 "$f")"; done |
        "${PSQL[@]}" -c "CREATE TABLE $table(name text, data bytea)" \
            -c 'CREATE TEMP TABLE staging(name text, b64 text)' -c '\copy staging FROM pstdin' \
            -c "INSERT INTO $table SELECT name, decode(b64, 'base64') FROM staging"
}
"${PSQL[@]}" -c 'CREATE EXTENSION resume_pipeline'
load all_texts "${texts[@]}"
load scan_one "$scan"
load photo_one "$photo"
"${PSQL[@]}" >/dev/null <<SQL
-- Text PDFs only: a page without a text layer would be OCRed, which is not what is measured here.
CREATE TABLE texts AS SELECT * FROM all_texts WHERE resume_pipeline.pdf_info(data) -> 'ocr_pages' = '[]';
CREATE TABLE scans AS SELECT name || '#' || i AS name, data FROM scan_one, generate_series(1, $PAGES) i;
CREATE TABLE photos AS SELECT name || '#' || i AS name, data FROM photo_one, generate_series(1, $PAGES) i;
SQL
n_texts=$("${PSQL[@]}" -c "SELECT count(*) FROM texts")
n_all=$("${PSQL[@]}" -c "SELECT count(*) FROM all_texts")

# One psql session per measurement; its first call starts the backend's parser (untimed), then
# the statement is timed inside the server. Prints "ms chars".
timed() { # timed SETTING_SQL FUNCTION TABLE
    "${PSQL[@]}" <<SQL
$1
SELECT length(resume_pipeline.pdf_info(data)::text) FROM texts LIMIT 1 \gset warm
SELECT clock_timestamp() AS t0 \gset
SELECT sum(length(resume_pipeline.$2(data))) AS chars FROM $3 \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) || ' ' || :chars;
SQL
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "CPU: $(taskset -pc $$ | sed 's/.*: //') of $(nproc); dpi $("${PSQL[@]}" -c 'SHOW resume_pipeline.ocr_dpi')"
read -r scan_ms scan_chars < <(timed "" document_text scans)
read -r photo_ms photo_chars < <(timed "" document_text photos)
echo "OCR, scanned PDF (rendered and read): $PAGES pages in $scan_ms ms: $(awk -v n="$PAGES" -v ms="$scan_ms" 'BEGIN {printf "%.2f pages/s, %.2f s/page", n * 1000 / ms, ms / 1000 / n}') ($scan_chars chars)"
echo "OCR, PNG photo (decoded and read):    $PAGES pages in $photo_ms ms: $(awk -v n="$PAGES" -v ms="$photo_ms" 'BEGIN {printf "%.2f pages/s, %.2f s/page", n * 1000 / ms, ms / 1000 / n}') ($photo_chars chars)"

echo "pdf_text over $n_texts text PDFs (of $n_all; the others have pages without a text layer), OCR on vs off:"
on=() off=()
for r in $(seq 1 "$ROUNDS"); do
    # Which side goes first alternates, so a drift in the machine's load favours neither.
    if [ $((r % 2)) = 1 ]; then
        read -r on_ms on_chars < <(timed "SET resume_pipeline.ocr = on;" pdf_text texts)
        read -r off_ms off_chars < <(timed "SET resume_pipeline.ocr = off;" pdf_text texts)
    else
        read -r off_ms off_chars < <(timed "SET resume_pipeline.ocr = off;" pdf_text texts)
        read -r on_ms on_chars < <(timed "SET resume_pipeline.ocr = on;" pdf_text texts)
    fi
    [ "$on_chars" = "$off_chars" ] || { echo "round $r: OCR on gave $on_chars chars, off $off_chars: not the same text" >&2; exit 1; }
    echo "  round $r: on $on_ms ms, off $off_ms ms"
    on+=("$on_ms") off+=("$off_ms")
done
on_med=$(printf '%s\n' "${on[@]}" | median)
off_med=$(printf '%s\n' "${off[@]}" | median)
echo "median: on $on_med ms, off $off_med ms, ratio on/off $(awk -v a="$on_med" -v b="$off_med" 'BEGIN {printf "%.3f", a / b}') (target ~1.0); $on_chars chars either way"
