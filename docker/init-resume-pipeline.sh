#!/usr/bin/env bash
# Runs once, from /docker-entrypoint-initdb.d/, when the official postgres entrypoint initialises
# an empty data directory (on its temporary, socket-only server).
#
#  1. Adds resume_pipeline to shared_preload_libraries in $PGDATA/postgresql.conf, keeping any
#     libraries already configured there. It takes effect when the real server starts after init.
#  2. Creates the extension in $POSTGRES_DB. CREATE EXTENSION does not need the preload.
set -euo pipefail

lib=resume_pipeline
conf="$PGDATA/postgresql.conf"

# Value of the last active (uncommented) shared_preload_libraries line: the last one wins.
# Accepts `name = 'a, b'`, `name = a` and `name 'a'`, with an optional trailing comment.
current=""
line="$(grep -E '^[[:space:]]*shared_preload_libraries([[:space:]]|=)' "$conf" | tail -n 1 || true)"
if [ -n "$line" ]; then
    value="$(printf '%s\n' "$line" | sed -E 's/^[[:space:]]*shared_preload_libraries[[:space:]]*=?[[:space:]]*//')"
    case "$value" in
        \'*) value="${value#\'}"; value="${value%%\'*}" ;;
        *)   value="${value%%#*}"; value="${value%%[[:space:]]*}" ;;
    esac
    current="$value"
fi

already=false
IFS=',' read -r -a entries <<< "$current"
for entry in "${entries[@]+"${entries[@]}"}"; do
    entry="$(printf '%s' "$entry" | tr -d '"[:space:]')"
    if [ "$entry" = "$lib" ]; then
        already=true
    fi
done

if [ "$already" = true ]; then
    echo "resume_pipeline: shared_preload_libraries already lists $lib ('$current')"
else
    # Trim surrounding whitespace and a stray trailing comma from the old value.
    current="$(printf '%s' "$current" | sed -E 's/^[[:space:]]+//; s/[[:space:]]*,?[[:space:]]*$//')"
    new="${current:+$current,}$lib"
    {
        printf '\n# Added by docker-entrypoint-initdb.d/10-resume-pipeline.sh\n'
        printf "shared_preload_libraries = '%s'\n" "$new"
    } >> "$conf"
    echo "resume_pipeline: shared_preload_libraries = '$new' (from the next server start)"
fi

# Same connection as the entrypoint's own psql calls: the temporary server's Unix socket.
PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'EOSQL'
CREATE EXTENSION IF NOT EXISTS resume_pipeline;
EOSQL
