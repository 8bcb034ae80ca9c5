#!/usr/bin/env bash
# Storage migration throughput, filesystem → S3 (@20minutes/s3rver on 127.0.0.1, SigV4 checked):
# OBJECTS objects of SIZE bytes uploaded to the filesystem backend, then
#
#   - baselines: plain sequential copies of the same files by a client, nothing verified, no row
#     touched: (a) one `curl --aws-sigv4` PUT per object, a process each (what a shell script
#     around curl would do), and (b) one curl process sending every PUT on one kept-alive
#     connection (the client's cost alone);
#   - migrate_storage('filesystem', 's3', '0'): one worker, default batch size; per object a read
#     of the file, SHA-256 against files.checksum, a GET for a copy already there, the PUT, a GET
#     reading it back and SHA-256 again, the row switched, the file removed after.
#
# Prints objects per second and MB/s for each, and the ratios migration / baseline. The figure
# for the migration is its copy phase (migrate_storage() to the last switch); the end to end time
# with the removal of the source's files is printed too. Needs node and npm (test/node_modules).
#
#   bench/migration.sh              OBJECTS=5000 SIZE=50000 bench/migration.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OBJECTS=${OBJECTS:-2000}
SIZE=${SIZE:-20000}
[[ $OBJECTS =~ ^[1-9][0-9]*$ ]] || { echo "OBJECTS must be a positive integer" >&2; exit 1; }
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || { echo "SIZE must be a positive integer" >&2; exit 1; }
USER_ID=aaaaaaaa-0000-4000-8000-00000000000a
ACCESS=bench-access SECRET=bench-secret-$RANDOM$RANDOM

cd "$ROOT"
# shellcheck source=SCRIPTDIR/../scripts/lib/cluster.sh
. scripts/lib/cluster.sh
# shellcheck source=SCRIPTDIR/../scripts/lib/db.sh
. scripts/lib/db.sh
# shellcheck source=SCRIPTDIR/../test/lib/servers.sh
. test/lib/servers.sh
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'servers_stop; cluster_stop; rm -rf "$WORK"' EXIT
if ! reason=$(servers_have_node); then
    echo "bench/migration.sh: $reason" >&2
    exit 1
fi
servers_s3 "$WORK" "$ACCESS" "$SECRET" resume-pipeline baseline || { cat "$WORK/s3.err" >&2; exit 1; }
cluster_start 'resume_pipeline.workers = 0' "resume_pipeline.s3_endpoint = 'http://127.0.0.1:$RP_S3_PORT'" \
    "resume_pipeline.s3_access_key = '$ACCESS'" "resume_pipeline.s3_secret_key = '$SECRET'" \
    "resume_pipeline.max_user_objects = 10000000" "resume_pipeline.max_user_storage = '1TB'"
q -c 'CREATE EXTENSION resume_pipeline' >/dev/null

# The objects: text (no résumé job), SIZE bytes each, every one different.
echo "uploading $OBJECTS objects of $SIZE bytes to the filesystem backend…"
q >/dev/null <<SQL
SELECT count(resume_pipeline.upload('resumes', 'obj-' || i || '.txt',
                                    convert_to(left(repeat(md5(i::text) || ' ', $SIZE / 33 + 1), $SIZE), 'UTF8'),
                                    '{}', '$USER_ID'))
  FROM generate_series(1, $OBJECTS) i;
SQL
q -c "SELECT l.key FROM resume_pipeline.files f, resume_pipeline._storage_locate(f.object_id) l" >"$WORK/paths"
[ "$(wc -l <"$WORK/paths")" = "$OBJECTS" ] || { echo "expected $OBJECTS stored objects" >&2; exit 1; }
mb=$(awk -v n="$OBJECTS" -v s="$SIZE" 'BEGIN { printf "%.1f", n * s / 1e6 }')

