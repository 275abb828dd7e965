# Shared helpers for the bats tests of the als programs (bats-core >= 1.5, no bats-assert).
# Load with `load helpers`. Every helper prints what it expected and what it got on failure.

: "${ALS_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
DATA="$ALS_TOP/tests/data"

# Open MPI, for als-train-mpi's tests and man page EXAMPLES (make MPI=1): ranks may run as
# root (both variables are needed) and talk over shared memory only, no TCP listener.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader

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

# closed_stdin CMD...: CMD (a program or a function) with stdin closed. `run CMD <&-` does
# not do it: run's command substitution takes the freed descriptor 0 for its own pipe.
closed_stdin() {
    "$@" 0<&-
}

# first_line TEXT
first_line() {
    printf '%s\n' "$1" | head -n 1
}

# The programs under test: every build/als-* that is a program.
# The programs of the build under test: make check passes its B as ALS_BUILD, so a build
# directory of another configuration (build/ with MPI, build-clang/ without) is not mixed in.
als_programs() {
    local p
    for p in "${ALS_BUILD:-$ALS_TOP/build}"/als-*; do
        [[ -f "$p" && -x "$p" ]] && basename "$p"
    done
}

# The log summary line of als-map for a run, picked from stderr.
summary_line() {
    printf '%s\n' "$1" | grep 'records read' || true
}

# ---- documentation that runs: man EXAMPLES (00-common.bats), README and als(7) (96-docs) ----

# man_section FILE NAME: render man page FILE and print the body of section NAME (the lines
# below the header up to the next section header), as plain text.
man_section() {
    mandoc -T utf8 "$1" | LC_ALL=C.UTF-8 col -bx |
        awk -v s="$2" '/^[^[:space:]]/ { on = ($0 == s); next } on { print }'
}

# markdown_block FILE HEADING: the lines inside the first ```sh fence below the Markdown
# heading line HEADING (such as '## A pipeline example'), before the next heading.
markdown_block() {
    awk -v h="$2" '$0 == h { sec = 1; next }
                   inb && /^```/ { exit }
                   inb { print; next }
                   sec && /^(#|##) / { exit }
                   sec && /^```sh[[:space:]]*$/ { inb = 1 }' "$1"
}

# example_commands [--prompt]: the commands of the shell text on stdin, one per output line.
# Leading blanks are dropped; a line ending in '\' is joined with the next one (the '\'
# dropped), and so is one ending in '|' or '&&', as the shell reads them. Without --prompt
# every line but empty ones and '#' comments is a command (a script, a README block); with
# --prompt only lines that start with '$ ' are (a session in man EXAMPLES: the output shown
# between them is not a command).
example_commands() {
    local prompt=0
    [[ ${1-} == --prompt ]] && prompt=1
    awk -v prompt="$prompt" '
        { sub(/^[[:space:]]+/, "") }
        cont { line = line " " $0 }
        !cont && prompt && !/^\$ / { next }
        !cont && prompt { line = substr($0, 3) }
        !cont && !prompt && (/^#/ || /^$/) { next }
        !cont && !prompt { line = $0 }
        {
            if (line ~ /\\$/) { sub(/\\$/, "", line); cont = 1 }
            else if (line ~ /(\||&&)[[:space:]]*$/) cont = 1
            else { cont = 0; print line }
        }'
}

# run_example DIR CMD: run the command line CMD with bash in DIR, stdin /dev/null, with
# bats' run ($status; $output holds stdout and stderr). It fails when any part of a pipeline
# fails, except a writer killed by SIGPIPE (status 141) before a reader that left early
# ('| head'); the last command of the line counts whatever its status.
run_example() {
    local script="$BATS_TEST_TMPDIR/example.sh"
    printf '%s\n' "$2" 's=("${PIPESTATUS[@]}") n=${#s[@]}' \
        'for ((k = 0; k < n; k++)); do' \
        '    ((s[k] == 0 || (s[k] == 141 && k < n - 1))) || exit "${s[k]}"' \
        'done' >"$script"
    run bash -c 'cd "$1" && exec bash "$2"' _ "$1" "$script" </dev/null
}

# run_examples [--skip-missing] DIR WHERE <<<"$COMMANDS": run each line of stdin (from
# example_commands) with run_example, in order, in DIR (created), all of them even after a
# failure. Reports through globals the caller sets first: examples_ran (commands run),
# examples_failed (for each failure 'WHERE: example failed (exit N): $ CMD', then its output)
# and examples_notes. With --skip-missing, a command naming an als-* program that is not on
# the PATH is noted instead of run. Feed it with <<< or < <(...), not a pipe: a pipe would
# run the loop in a subshell and lose the globals.
run_examples() {
    local skip=0 cmd word missing
    [[ $1 == --skip-missing ]] && { skip=1; shift; }
    mkdir -p "$1"
    while IFS= read -r cmd; do
        if ((skip)); then
            missing=""
            for word in $(grep -o '\bals-[a-z][a-z-]*[a-z]\b\|^[A-Za-z0-9_.-]*' <<<"$cmd"); do
                command -v "$word" >/dev/null || missing+=" $word"
            done
            if [[ -n $missing ]]; then
                examples_notes+="$2: not run (missing:$missing): $cmd"$'\n'
                continue
            fi
        fi
        run_example "$1" "$cmd"
        examples_ran=$((examples_ran + 1))
        if ((status != 0)); then
            examples_failed+="$2: example failed (exit $status): \$ $cmd"$'\n'"$output"$'\n'
        fi
    done
}

# ---- progress (cmd/cli.h) ----
# ALS_PROGRESS_DELAY=0 makes a program show its progress at once, and every report of it
# as a line of its own off a terminal: without it a run would have to last a second, and a
# log big enough for that on the slowest machine is slow everywhere else.

# progress_lines TEXT PROG: the lines of TEXT that are PROG's progress lines:
# "PROG: DONE[ of TOTAL][ UNIT][ (P%)][, RATE/s][, ETA T]", sizes with B
progress_lines() {
    local n='[0-9][0-9,.]*( [kMGTPE]?B)?'
    printf '%s\n' "$1" |
        grep -E "^$2: $n( of $n)?( [a-z][a-z -]*)?( \([0-9]+%\))?(, [0-9.]+ ?[kMGTPE]?B?/s)?(, ETA [0-9:]+)?\$" ||
        true
}

# assert_progress TEXT PROG REGEX: TEXT has PROG's progress lines, one of them a finished
# phase with a rate that matches "PROG: REGEX"
assert_progress() {
    local lines
    lines=$(progress_lines "$1" "$2")
    [[ -n "$lines" ]] || _fail "no progress lines of $2 in:" "$1" || return 1
    printf '%s\n' "$lines" | grep -qE "^$2: $3$" && return 0
    _fail "no progress line '$2: $3' in:" "$lines"
}

# on_terminal COMMAND: run COMMAND (a shell line) with a terminal as its stdin, stdout and
# stderr (script(1) of util-linux), its bytes in $output; skips the test without script(1)
on_terminal() {
    command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1 ||
        skip "no script(1) with a pseudo-terminal"
    output=$(script -qec "$1" /dev/null </dev/null)
}
