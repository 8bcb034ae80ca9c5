#!/usr/bin/env bash
# Installs pgvector for the semantic-match tests when the machine has none. Debian 12 packages
# no pgvector, so its source comes from the Debian archive (trixie's pgvector 0.8.0, checked by
# its SHA-256) and is built with PGXS against this PostgreSQL. The extension itself never needs
# pgvector: without it match_resumes ranks in SQL.
set -euo pipefail
sharedir=$(pg_config --sharedir)
[ -f "$sharedir/extension/vector.control" ] && exit 0
version=0.8.0
sha256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
work=$(mktemp -d /tmp/rp-pgvector.XXXXXX)
trap 'rm -rf "$work"' EXIT
curl -sSf --max-time 120 -o "$work/src.tar.gz" \
    "http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_${version}.orig.tar.gz"
echo "$sha256  $work/src.tar.gz" | sha256sum -c --quiet -
tar -C "$work" -xzf "$work/src.tar.gz"
# OPTFLAGS empty: no -march=native, so the build runs on any x86-64 machine.
make -s -C "$work/pgvector-$version" OPTFLAGS="" >/dev/null
make -s -C "$work/pgvector-$version" OPTFLAGS="" install >/dev/null
