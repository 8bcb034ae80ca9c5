#!/usr/bin/env bash
# Writes damaged and refused variants of the Word, RTF and ODT samples into $1 (created), for
# test/integration/word_formats.sh, hostile_corpus.sh and the fuzzers' seeds. Needs only coreutils,
# python3 and tools/make_documents (for the ODT archives: mimetype stored first, as ODF wants).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$1
mkdir -p "$out"
mk=$root/tools/make_documents
[ -x "$mk" ] || make -s -C "$root" tools/make_documents

# .doc: cut in the middle of its streams; an OLE2 signature followed by garbage; the
# fEncrypted bit set in the file information block (a password-protected file as libwv sees it);
# an OLE2 file whose only stream is an Excel workbook's.
head -c 6000 "$here/cv_ada.doc" >"$out/truncated.doc"
{ printf '\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1'; head -c 4000 /dev/zero | tr '\0' 'x'; } >"$out/bad_ole2.doc"
python3 - "$here/cv_ada.doc" "$out/encrypted.doc" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
# The WordDocument stream starts on a sector with the Word 97 FIB identifier 0xA5EC.
fib = next(i for i in range(512, len(d), 512) if d[i:i + 2] == b'\xec\xa5')
d[fib + 0x0B] |= 0x01  # flags at FIB offset 0x0A: fEncrypted is 0x0100
open(sys.argv[2], 'wb').write(d)
PY
python3 - "$here/cv_ada.doc" "$out/workbook.xls" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
# Rename the WordDocument directory entry (UTF-16 name) to Workbook: an OLE2 file, not Word.
old = 'WordDocument'.encode('utf-16-le')
i = d.index(old)
new = 'Workbook'.encode('utf-16-le')
d[i:i + 64] = (new + b'\0' * 64)[:64]
d[i + 64:i + 66] = (len(new) + 2).to_bytes(2, 'little')
open(sys.argv[2], 'wb').write(d)
PY

# RTF: the last closing braces missing (a truncated file), one '}' too many, groups nested
# deeper than any document does.
head -c -40 "$here/cv_ada.rtf" >"$out/truncated.rtf"
{ cat "$here/cv_lukasz.rtf"; printf '}'; } >"$out/unbalanced.rtf"
python3 -c "import sys; sys.stdout.write('{\\\\rtf1 ' + '{' * 5000 + 'deep' + '}' * 5000 + '}')" >"$out/deep.rtf"

# ODT: content.xml cut in the middle of an element; no content.xml at all.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'application/vnd.oasis.opendocument.text' >"$tmp/mimetype"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>Broken Odt</text:p><text:p>cut here' >"$tmp/content.xml"
"$mk" zip "$out/broken_xml.odt" "mimetype==$tmp/mimetype" "content.xml=$tmp/content.xml" >/dev/null
"$mk" zip "$out/no_content.odt" "mimetype==$tmp/mimetype" "styles.xml@text:<x/>" >/dev/null