# Baselines: plain sequential copies of the same files, nothing verified, no row touched.
# (a) a curl loop: one signed PUT per file, a process each, as a shell script would;
echo "baseline (a): a curl --aws-sigv4 PUT per object, one process each…"
t0=$(date +%s.%N)
while read -r path; do
    id=${path##*/}
    curl -s --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS:$SECRET" \
        -H "x-amz-content-sha256: $(sha256sum "$path" | cut -d' ' -f1)" -H 'Content-Type: application/octet-stream' \
        --upload-file "$path" -o /dev/null "http://127.0.0.1:$RP_S3_PORT/baseline/a/${id:0:2}/$id"
done <"$WORK/paths"
t1=$(date +%s.%N)
loop_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
# (b) one curl process for every PUT (a config of requests separated by "next"), one kept-alive
# connection: the client's cost without a process per object.
echo "baseline (b): one curl process, every PUT on one kept-alive connection…"
t0=$(date +%s.%N)
first=yes
xargs -d '\n' sha256sum <"$WORK/paths" | while read -r sum path; do
    id=${path##*/}
    [ "$first" = yes ] || echo next
    first=no
    printf 'url = "http://127.0.0.1:%s/baseline/b/%s/%s"\nupload-file = "%s"\nheader = "x-amz-content-sha256: %s"\n' \
        "$RP_S3_PORT" "${id:0:2}" "$id" "$path" "$sum"
    printf 'header = "Content-Type: application/octet-stream"\naws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "%s:%s"\n' "$ACCESS" "$SECRET"
    printf 'silent\nfail\noutput = "/dev/null"\n'
done >"$WORK/curl.conf"
curl -K "$WORK/curl.conf"
t1=$(date +%s.%N)
base_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
copied_b=$(S3_ENDPOINT="http://127.0.0.1:$RP_S3_PORT" S3_ACCESS_KEY=$ACCESS S3_SECRET_KEY=$SECRET test/s3/client.sh list baseline b/ | grep -c .)
[ "$copied_b" = "$OBJECTS" ] || { echo "baseline (b) stored $copied_b objects, not $OBJECTS" >&2; exit 1; }

# The migration, one worker already connected.
q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "SELECT pg_reload_conf()" >/dev/null
wait_for postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'" 30 ||
    { echo "no worker started" >&2; exit 1; }
echo "migrate_storage('filesystem', 's3')…"
q -c "SELECT resume_pipeline.migrate_storage('filesystem', 's3', '0')" >/dev/null 2>&1
wait_for postgres "SELECT state IN ('done', 'incomplete', 'stopped') FROM resume_pipeline.migration_progress()" 3600 ||
    { echo "the migration did not finish" >&2; exit 1; }
IFS='|' read -r state switched failed copy_s total_s < <(q -c "
    SELECT state, switched, failed, extract(epoch FROM last_switch_at - started_at), extract(epoch FROM finished_at - started_at)
      FROM resume_pipeline.storage_migrations")
[ "$state" = done ] && [ "$switched" = "$OBJECTS" ] && [ "$failed" = 0 ] ||
    { echo "unexpected end: state $state, switched $switched, failed $failed" >&2; exit 1; }
on_s3=$(q -c "SELECT count(*) FROM resume_pipeline.files WHERE storage = 's3'")
[ "$on_s3" = "$OBJECTS" ] || { echo "only $on_s3 rows on S3" >&2; exit 1; }

awk -v n="$OBJECTS" -v mb="$mb" -v l="$loop_s" -v b="$base_s" -v c="$copy_s" -v t="$total_s" 'BEGIN {
    printf "\n%d objects, %.1f MB, filesystem → S3 (s3rver on 127.0.0.1)\n", n, mb
    printf "  %-50s %8.2f s  %8.1f objects/s  %6.2f MB/s\n", "baseline (a): curl loop, a process per PUT", l, n / l, mb / l
    printf "  %-50s %8.2f s  %8.1f objects/s  %6.2f MB/s\n", "baseline (b): one curl, PUTs on one connection", b, n / b, mb / b
    printf "  %-50s %8.2f s  %8.1f objects/s  %6.2f MB/s\n", "migrate_storage, copy phase (verified twice)", c, n / c, mb / c
    printf "  %-50s %8.2f s  %8.1f objects/s  %6.2f MB/s\n", "migrate_storage, end to end (files removed)", t, n / t, mb / t
    printf "  ratio migration / baseline (a): %.2f   migration / baseline (b): %.2f\n", l / c, b / c
}'
