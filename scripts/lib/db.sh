# Database helpers shared by the main job, the tests and the benchmarks. Source it after
# cluster.sh has started a cluster (PGHOST/PGPORT set).

# psql for scripts: no psqlrc, unaligned, tuples only.
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# load_files DB TABLE FILE... — creates TABLE(name text, data bytea) in DB with each file's
# base name and bytes, loaded from the client side (the server's OS user may not be able to
# read the checkout).
load_files() {
    local db=$1 table=$2
    shift 2
    local f
    for f in "$@"; do printf '%s\t%s\n' "$(basename "$f")" "$(base64 -w0 "$f")"; done |
        q -d "$db" -c "CREATE TABLE $table(name text PRIMARY KEY, data bytea NOT NULL)" \
            -c "CREATE TEMP TABLE staging(name text, b64 text)" \
            -c '\copy staging FROM pstdin' \
            -c "INSERT INTO $table SELECT name, decode(b64, 'base64') FROM staging"
}

# fresh_db NAME — a new database with the extension and a Unicode-aware normaliser
# norm(text): NFKC, lower case, runs of white space folded to one space (MANIFEST.md's rule).
fresh_db() {
    q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    q -d "$1" >/dev/null <<'SQL'
CREATE EXTENSION resume_pipeline;
CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
    RETURN btrim(regexp_replace(lower(normalize(t, NFKC) COLLATE "und-x-icu"), '\s+', ' ', 'g'));
SQL
}
