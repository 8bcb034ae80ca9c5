#!/usr/bin/env bash
# How the committed Word 97-2003, RTF and ODT samples were made (not run by the tests: LibreOffice
# is large). From the HTML sources here, with Debian's libreoffice-writer-nogui 7.4:
#   apt-get install --no-install-recommends libreoffice-writer-nogui
#   bash test/data/word/regenerate.sh
# HTML goes to ODT first: LibreOffice writes nothing when asked for .doc straight from HTML.
# cv_ada has a table and a mailto: hyperlink (a HYPERLINK field in .doc and RTF, whose code must
# not reach the text); cv_lukasz has Polish and Cyrillic text (Unicode pieces in .doc, \uN in RTF).
set -euo pipefail
cd "$(dirname "$0")"
export HOME=${TMPDIR:-/tmp}/rp_soffice_home
mkdir -p "$HOME"
for cv in cv_ada cv_lukasz; do
    soffice --headless --convert-to odt "$cv.html" >/dev/null
    soffice --headless --convert-to 'doc:MS Word 97' "$cv.odt" >/dev/null
    soffice --headless --convert-to 'rtf:Rich Text Format' "$cv.odt" >/dev/null
done
ls -l ./*.odt ./*.doc ./*.rtf
