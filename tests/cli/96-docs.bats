#!/usr/bin/env bats
# Documentation that runs (issue 10): the pipeline example of README.md, the EXAMPLES of the
# section 5 and 7 man pages and the nightly job of als(7), each as written, in an empty scratch
# directory with build/ on the PATH, so every file they use must be made by the example
# itself. Commands are run one by one as 00-common.bats runs man/PROG.1 EXAMPLES (helpers.bash:
# example_commands, run_examples): any non-zero status fails, except SIGPIPE (141) of a writer
# before a reader that left early ('| head').

bats_require_minimum_version 1.5.0
load helpers

setup() {
    als_setup
}

# The nightly job of als(7): the EXAMPLES block from '#!/bin/sh' to its end, unindented.
nightly_job() {
    man_section "$ALS_TOP/man/als.7" EXAMPLES |
        awk '/^[[:space:]]*#!\/bin\/sh/ { on = 1; n = match($0, /#/) - 1 }
             on && /^[[:space:]]*$/ { exit }
             on { print substr($0, n + 1) }'
}

@test "docs: the runner fails on a failing line and allows SIGPIPE before '| head' only" {
    local cmds
    cmds=$(printf '%s\n' '# a comment' '' 'echo one \' '    two > a.txt' 'seq 100000 |' \
        '    head -n 1' 'false | cat' 'grep -q one a.txt && exit 3' 'yes | head -n 1 | false' \
        'touch last' | example_commands)
    assert_eq "$(printf '%s\n' 'echo one  two > a.txt' 'seq 100000 | head -n 1' 'false | cat' \
        'grep -q one a.txt && exit 3' 'yes | head -n 1 | false' 'touch last')" "$cmds" "commands"
    examples_ran=0 examples_failed="" examples_notes=""
    run_examples "$BATS_TEST_TMPDIR/runner" self <<<"$cmds"
    assert_eq 6 "$examples_ran" "commands run"
    assert_eq "one two" "$(cat runner/a.txt)"
    assert_file_exists runner/last
    assert_eq "self: example failed (exit 1): \$ false | cat
self: example failed (exit 3): \$ grep -q one a.txt && exit 3
self: example failed (exit 1): \$ yes | head -n 1 | false
" "$(grep '^self:' <<<"$examples_failed")"$'\n' "failures reported"
}

@test "docs: the pipeline example of README.md runs as written" {
    local cmds
    cmds=$(markdown_block "$ALS_TOP/README.md" '## A pipeline example' | example_commands)
    [[ -n "$cmds" ]] || _fail "README.md: no \`\`\`sh block under '## A pipeline example'"
    examples_ran=0 examples_failed="" examples_notes=""
    run_examples "$BATS_TEST_TMPDIR/readme" README.md <<<"$cmds"
    [[ -z "$examples_failed" ]] || _fail "$examples_failed"
    ((examples_ran >= 10)) || _fail "only $examples_ran commands in the README example"
}

@test "docs: the EXAMPLES of man/als.7 and man/als-formats.5 run" {
    command -v mandoc >/dev/null || skip "mandoc is not installed"
    local man page cmds
    examples_ran=0 examples_failed="" examples_notes=""
    for man in "$ALS_TOP"/man/*.[57]; do
        page=${man##*/}
        cmds=$(man_section "$man" EXAMPLES | example_commands --prompt)
        if [[ -z "$cmds" ]]; then
            examples_notes+="$page: no '\$ ' lines in EXAMPLES"$'\n'
            continue
        fi
        run_examples "$BATS_TEST_TMPDIR/examples-$page" "$page" <<<"$cmds"
    done
    [[ -z "$examples_notes" ]] || printf "%s" "$examples_notes" | sed "s/^/# /" >&3
    [[ -z "$examples_failed" ]] || _fail "$examples_failed"
    [[ $examples_notes != *"als.7:"* ]] || _fail "man/als.7 has no '\$ ' lines in EXAMPLES"
}

# The job as cron would run it, in a scratch directory instead of /srv/als: the first night
# builds everything, the second grows the vocabulary. The served lists must leave out every
# item a visitor has in the logs (a list made with train.csr would offer held-out ones).
@test "docs: the nightly job of man/als.7 runs, two nights" {
    command -v mandoc >/dev/null || skip "mandoc is not installed"
    local job
    job=$(nightly_job)
    assert_match "$job" $'^#!/bin/sh\nset -e\ncd /srv/als\n'
    assert_contains "$job" "als-recommend "
    mkdir -p srv/logs
    sed "s|^cd /srv/als\$|cd '$BATS_TEST_TMPDIR/srv'|" <<<"$job" >nightly.sh
    als-gen-log --lines 30000 --seed 1 | gzip >srv/logs/day1.csv.gz

    run -0 --separate-stderr sh nightly.sh
    assert_empty "$stderr" "stderr of the first night"
    assert_file_absent srv/new.model # the first night's model is its own baseline: promoted
    assert_eq 1200 "$(cut -f1 srv/top10.tsv | sort -u | wc -l)" "users served, night 1"

    als-gen-log --lines 6000 --seed 2 --id-seed 1 --users 1500 --items 130 \
        --start 1772409600 --days 1 | gzip >srv/logs/day2.csv.gz
    run -0 sh nightly.sh
    printf 'night 2: %s\n' "${output:-gate passed, new model promoted}" | sed 's/^/# /' >&3
    gunzip -c srv/logs/*.csv.gz | awk -F, -v OFS='\t' '$1 != "visitor_id" { print $1, $2 }' |
        LC_ALL=C sort -u >seen.tsv
    users=$(cut -f1 seen.tsv | sort -u | wc -l)
    ((users > 1200)) || _fail "the second night's log brought no new visitors ($users)"
    assert_eq "$users" "$(cut -f1 srv/top10.tsv | sort -u | wc -l)" "users served, night 2"
    cut -f1,2 srv/top10.tsv | LC_ALL=C sort -u >served.tsv
    assert_empty "$(LC_ALL=C comm -12 seen.tsv served.tsv | head -n 5)" "seen items served"
}
