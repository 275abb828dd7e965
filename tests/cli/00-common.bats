#!/usr/bin/env bats
# Contracts every program keeps (DESIGN.md, STYLE.md "Options" and "Tests"): --help, --version,
# a bad option, the usage text equal to the man page SYNOPSIS (git t0450) and runnable EXAMPLES.
# Each test loops over every build/als-* so that new programs are covered automatically.

bats_require_minimum_version 1.5.0
load helpers

setup() {
    als_setup
}

version_of_makefile() {
    sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$ALS_TOP/Makefile" | head -n 1
}

# The usage lines of `PROG --help`: from 'usage:' to the first empty line or the first line
# that starts with neither 'usage:' nor whitespace.
usage_lines() {
    awk 'NR == 1 && !/^usage:/ { exit }
         /^$/ { exit }
         !/^usage:/ && !/^[[:space:]]/ { exit }
         { print }'
}

# Words of a synopsis or usage text: hyphen look-alikes to '-', no 'usage:', whitespace
# collapsed, no space around '|' (mdoc may write 'a | b' where usage writes 'a|b').
normalise_synopsis() {
    sed -e 's/\xe2\x80\x90/-/g; s/\xe2\x80\x91/-/g; s/\xe2\x88\x92/-/g' |
        tr -s '[:space:]' ' ' |
        sed -e 's/usage: //g; s/ *| */|/g; s/^ //; s/ $//'
}

# first_difference A B: where the word sequences A and B part.
first_difference() {
    local -a a b
    read -r -a a <<<"$1"
    read -r -a b <<<"$2"
    local i n=$((${#a[@]} > ${#b[@]} ? ${#a[@]} : ${#b[@]}))
    for ((i = 0; i < n; i++)); do
        if [[ "${a[i]-}" != "${b[i]-}" ]]; then
            echo "first difference at word $((i + 1)): usage '${a[i]-(end)}', SYNOPSIS '${b[i]-(end)}'"
            return
        fi
    done
}

programs_or_fail() {
    local progs
    progs=$(als_programs)
    [[ -n "$progs" ]] || _fail "no programs build/als-* found under '${ALS_BUILD:-$ALS_TOP/build}' (run make)"
    echo "$progs"
}

@test "every program: --help prints 'usage: PROG' to stdout and exits 0" {
    local p progs
    progs=$(programs_or_fail)
    for p in $progs; do
        run -0 --separate-stderr "$p" --help
        assert_match "$(first_line "$output")" "^usage: $p( |$)" || _fail "in: $p --help"
        assert_empty "$stderr" "stderr of $p --help"
        run -0 --separate-stderr "$p" -h
        assert_match "$(first_line "$output")" "^usage: $p( |$)" || _fail "in: $p -h"
    done
}

# als-gen-log is built from share/ with libc and libm alone, so it names no library; als-map
# and als-csr do no linear algebra and are linked without BLAS (ldd shows it), so that
# OpenBLAS's thread pool cannot fail them under a memory limit.
@test "every program: --version prints one line 'PROG VERSION (libals VERSION, zlib X, OpenBLAS X)'" {
    local p progs v
    v=$(version_of_makefile)
    [[ -n "$v" ]] || _fail "no VERSION in Makefile"
    progs=$(programs_or_fail)
    for p in $progs; do
        run -0 --separate-stderr "$p" --version
        assert_eq 1 "${#lines[@]}" "number of lines of $p --version" || return 1
        if [[ $p == als-gen-log ]]; then
            assert_eq "$p $v" "$output" "$p --version" || return 1
            continue
        fi
        local blas=", OpenBLAS [0-9][^,()]*"
        if [[ $p == als-map || $p == als-csr ]]; then
            blas=""
            ! ldd "$(command -v "$p")" | grep -q blas || _fail "$p links a BLAS" || return 1
        fi
        assert_match "$output" \
            "^$p ${v//./\\.} \\(libals ${v//./\\.}, zlib [0-9][^,()]*$blas\\)$" ||
            return 1
        assert_empty "$stderr" "stderr of $p --version"
    done
}

@test "every program: a bogus option exits 2 with the usage on stderr and nothing on stdout" {
    local p progs
    progs=$(programs_or_fail)
    for p in $progs; do
        run -2 --separate-stderr "$p" --no-such-option-xyzzy
        assert_empty "$output" "stdout of $p --no-such-option-xyzzy" || return 1
        assert_contains "$stderr" "usage: $p" || return 1
        run -2 --separate-stderr "$p" -Z
        assert_empty "$output" "stdout of $p -Z" || return 1
        assert_contains "$stderr" "usage: $p" || return 1
    done
}

@test "every program: the usage of --help equals the SYNOPSIS of man/PROG.1" {
    command -v mandoc >/dev/null || _fail "mandoc is not installed (share/install-deps.sh installs it)"
    local p progs man usage synopsis bad=""
    progs=$(programs_or_fail)
    for p in $progs; do
        man="$ALS_TOP/man/$p.1"
        if [[ ! -f "$man" ]]; then
            bad+="$p: no man page man/$p.1 (every program needs one)"$'\n'
            continue
        fi
        usage=$("$p" --help | usage_lines | normalise_synopsis)
        synopsis=$(man_section "$man" SYNOPSIS | normalise_synopsis)
        if [[ -z "$synopsis" ]]; then
            bad+="$p: man/$p.1 has no SYNOPSIS section"$'\n'
        elif [[ "$usage" != "$synopsis" ]]; then
            bad+="$p: usage and man/$p.1 SYNOPSIS differ"$'\n'"  usage:    $usage"$'\n'
            bad+="  SYNOPSIS: $synopsis"$'\n'"  $(first_difference "$usage" "$synopsis")"$'\n'
        fi
    done
    [[ -z "$bad" ]] || _fail "$bad"
}

# The EXAMPLES of each man page are shell sessions: every line '$ command' (with '\'
# continuations) runs, in order, in one empty scratch directory with build/ (the programs,
# als-gen-log among them) on the PATH, so examples make their own input with als-gen-log or
# printf. Lines without '$ ' (the output shown) are not compared. A command using a program
# that is not built yet is skipped and named; any other failing command fails the test. A
# pipeline fails when any part fails, except a writer killed by SIGPIPE because a reader
# ('| head') left. The helpers (helpers.bash) also run the README and als(7): 96-docs.bats.
@test "every program: the EXAMPLES of man/PROG.1 run" {
    command -v mandoc >/dev/null || _fail "mandoc is not installed (share/install-deps.sh installs it)"
    command -v als-gen-log >/dev/null || _fail "als-gen-log is not built"
    local p progs man cmds
    examples_ran=0 examples_failed="" examples_notes=""
    progs=$(programs_or_fail)
    for p in $progs; do
        man="$ALS_TOP/man/$p.1"
        if [[ ! -f "$man" ]]; then
            examples_notes+="$p: no man page (the SYNOPSIS test fails for it)"$'\n'
            continue
        fi
        cmds=$(man_section "$man" EXAMPLES | example_commands --prompt)
        if [[ -z "$cmds" ]]; then
            examples_notes+="$p: man/$p.1 has no '\$ ' lines in EXAMPLES"$'\n'
            continue
        fi
        run_examples --skip-missing "$BATS_TEST_TMPDIR/examples-$p" "$p" <<<"$cmds"
    done
    [[ -z "$examples_notes" ]] || printf "%s" "$examples_notes" | sed "s/^/# /" >&3
    [[ -z "$examples_failed" ]] || _fail "$examples_failed"
    ((examples_ran > 0)) || skip "no man page EXAMPLES to run yet: ${examples_notes//$'\n'/; }"
}
