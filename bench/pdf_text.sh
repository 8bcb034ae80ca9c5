#!/usr/bin/env bash
# Throughput of resume_pipeline.pdf_text against running `pdftotext FILE -` once per file.
#
#   bench/pdf_text.sh                 ROUNDS=9 bench/pdf_text.sh    CORPUS_DIR=/some/pdfs bench/pdf_text.sh
#
# Both sides use poppler in reading-order mode; the extension pays for crash isolation (every
# document goes to the backend's helper process over a socket), pdftotext pays a process start
# per file. Needs the extension installed (scripts/setup.sh) and poppler-utils.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS_DIR=$(realpath -m "${CORPUS_DIR:-$ROOT/../shared/corpus/resumes}")
ROUNDS=${ROUNDS:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
command -v pdftotext >/dev/null || { echo "pdftotext not found (poppler-utils)" >&2; exit 1; }
export LC_ALL=C.UTF-8 # wc -m must count characters the way length() does

shopt -s nullglob
files=("$CORPUS_DIR"/*.pdf)
if [ ${#files[@]} -eq 0 ]; then
    echo "no PDFs in $CORPUS_DIR; nothing to benchmark"
    exit 0
fi
N=${#files[@]}

# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. "$ROOT/scripts/lib/cluster.sh"
trap cluster_stop EXIT
cluster_start
PSQL=("$RP_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1)

# Load (untimed): one "name<TAB>base64" line per file through \copy, decoded server-side.
# Names are assumed free of tabs, newlines and backslashes (COPY text format).
for f in "${files[@]}"; do printf '%s\t%s\n' "$(basename "$f")" "$(base64 -w0 "$f")"; done |
    "${PSQL[@]}" -c 'CREATE EXTENSION resume_pipeline' \
        -c 'CREATE TABLE docs(name text, data bytea)' \
        -c 'CREATE TEMP TABLE staging(name text, b64 text)' \
        -c '\copy staging FROM pstdin' \
        -c "INSERT INTO docs SELECT name, decode(b64, 'base64') FROM staging" \
        -c 'VACUUM ANALYZE docs'

# One psql session for the whole run, kept open as a coprocess, so the warm-up starts the
# backend's helper once and every timed round reuses it, as a long-lived connection would.
# Time is taken inside the server (clock_timestamp) around the statement only.
coproc PG { "${PSQL[@]}" 2>&1; }
pg_proc=$PG_PID # bash unsets PG_PID as soon as the coprocess exits
ext_round() { # sets EXT_CHARS (total characters) and EXT_MS
    printf '%s\n' \
        'SELECT clock_timestamp() AS t0 \gset' \
        'SELECT sum(length(resume_pipeline.pdf_text(data))) AS chars FROM docs \gset' \
        "SELECT :chars || ' ' || round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);" \
        >&"${PG[1]}"
    local line
    IFS= read -r line <&"${PG[0]}" || { echo "psql session died" >&2; exit 1; }
    [[ $line =~ ^([0-9]+)\ ([0-9.]+)$ ]] || { echo "extension round failed: $line" >&2; exit 1; }
    EXT_CHARS=${BASH_REMATCH[1]} EXT_MS=${BASH_REMATCH[2]}
}

# Baseline: one pdftotext process per file, sequentially, as a per-file shell pipeline would.
pdftotext_round() { # sets PTT_MS
    local t0 t1 f
    t0=$(date +%s%N)
    for f in "${files[@]}"; do pdftotext -q "$f" - >/dev/null; done
    t1=$(date +%s%N)
    PTT_MS=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e6 }')
}

# Warm-up (untimed): starts the helper, fills the page cache and shared buffers for both sides.
# Its character counts check that both sides extract comparable text (an honest comparison).
ext_round
ext_chars=$EXT_CHARS
ptt_chars=$(for f in "${files[@]}"; do pdftotext -q "$f" -; done | wc -m)
pdftotext_round

# Timed rounds, alternating the sides (and which goes first) so drift hits both alike.
ext_ms=() ptt_ms=()
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
        ext_round; pdftotext_round
    else
        pdftotext_round; ext_round
    fi
    ext_ms+=("$EXT_MS") ptt_ms+=("$PTT_MS")
    printf 'round %d: extension %8s ms   pdftotext %8s ms\n' "$r" "${ext_ms[-1]}" "${ptt_ms[-1]}"
done
# shellcheck disable=SC1083,SC2093 # bash closes the fd named by {PG[1]}
exec {PG[1]}>&- # end the psql session before cluster_stop
wait "$pg_proc" || true

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ext_med=$(median "${ext_ms[@]}")
ptt_med=$(median "${ptt_ms[@]}")

awk -v n="$N" -v r="$ROUNDS" -v em="$ext_med" -v pm="$ptt_med" -v ec="$ext_chars" -v pc="$ptt_chars" 'BEGIN {
    ed = n / (em / 1000); pd = n / (pm / 1000)
    printf "\npdf_text benchmark: %d documents x %d rounds (crash isolation on)\n", n, r
    printf "extension pdf_text : %.1f docs/s (median round %.0f ms)\n", ed, em
    printf "pdftotext per file : %.1f docs/s (median round %.0f ms)\n", pd, pm
    printf "ratio              : %.2fx  (target >= 1.0)\n", ed / pd
    printf "text extracted     : extension %d chars, pdftotext %d chars (%+.1f%%)\n", ec, pc, (ec - pc) * 100 / pc
}'
