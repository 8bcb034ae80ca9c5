#!/usr/bin/env bash
# Builds the crafted bad inputs the tests feed the extension, into $1 (default build/fixtures).
# Everything is generated from the project's own samples (make samples runs first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/fixtures}
samples=$root/build/samples
mk=$root/tools/make_documents
rm -rf "$out"
mkdir -p "$out"

# ZIP bombs: by ratio (100 MB of zeros deflates ~1000:1), and by total size (incompressible
# entries; the test lowers resume_pipeline.zip_max_total_size below their sum).
"$mk" zip "$out/bomb_ratio.zip" "payload.txt@zeros:41943040"
"$mk" zip "$out/bomb_entry_size.zip" "payload.txt@zeros:104857600"
"$mk" random "$out/noise1.bin" 524288 1
"$mk" random "$out/noise2.bin" 524288 2
"$mk" random "$out/noise3.bin" 524288 3
"$mk" zip "$out/bomb_total.zip" "a.bin=$out/noise1.bin" "b.bin=$out/noise2.bin" "c.bin=$out/noise3.bin"
# Many small files whose sum passes the overall ratio check but not the per-entry floor.
"$mk" many "$out/many_entries.zip" 10000

# Names that try to leave the extraction directory.
"$mk" zip "$out/traversal.zip" "ok.txt@text:fine" "../../etc/passwd@text:root:x:0:0:root:/root:/bin/bash"
"$mk" zip "$out/absolute.zip" "/etc/passwd@text:root:x:0:0"
"$mk" zip "$out/backslash.zip" '..\..\windows\win.ini@text:[fonts]'
"$mk" zip "$out/drive_letter.zip" 'C:/autoexec.bat@text:echo'
# libzip will not write control characters in a name, so patch them into the headers (the
# CRC covers only the data). A non-ASCII name is flagged UTF-8 and kept as is; an ASCII one
# is read as CP437, where byte 0x01 is a printable glyph.
"$mk" zip "$out/control_char.zip" "évilXname.pdf@text:x"
perl -pi -e 's/\xa9vilXname/\xa9vil\x01name/g' "$out/control_char.zip"
"$mk" zip "$out/control_char_cp437.zip" "evilXname.pdf@text:x"
perl -pi -e 's/evilXname/evil\x01name/g' "$out/control_char_cp437.zip"
"$mk" zip "$out/nul_char.zip" "cv.pdfXhidden.exe@text:x"
perl -pi -e 's/cv\.pdfXhidden/cv.pdf\x00hidden/g' "$out/nul_char.zip"

# What zip_entries keeps and drops: a normalised name, a directory, a symbolic link, and a
# nested archive that must come back as bytes.
"$mk" zip "$out/mixed.zip" "docs/" "./docs//cv.txt@text:Jane Roe" "link.pdf@symlink:/etc/passwd" \
    "inner.zip=$samples/batch.zip" "résumé.txt@text:accented"

# Documents that are broken in different ways.
size=$(stat -c %s "$samples/ada_whitfield.pdf")
head -c $((size * 55 / 100)) "$samples/ada_whitfield.pdf" >"$out/truncated.pdf"
qpdf --encrypt secret owner-secret 256 -- "$samples/ada_whitfield.pdf" "$out/encrypted_user.pdf"
qpdf --encrypt "" owner-secret 256 -- "$samples/ada_whitfield.pdf" "$out/encrypted_owner_only.pdf"
"$mk" random "$out/random.bin" 65536 42
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >"$out/image.png"
printf 'Caf\xe9 au lait, Latin-1 text\n' >"$out/latin1.txt"
"$mk" zip "$out/not_a_docx.zip" "readme.txt@text:hello"
"$mk" zip "$out/docx_broken_xml.docx" "word/document.xml@text:<w:document><w:body><w:p>"

# Batches for the upload pipeline: five résumés; and one with a damaged PDF and a non-document.
"$mk" zip "$out/batch5.zip" \
    "ada_whitfield.pdf=$samples/ada_whitfield.pdf" "mateo_alvarez.pdf=$samples/mateo_alvarez.pdf" \
    "jonas_becker.pdf=$samples/jonas_becker.pdf" "chen_wei.pdf=$samples/chen_wei.pdf" \
    "fatima_okafor.pdf=$samples/fatima_okafor.pdf"
# The same five stored (zip -0, Python's zipfile default): "%PDF-" then sits in the archive's first
# kilobyte, and the archive must still be taken for an archive.
"$mk" zip "$out/batch5_stored.zip" \
    "ada_whitfield.pdf==$samples/ada_whitfield.pdf" "mateo_alvarez.pdf==$samples/mateo_alvarez.pdf" \
    "jonas_becker.pdf==$samples/jonas_becker.pdf" "chen_wei.pdf==$samples/chen_wei.pdf" \
    "fatima_okafor.pdf==$samples/fatima_okafor.pdf"
# A polyglot: junk, a whole PDF in the first kilobytes, and a ZIP directory at the end.
{ printf '\001%.0s' $(seq 1 16); cat "$samples/ada_whitfield.pdf" "$out/batch5.zip"; } >"$out/polyglot.bin"
"$mk" zip "$out/bad_batch.zip" \
    "good/jonas_becker.pdf=$samples/jonas_becker.pdf" "bad/truncated.pdf=$out/truncated.pdf" \
    "notes.txt@text:not a résumé"

# Two entries whose names collide on disk: a file and a folder of the same name.
"$mk" zip "$out/collision.zip" "x.pdf=$samples/ada_whitfield.pdf" "x.pdf/y.pdf=$samples/jonas_becker.pdf"

# OCR (test/integration/ocr.sh): a 150-dpi greyscale scan of a sample as a PNG "photo", the same
# as JPEG and TIFF, and as an image-only PDF turned one degree on the glass; and bombs: more
# pages without a text layer than resume_pipeline.ocr_max_pages, a PNG header declaring
# 100000 × 100000 pixels, a PDF page of 200 × 200 inches.
pdftoppm -r 150 -gray -png -singlefile "$samples/ada_whitfield.pdf" "$out/ocr_photo"
pdftoppm -r 150 -gray -jpeg -singlefile "$samples/ada_whitfield.pdf" "$out/ocr_photo"
pdftoppm -r 150 -gray -tiff -tiffcompression lzw -singlefile "$samples/ada_whitfield.pdf" "$out/ocr_photo"
"$mk" scan "$out/ocr_scan.pdf" 150 1 "$out/ocr_photo.png"
"$mk" blankpdf "$out/ocr_many_pages.pdf" 50 595 842
"$mk" pngbomb "$out/ocr_pixel_bomb.png" 100000 100000
"$mk" blankpdf "$out/ocr_huge_page.pdf" 1 14400 14400
