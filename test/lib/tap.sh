# Minimal test bookkeeping for the integration tests. Source it; every check reports one line
# ("ok - …" / "not ok - …") and the runner prints the totals.
RP_PASSED=${RP_PASSED:-0}
RP_FAILED=${RP_FAILED:-0}
RP_SKIPPED=${RP_SKIPPED:-0}
RP_FAILED_NAMES=${RP_FAILED_NAMES:-}

t_pass() { RP_PASSED=$((RP_PASSED + 1)); echo "ok - $1"; }
t_fail() {
    RP_FAILED=$((RP_FAILED + 1))
    RP_FAILED_NAMES+="$1"$'\n'
    echo "not ok - $1"
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/#   /'; fi
}
t_skip() { RP_SKIPPED=$((RP_SKIPPED + 1)); echo "skip - $1: $2"; }

# t_expect NAME EXPECTED ACTUAL
t_expect() {
    if [ "$2" = "$3" ]; then t_pass "$1"; else t_fail "$1" "expected: $2"$'\n'"actual:   $3"; fi
}

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/db.sh"

# The corpus from ../shared, or empty when it is not checked out beside the project.
CORPUS=${CORPUS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/corpus}
