#!/bin/sh
# SPDX-License-Identifier: MIT
# layering.sh [TOP]: the layering rules of lib/README, checked on the sources under TOP
# (default: the tree this script is in). One TAP line per rule; each violation follows its
# 'not ok' line as '#   FILE:LINE: text'. Exit 1 when a rule is broken. Run by make check.

# ---- allow-lists: files exempt from a rule for now (paths relative to TOP) ----
# Rule 2: none (cli.c and cli.h live in cmd/).
ALLOW_CLI_H=""
# Rule 4: none (every program reads and writes META through struct model_params).
ALLOW_META=""

# Rule 4: the META keys only lib/model.c and lib/model.h may name. Add keys here.
META_KEYS="train_nnz data_checksum cg_steps"

set -u
TOP=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$TOP" || exit 1

n=0
failed=0

# report DESCRIPTION VIOLATIONS: one TAP line, then the violations (FILE:LINE:TEXT lines)
report() {
    n=$((n + 1))
    if [ -z "$2" ]; then
        echo "ok $n - layering: $1"
    else
        echo "not ok $n - layering: $1"
        printf '%s\n' "$2" | sed -E 's/^([^:]*:[0-9]+):[[:space:]]*/#   \1: /'
        failed=1
    fi
}

# sources DIR...: the C sources and headers under the directories that exist
sources() {
    for d in "$@"; do
        [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
    done | LC_ALL=C sort
}

# drop_allowed LIST: stdin (FILE:LINE:TEXT lines) without the files named in LIST
drop_allowed() {
    awk -v list="$1" 'BEGIN { n = split(list, a, " "); for (k = 1; k <= n; k++) skip[a[k]] = 1 }
                      { f = $0; sub(/:.*/, "", f); if (!(f in skip)) print }'
}

# grep_in REGEX FILE...: 'FILE:LINE:TEXT' of every line matching the extended REGEX
grep_in() {
    re=$1
    shift
    [ $# -gt 0 ] || return 0
    grep -nHE -- "$re" "$@" 2>/dev/null || true
}

echo "1..4"

INC='[[:space:]]*#[[:space:]]*include[[:space:]]*' # an #include, up to its < or "

# 1. No file in lib/ includes a header that lives in cmd/: a path through cmd/, or a name
# that is a file in cmd/ and not in lib/ (where "name" would find it first).
v=$(grep_in "^$INC"'[<"][^>"]+[>"]' $(sources lib) | while IFS= read -r line; do
        h=$(printf '%s\n' "$line" | sed -E "s/^[^:]*:[0-9]+:$INC"'[<"]([^>"]+)[>"].*/\1/')
        case $h in
        cmd/* | */cmd/*) printf '%s\n' "$line" ;;
        *) if [ -f "cmd/$h" ] && [ ! -f "lib/$h" ]; then printf '%s\n' "$line"; fi ;;
        esac
    done)
report "no file in lib/ includes a header from cmd/" "$v"

# 2. Only cmd/ includes cli.h (tests/ may: they test it).
v=$(grep_in "^$INC"'[<"]([^>"]*/)?cli\.h[>"]' $(sources lib share) | drop_allowed "$ALLOW_CLI_H")
report "only cmd/ includes cli.h" "$v"

# 3. Only lib/linalg.c includes BLAS or LAPACK headers or calls them (tests/ and the sgemm
# benchmark excepted).
BLAS_H='(cblas|lapacke|lapack|f77blas|openblas_config)[a-z0-9_]*\.h'
BLAS_CALL='(^|[^A-Za-z0-9_])(cblas|LAPACKE|openblas)_[A-Za-z0-9_]+[[:space:]]*\('
v=$( (grep_in "^$INC[<\"]$BLAS_H[>\"]" $(sources lib cmd share)
      grep_in "$BLAS_CALL" $(sources lib cmd share)) | LC_ALL=C sort -u -t: -k1,1 -k2,2n |
    drop_allowed "lib/linalg.c share/bench-sgemm.c")
report "only lib/linalg.c includes cblas.h / lapacke.h" "$v"

# 4. Only lib/model.c and lib/model.h know the model's META keys: no other file in lib/ or
# cmd/ calls model_meta_get or names a key inside a string ("key or \nkey=).
keys=$(printf '%s\n' $META_KEYS | paste -sd '|' -)
v=$( (grep_in '(^|[^A-Za-z0-9_])model_meta_get[[:space:]]*\(' $(sources lib cmd)
      grep_in "(\"|\\\\n)($keys)([^A-Za-z0-9_]|\$)" $(sources lib cmd)) |
    LC_ALL=C sort -u -t: -k1,1 -k2,2n | drop_allowed "lib/model.c lib/model.h $ALLOW_META")
report "only lib/model.c and lib/model.h know the model META keys ($META_KEYS)" "$v"

exit $failed
