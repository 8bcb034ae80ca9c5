#!/usr/bin/env bash
# A few S3 requests signed by curl (--aws-sigv4), for tests that check what the extension left
# in a bucket without going through the extension. Reads S3_ENDPOINT, S3_ACCESS_KEY,
# S3_SECRET_KEY (and S3_REGION, default us-east-1).
#
#   client.sh status BUCKET KEY        HTTP status of a GET (200, 404, …)
#   client.sh get BUCKET KEY           the object's bytes
#   client.sh head BUCKET KEY          the response headers of a HEAD
#   client.sh put BUCKET KEY FILE      PUT a file; prints the HTTP status
#   client.sh list BUCKET PREFIX       every key under PREFIX, one a line (ListObjectsV2, all pages)
set -euo pipefail
: "${S3_ENDPOINT:?}" "${S3_ACCESS_KEY:?}" "${S3_SECRET_KEY:?}"
empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# S3's URI encoding of one query value ('/' encoded too).
enc() {
    local LC_ALL=C s=$1 out= c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9._~-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

s3() {
    local hash=$1
    shift
    curl -s --aws-sigv4 "aws:amz:${S3_REGION:-us-east-1}:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $hash" "$@"
}

cmd=$1
shift
case $cmd in
    status) s3 "$empty" -o /dev/null -w '%{http_code}\n' "$S3_ENDPOINT/$1/$2" ;;
    get) s3 "$empty" --fail "$S3_ENDPOINT/$1/$2" ;;
    head) s3 "$empty" -I "$S3_ENDPOINT/$1/$2" | tr -d '\r' ;;
    put)
        s3 "$(sha256sum "$3" | cut -d' ' -f1)" -H 'Content-Type: application/octet-stream' \
            --upload-file "$3" -o /dev/null -w '%{http_code}\n' "$S3_ENDPOINT/$1/$2"
        ;;
    list)
        token=
        while :; do
            # The query in SigV4's canonical order: parameter names sorted, values encoded.
            query=
            [ -z "$token" ] || query="continuation-token=$(enc "$token")&"
            query+="list-type=2&prefix=$(enc "$2")"
            page=$(s3 "$empty" --fail "$S3_ENDPOINT/$1?$query")
            grep -o '<Key>[^<]*</Key>' <<<"$page" | sed 's#</\?Key>##g' || true
            grep -q '<IsTruncated>true</IsTruncated>' <<<"$page" || break
            token=$(grep -o '<NextContinuationToken>[^<]*</NextContinuationToken>' <<<"$page" | sed 's#</\?NextContinuationToken>##g')
            [ -n "$token" ] || break
        done
        ;;
    *) echo "client.sh: unknown command $cmd" >&2; exit 2 ;;
esac
