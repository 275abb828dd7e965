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
    command -v mandoc >/dev/null || _fail "mandoc is not installed (share/install-deps.sh installs it)"
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
@test "docs: the nightly job in als(7) is share/examples/nightly.sh, word for word" {
    command -v mandoc >/dev/null || _fail "mandoc is not installed (share/install-deps.sh installs it)"
    assert_eq "$(cat "$ALS_TOP/share/examples/nightly.sh")" "$(nightly_job)" "the job in als(7)"
}

# Three nights of share/examples/nightly.sh on generated logs: night 1 trains, gates on its
# own split and promotes; night 2 warm-starts, gates against night 1's model and promotes;
# night 3 gets a truncated log and must fail, leaving everything as night 2 left it.
@test "nightly: three nights: a first model, a warm start, a damaged log that changes nothing" {
    local job="$ALS_TOP/share/examples/nightly.sh" f
    mkdir -p srv/logs
    als-gen-log --lines 30000 --seed 1 | gzip >srv/logs/day1.csv.gz

    run -0 --separate-stderr sh "$job" srv
    assert_empty "$stderr" "stderr of night 1"
    assert_file_absent srv/new.als
    assert_eq none "$(als-train --info srv/model.als | awk -F '\t' '$1 == "init" { print $2 }')"
    assert_eq 1200 "$(cut -f1 srv/top10.tsv | sort -u | wc -l)" "users served, night 1"

    als-gen-log --lines 6000 --seed 2 --id-seed 1 --users 1500 --items 130 \
        --start 1772409600 --days 1 | gzip >srv/logs/day2.csv.gz
    run -0 --separate-stderr sh "$job" srv
    assert_empty "$stderr" "stderr of night 2"
    als-train --info srv/model.als >info2.tsv
    assert_eq model.als "$(awk -F '\t' '$1 == "init" { print $2 }' info2.tsv)" "warm start"
    assert_eq same "$(awk -F '\t' '$1 == "init_split" { print $2 }' info2.tsv)"
    # everyone in the history is served, and nobody with what they already have
    gunzip -c srv/logs/*.csv.gz | awk -F, -v OFS='\t' '$1 != "visitor_id" { print $1, $2 }' |
        LC_ALL=C sort -u >seen.tsv
    users=$(cut -f1 seen.tsv | sort -u | wc -l)
    ((users > 1200)) || _fail "the second night's log brought no new visitors ($users)"
    assert_eq "$users" "$(cut -f1 srv/top10.tsv | sort -u | wc -l)" "users served, night 2"
    cut -f1,2 srv/top10.tsv | LC_ALL=C sort -u >served.tsv
    assert_empty "$(LC_ALL=C comm -12 seen.tsv served.tsv | head -n 5)" "seen items served"
    # the gate was honest: the promoted model never saw tonight's test entries
    run -0 --separate-stderr als-eval -q -m srv/model.als -c srv/train.csr srv/test.csr

    (cd srv && sha256sum vocab/* model.als top10.tsv) >night2.sha
    als-gen-log --lines 6000 --seed 3 --id-seed 1 --start 1772496000 --days 1 | gzip >day3.gz
    head -c "$(($(wc -c <day3.gz) / 2))" day3.gz >srv/logs/day3.csv.gz
    run --separate-stderr sh "$job" srv
    ((status != 0)) || _fail "night 3 with a truncated log exited 0"
    assert_contains "$stderr" "day3.csv.gz"
    (cd srv && sha256sum -c --quiet ../night2.sha) || _fail "night 3 changed what night 2 left"
    for f in srv/* srv/vocab/*; do
        [[ "$f" != *.XXXXXX && "$f" != *.tmp* ]] || _fail "a temporary file was left: $f"
    done
}

@test "nightly: a gate that fails promotes nothing (exit 3), and says why" {
    local job="$ALS_TOP/share/examples/nightly.sh"
    mkdir -p srv/logs
    als-gen-log --lines 20000 --seed 1 | gzip >srv/logs/day1.csv.gz
    sed 's/--min ndcg@10=0.1/--min ndcg@10=0.99/' "$job" >strict.sh
    run --separate-stderr sh strict.sh srv
    assert_eq 3 "$status" "exit status"
    assert_contains "$stderr" "ndcg@10"
    assert_file_absent srv/model.als
    assert_file_absent srv/top10.tsv
    assert_file_exists srv/new.als
}
