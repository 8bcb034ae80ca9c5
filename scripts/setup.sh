#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (as root), then builds and installs the
# extension and the sample documents. Safe to run again: packages already present are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    postgresql-15 postgresql-server-dev-15 postgresql-client-15  # the server and PGXS
    g++ make pkg-config                                          # the build
    libpoppler-cpp-dev libzip-dev libxml2-dev nlohmann-json3-dev libcurl4-openssl-dev libre2-dev
    libseccomp-dev                                               # the parser's system-call filter
    liblcms2-dev                                                 # the parser turns poppler's colour management off
    libtesseract-dev libleptonica-dev                            # OCR of scans and photos (the parser)
    tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa  # OCR language data
    libwv-dev libgsf-1-dev                                       # Word 97-2003 .doc (the parser)
    libssl-dev                                                   # SHA-256 for S3 signing (src/net)
    libcairo2-dev fonts-dejavu-core                              # sample PDFs
    libgtest-dev                                                 # core unit tests
    poppler-data                                                 # CJK text in PDFs (only Recommended by poppler)
    poppler-utils qpdf procps curl jq                            # tests and benchmarks
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The test peers (S3 and model stand-ins) run on Node.js; Debian's own is used where the machine
# has none.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages (run as root to install them): ${missing[*]}" >&2
        exit 1
    fi
    echo "==> installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> building and installing resume_pipeline"
make -s -j"$(nproc)" ${WERROR:+WERROR=$WERROR}
make -s install
make -s samples
