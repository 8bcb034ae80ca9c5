#!/usr/bin/env bash
# Builds build/gt_score (score.cpp over the core's objects, which `make` builds) from the
# repository root. ICU is for the scorer's normalisation only; the core never links it.
set -euo pipefail
cd "$(dirname "$0")/../.."
objs=$(ls src/core/*.cpp | sed 's/\.cpp$/.o/')
# All of them: the parser binary leaves OCR and .doc (ocr.o, doc_text.o) to its plugin.
# shellcheck disable=SC2086
make -s $objs >/dev/null
mkdir -p build
pkgs="poppler-cpp libzip libxml-2.0 re2 libseccomp tesseract lept wv-1.0 libgsf-1 icu-uc icu-i18n"
# shellcheck disable=SC2046,SC2086
g++ -std=c++17 -O2 -Wall -Wextra ${WERROR:-} -iquote src/core $(pkg-config --cflags $pkgs) -o build/gt_score \
    tools/groundtruth/score.cpp $objs $(pkg-config --libs $pkgs)
