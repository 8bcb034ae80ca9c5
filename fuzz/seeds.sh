#!/usr/bin/env bash
# Writes the fuzzer's seed corpus into $1 (default fuzz/build/seeds) from the project's own
# samples and crafted fixtures, each file prefixed by the selector byte of an entry point that
# should read it (see document_fuzzer.cpp). Inputs larger than MAX_SEED bytes are skipped: they
# slow every mutation down and exceed the fuzzer's 1 MB max_file_size anyway.
# If SHARED_CORPUS names a directory, its PDFs are used too, read in place at run time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$here/build/seeds}
max_seed=${MAX_SEED:-262144}

[ -d "$root/build/samples" ] && ls "$root"/build/samples/*.pdf >/dev/null 2>&1 || make -C "$root" samples
[ -d "$root/build/fixtures" ] && ls "$root"/build/fixtures/*.zip >/dev/null 2>&1 || bash "$root/test/fixtures.sh"

rm -rf "$out"
mkdir -p "$out"
count=0

# seed SELECTOR FILE: the file's bytes after one selector byte.
seed() {
    local sel=$1 file=$2
    [ -f "$file" ] || return 0
    [ "$(stat -c %s "$file")" -le "$max_seed" ] || return 0
    { printf "\\x$(printf %02x "$sel")"; cat "$file"; } >"$out/s${sel}_$(basename "$file")"
    count=$((count + 1))
}

# Selectors: 0 pdf_text, 1 pdf_info_json, 2 docx_text, 3 document_text, 4 zip entries, 5 entry name.
for f in "$root"/build/samples/*.pdf "$root"/build/fixtures/*.pdf; do
    seed 0 "$f"; seed 1 "$f"; seed 3 "$f"
done
for f in "$root"/build/samples/*.docx "$root"/build/fixtures/*.docx; do
    seed 2 "$f"; seed 3 "$f"; seed 4 "$f"
done
for f in "$root"/build/samples/*.zip "$root"/build/fixtures/*.zip; do
    seed 4 "$f"; seed 3 "$f"; seed 2 "$f"
done
for f in "$root"/build/fixtures/*.txt "$root"/build/fixtures/*.png "$root"/build/fixtures/*.bin; do
    seed 3 "$f"
done
for f in "$root"/samples/*.txt; do
    seed 3 "$f"
done

# Archives at the fuzzer's own limits (1 MB file, 100 entries, 4 MB total, ratio 100), which the
# project's fixtures overshoot by design: without these the limit checks are never reached.
mk=$root/tools/make_documents
[ -x "$mk" ] || make -C "$root" tools/make_documents
tmp=$here/build/seed_src
rm -rf "$tmp"
mkdir -p "$tmp"
"$mk" many "$tmp/entries_101.zip" 101
"$mk" zip "$tmp/entry_ratio.zip" "z.txt@zeros:1048576"
"$mk" zip "$tmp/archive_ratio.zip" "a.txt@zeros:1000000" "b.txt@zeros:1000000"
"$mk" zip "$tmp/total_size.zip" a@zeros:1000000 b@zeros:1000000 c@zeros:1000000 d@zeros:1000000 e@zeros:1000000
"$mk" zip "$tmp/links_dirs.zip" "dir/" "dir/link@symlink:../../etc/passwd" "dir/./ok.txt@text:fine"
"$mk" zip "$tmp/docx_big_part.zip" "word/document.xml@zeros:1048576"
for f in "$tmp"/*.zip; do
    seed 4 "$f"; seed 3 "$f"; seed 2 "$f"
done

# Entry names, valid and hostile.
i=0
for name in 'docs/cv.pdf' './a//b/./c.txt' 'dir\sub\file.docx' '../../etc/passwd' '/etc/passwd' \
            'C:/autoexec.bat' 'a/../b' 'résumé/Łódź.pdf' '.' 'a/.' 'x/..\y'; do
    printf '\x05%s' "$name" >"$out/s5_name$i"
    i=$((i + 1)); count=$((count + 1))
done

if [ -n "${SHARED_CORPUS:-}" ] && [ -d "$SHARED_CORPUS" ]; then
    while IFS= read -r -d '' f; do
        seed 0 "$f"; seed 1 "$f"
    done < <(find "$SHARED_CORPUS" -name '*.pdf' -print0)
fi

echo "seeds.sh: $count seeds in $out"
