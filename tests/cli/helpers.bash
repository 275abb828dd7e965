# Shared helpers for the bats tests of the als programs (bats-core >= 1.5, no bats-assert).
# Load with `load helpers`. Every helper prints what it expected and what it got on failure.

: "${ALS_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
DATA="$ALS_TOP/tests/data"

# Every test runs in its own scratch directory: call from setup().
als_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
}

_fail() {
    printf '%s\n' "$@" >&2
    return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    [[ "$1" == "$2" ]] && return 0
    _fail "${3:-values} differ" "--- expected" "$1" "--- actual" "$2" "---"
}

# assert_output EXPECTED: $output (as set by run) is exactly EXPECTED
assert_output() {
    assert_eq "$1" "$output" "output"
}

# assert_stderr EXPECTED: $stderr (run --separate-stderr) is exactly EXPECTED
assert_stderr() {
    assert_eq "$1" "$stderr" "stderr"
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
    [[ "$1" == *"$2"* ]] && return 0
    _fail "expected to find: $2" "in:" "$1"
}

assert_not_contains() {
    [[ "$1" != *"$2"* ]] && return 0
    _fail "expected NOT to find: $2" "in:" "$1"
}

# assert_match TEXT REGEX (bash ERE)
assert_match() {
    [[ "$1" =~ $2 ]] && return 0
    _fail "expected to match: $2" "text:" "$1"
}

assert_empty() {
    [[ -z "$1" ]] && return 0
    _fail "expected ${2:-value} to be empty, got:" "$1"
}

assert_file_absent() {
    [[ ! -e "$1" ]] && return 0
    _fail "expected '$1' not to exist" "$(ls -la "$1" 2>&1)"
}

assert_file_exists() {
    [[ -e "$1" ]] && return 0
    _fail "expected '$1' to exist"
}

# state_of DIR: a listing with a checksum for every file (hidden ones too), or ABSENT.
state_of() {
    if [[ ! -e "$1" ]]; then
        echo ABSENT
        return
    fi
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
     find . -mindepth 1 ! -type f | LC_ALL=C sort)
}

# no_temp_files DIR: nothing left by an interrupted atomic write (NAME.XXXXXX)
no_temp_files() {
    local left
    left=$(cd "$1" && find . -name '*.??????' -print | LC_ALL=C sort)
    [[ -z "$left" ]] && return 0
    _fail "temporary files left in '$1':" "$left"
}

# no_output_files [DIR]: no out.trp nor out.trp.XXXXXX in DIR (default .)
no_output_files() {
    local left
    left=$(cd "${1:-.}" && ls -A | grep '^out\.trp' || true)
    [[ -z "$left" ]] && return 0
    _fail "output files left in '${1:-.}':" "$left"
}

# first_line TEXT
first_line() {
    printf '%s\n' "$1" | head -n 1
}

# The programs under test: every build/als-* that is a program.
als_programs() {
    local p
    for p in "$ALS_TOP"/build/als-*; do
        [[ -f "$p" && -x "$p" ]] && basename "$p"
    done
}

# The log summary line of als-map for a run, picked from stderr.
summary_line() {
    printf '%s\n' "$1" | grep 'records read' || true
}
