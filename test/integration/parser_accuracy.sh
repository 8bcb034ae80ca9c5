# Accuracy of the built-in parser, scored by build/gt_score (tools/groundtruth/score.cpp: the
# pipeline's document_text, then parse_resume_json; matching rules in score.cpp's header):
#   - over ../shared/corpus/resumes, with floors at the figures measured before issue 10's work;
#   - over both halves of a slice of the generated ground-truth set (tools/groundtruth): 300
#     résumés (150 tuning, 150 held-out; all ten renderers in both), generated here with the
#     seed the README's figures use. Generation needs Chromium, Noto fonts and the generator's
#     npm packages: installed when missing (as root; about 2 minutes the first time), then the
#     slice takes about 60 s and is kept under build/ until the generator changes.
# Floors: the corpus figures before this work; the slice at the figures reached, less 0.01. A field
# below its floor fails; the figures are printed either way.
declare -A pa_corpus_floor=([name]=0.95 [email]=1.00 [phone]=1.00 [urls]=1.00 [employers]=0.96 [schools]=0.94)
declare -A pa_generated_floor=([name]=0.91 [email]=0.99 [phone]=0.92 [urls]=0.98 [employers]=0.70 [schools]=0.88)
pa_count=300
pa_seed=20240610

# Checks each "all <field> <share> ..." line of gt_score's output against the floors in the
# associative array named by $2.
pa_check() {
    local label=$1 floors=$2 scores=$3 field share
    local -n pa_floors=$floors
    sed 's/^/#   /' <<<"$scores"
    for field in "${!pa_floors[@]}"; do
        share=$(awk -v f="$field" '$1 == "all" && $2 == f { print $3 }' <<<"$scores")
        if [ -n "$share" ] && awk -v s="$share" -v f="${pa_floors[$field]}" 'BEGIN { exit !(s >= f) }'; then
            t_pass "parser accuracy $label $field: $share (floor ${pa_floors[$field]})"
        else
            t_fail "parser accuracy $label $field: ${share:-none} below its floor ${pa_floors[$field]}"
        fi
    done
}

# The generator's inputs; a slice built from other inputs is rebuilt.
pa_stamp() {
    cat tools/groundtruth/*.js tools/groundtruth/package-lock.json | sha256sum | cut -c1-16
    echo "$pa_count $pa_seed"
}

pa_generate() {
    local dir=$1 missing=() p
    for p in chromium fonts-noto-core fonts-noto-cjk fonts-dejavu-core; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || { echo "# missing ${missing[*]} (run as root)"; return 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
            return 1
    fi
    (cd tools/groundtruth && npm ci --no-audit --no-fund --silent >/dev/null 2>&1) || return 1
    rm -rf "$dir"
    node tools/groundtruth/generate.js --out "$dir" --count "$pa_count" --seed "$pa_seed" --jobs 2 | sed 's/^/# /' &&
        pa_stamp >"$dir/stamp"
}

if bash tools/groundtruth/build.sh >build/gt_score.log 2>&1; then
    t_pass "parser accuracy: gt_score builds"
    if [ -d "$CORPUS/resumes" ]; then
        pa_check corpus pa_corpus_floor "$(build/gt_score "$CORPUS/resumes")"
    else
        t_skip "parser accuracy over the corpus" "$CORPUS/resumes is absent (../shared not checked out)"
    fi
    pa_dir=build/groundtruth-ci
    if [ "$(cat "$pa_dir/stamp" 2>/dev/null)" = "$(pa_stamp)" ] || pa_generate "$pa_dir"; then
        for pa_half in tuning heldout; do
            pa_check "generated $pa_half" pa_generated_floor "$(build/gt_score --present-only "$pa_dir/$pa_half")"
        done
    else
        t_fail "parser accuracy: the generated set could be built (Chromium, fonts, npm packages)"
    fi
else
    t_fail "parser accuracy: gt_score builds" "$(tail -20 build/gt_score.log)"
fi
