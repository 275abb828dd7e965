#!/usr/bin/env bats
# als-train-mpi (make MPI=1): the model of als-train, byte for byte, for 1 to 4 ranks and 1 or 2
# threads in each mode; --loss and the bytes exchanged; a warm start; ranks with no rows; and
# --validate on rank 0; the failures: a numerical one on rank 1, a killed rank, SIGTERM, a different TRAIN.CSR or different
# options on one rank, a missing file on one rank: exit 1 with one line naming the rank, no
# model written, the previous one intact, no temporary file.
#
# The ranks run on this machine under mpirun: helpers.bash sets the Open MPI variables
# (as root, shared memory only); more ranks than cores need --oversubscribe. Without the binary or mpirun every test
# is skipped with the reason; under `make check MPI=1` (ALS_MPI set) they fail instead.
#
# The fixture: als-gen-log --lines 1500 --seed 5 --users 60 (60 users, about 100 items),
# log1p durations (t.trp, vocabulary v), in tr.csr. Small, as the ranks share two cores.

bats_require_minimum_version 1.5.0
load helpers

# Why the tests cannot run here, or nothing.
mpi_missing() {
    command -v als-train-mpi >/dev/null || { echo "als-train-mpi is not built (make MPI=1)"; return; }
    command -v mpirun >/dev/null || echo "no mpirun (apt-get install openmpi-bin)"
}

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    [[ -z "$(mpi_missing)" ]] || return 0
    als-gen-log --lines 1500 --seed 5 --users 60 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr t.trp
}

setup() {
    local why
    why=$(mpi_missing)
    if [[ -n $why ]]; then
        [[ -z ${ALS_MPI-} ]] || _fail "make check MPI=1, but $why" || return 1
        skip "$why"
    fi
    als_setup
    F=$BATS_FILE_TMPDIR
    # Open MPI leaks a little at MPI_Finalize: no leak report for any rank under ASan (the
    # other tests check als-train's own code for leaks)
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
}

# mpi P ARGS...: als-train-mpi ARGS on P ranks; mpirun's banner left out (--quiet)
mpi() {
    local np=$1
    shift
    mpirun --quiet --oversubscribe -np "$np" als-train-mpi "$@"
}

csr_field() {
    als-csr --info "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

@test "train-mpi: the model is als-train's, byte for byte, for 1-4 ranks x 1, 2 threads x 4 modes" {
    local mode p j n=0 models=()
    for mode in "--implicit --solver cg" "--implicit --solver cholesky" \
        "--explicit --biases" "--explicit --no-biases"; do
        # shellcheck disable=SC2086
        als-train -q -j 1 -k 6 -n 3 $mode -o ref.model "$F/tr.csr"
        for p in 1 2 3 4; do
            for j in 1 2; do
                # shellcheck disable=SC2086
                run -0 mpi "$p" -q -j "$j" -k 6 -n 3 $mode -o mpi.model "$F/tr.csr"
                cmp ref.model mpi.model || _fail "$mode, $p ranks, -j $j: not als-train's model" ||
                    return 1
                n=$((n + 1))
            done
        done
        models+=("$(sha256sum <ref.model)")
    done
    assert_eq 32 "$n" "runs compared"
    # The four modes train four different models: the comparison is not of a constant.
    assert_eq 4 "$(printf '%s\n' "${models[@]}" | sort -u | wc -l)" "distinct models"
}

@test "train-mpi: --loss prints als-train's values; -v counts (P-1)(U+I)(k+b)4 bytes per iteration" {
    local users items mode b p want
    users=$(csr_field "$F/tr.csr" rows)
    items=$(csr_field "$F/tr.csr" cols)
    for mode in "--implicit" "--explicit --biases"; do
        b=0
        [[ $mode == *biases ]] && b=1
        # shellcheck disable=SC2086
        run -0 --separate-stderr als-train -j 1 --loss -k 5 -n 4 $mode -o ref.model "$F/tr.csr"
        want=$(sed -n 's/^als-train: iteration \([0-9]*\/4\): .*, loss /\1 /p' <<<"$stderr")
        assert_eq 4 "$(wc -l <<<"$want")" "loss lines of als-train"
        for p in 2 3; do
            # shellcheck disable=SC2086
            run -0 --separate-stderr mpi "$p" -v -j 1 --loss -k 5 -n 4 $mode -o mpi.model \
                "$F/tr.csr"
            assert_eq "$want" \
                "$(sed -n 's/^als-train-mpi: iteration \([0-9]*\/4\): .*, loss /\1 /p' <<<"$stderr")" \
                "loss lines of $p ranks ($mode)"
            cmp ref.model mpi.model
            local per=$(((p - 1) * (users + items) * (5 + b) * 4))
            assert_contains "$stderr" \
                "als-train-mpi: $p ranks exchanged $((4 * per)) bytes, $per per iteration;"
            # the fastest and slowest ranks are ranks of this job, the slowest no faster
            [[ $stderr =~ fastest\ rank\ ([0-9]+)\ ([0-9.]+)\ s,\ slowest\ rank\ ([0-9]+)\ ([0-9.]+)\ s ]] ||
                _fail "no fastest/slowest rank in: $stderr" || return 1
            ((BASH_REMATCH[1] < p && BASH_REMATCH[3] < p)) || _fail "rank out of range" || return 1
            awk -v f="${BASH_REMATCH[2]}" -v s="${BASH_REMATCH[4]}" 'BEGIN { exit !(f <= s) }' ||
                _fail "fastest ${BASH_REMATCH[2]} s > slowest ${BASH_REMATCH[4]} s" || return 1
        done
    done
}

@test "train-mpi: --validate on rank 0 prints als-train's numbers; the model is als-train's" {
    cp -r "$F/v" v
    als-csr -q -V v -o fit.csr --test val.csr --test-fraction 0.2 "$F/t.trp"
    local mode want
    for mode in --implicit --explicit; do
        run -0 --separate-stderr als-train -j 1 $mode -k 5 -n 3 --validate val.csr -o ref.model fit.csr
        want=$(sed -n 's/^als-train: iteration \([0-9]*\/3\): [0-9.]* s, test /\1 /p' <<<"$stderr")
        assert_eq 3 "$(wc -l <<<"$want")" "validation lines of als-train"
        run -0 --separate-stderr mpi 3 -j 1 $mode -k 5 -n 3 --validate val.csr -o mpi.model fit.csr
        assert_eq "$want" \
            "$(sed -n 's/^als-train-mpi: iteration \([0-9]*\/3\): [0-9.]* s, test /\1 /p' <<<"$stderr")" \
            "validation lines on 3 ranks ($mode)"
        cmp ref.model mpi.model
    done
}

@test "train-mpi: --init warm start over a grown vocabulary on 3 ranks is als-train's" {
    cp -r "$F/v" v2
    als-gen-log --lines 1500 --seed 6 --id-seed 5 --users 80 >log2.csv
    als-map -q -V v2 --append -u visitor_id -i content_id -r duration_s --transform log1p \
        -o t2.trp log2.csv
    als-csr -q -V v2 -o tr2.csr t2.trp
    (($(csr_field tr2.csr rows) > $(csr_field "$F/tr.csr" rows)))
    als-train -q -j 1 -k 6 -n 3 -o base.model "$F/tr.csr"
    run -0 --separate-stderr als-train -v -j 2 --init base.model -n 2 -o ref.model tr2.csr
    local said
    said=$(grep 'warm start' <<<"$stderr")
    assert_contains "$said" "new users"
    run -0 --separate-stderr mpi 3 -v -j 1 --init base.model -n 2 -o mpi.model tr2.csr
    cmp ref.model mpi.model
    assert_contains "$stderr" "${said/als-train:/als-train-mpi:}"
}

@test "train-mpi: fewer users than ranks (ranks with no rows) gives als-train's model" {
    printf 'u1,i1,3\nu1,i2,5\nu1,i4,1\nu2,i2,4\nu2,i3,2\nu3,i1,1\nu3,i4,5\n' >tiny.csv
    als-map -q -V tv -o tiny.trp tiny.csv
    als-csr -q -V tv -o tiny.csr tiny.trp
    assert_eq 3 "$(csr_field tiny.csr rows)"
    local mode
    for mode in --implicit --explicit; do
        als-train -q -j 1 $mode -k 2 -n 3 -o ref.model tiny.csr
        run -0 mpi 4 -q -j 1 $mode -k 2 -n 3 -o mpi.model tiny.csr
        cmp ref.model mpi.model
    done
}

# Six users, the last with one rating: with -l 0 and no biases its system is singular. The
# nonzeros split 2 ways puts users 3-5 on rank 1.
@test "train-mpi: a numerical failure on rank 1: als-train's message naming rank 1, no model" {
    local u i
    for u in 1 2 3 4 5; do
        for i in 1 2 3 4 5; do echo "u$u,i$i,$(((u * i) % 5 + 1))"; done
    done >num.csv
    echo "u6,i1,4" >>num.csv
    als-map -q -V nv -o num.trp num.csv
    als-csr -q -V nv -o num.csr num.trp
    run -1 --separate-stderr als-train -q -j 1 --explicit --no-biases -l 0 -k 2 -o ref.model num.csr
    assert_contains "$stderr" "user 5 (1 interactions)"
    local want=${stderr#als-train: }
    echo previous >out.model
    run -1 --separate-stderr mpi 2 -q -j 1 --explicit --no-biases -l 0 -k 2 -o out.model num.csr
    assert_stderr "als-train-mpi: rank 1: $want"
    assert_eq previous "$(cat out.model)" "the previous model"
    no_temp_files .
}

@test "train-mpi: a killed rank: mpirun fails, no model, the previous one intact, no temp file" {
    echo previous >out.model
    # Each rank records its pid; rank 2 is killed once rank 0 has finished two iterations
    # of many.
    mpirun --quiet --oversubscribe -np 3 sh -c 'echo $$ >pid.$OMPI_COMM_WORLD_RANK
        exec als-train-mpi --progress -j 1 -k 6 -n 100000 -o out.model "$1"' _ "$F/tr.csr" \
        2>err &
    local mp=$! k
    for ((k = 0; k < 600; k++)); do
        grep -q 'iteration 2/' err 2>/dev/null && break
        sleep 0.1
    done
    grep -q 'iteration 2/' err || { kill "$mp"; _fail "no second iteration:" "$(cat err)"; }
    kill -KILL "$(cat pid.2)"
    local rc=0
    wait "$mp" || rc=$?
    ((rc != 0)) || _fail "mpirun exited 0 after a rank was killed"
    assert_eq previous "$(cat out.model)" "the previous model"
    no_temp_files .
    # SIGTERM to mpirun: it stops the ranks, with the same result.
    rm -f err
    mpi 2 --progress -j 1 -k 6 -n 100000 -o out.model "$F/tr.csr" 2>err &
    mp=$!
    for ((k = 0; k < 600; k++)); do
        grep -q 'iteration 2/' err 2>/dev/null && break
        sleep 0.1
    done
    grep -q 'iteration 2/' err || { kill "$mp"; _fail "no second iteration:" "$(cat err)"; }
    kill -TERM "$mp"
    rc=0
    wait "$mp" || rc=$?
    ((rc != 0)) || _fail "mpirun exited 0 after SIGTERM"
    assert_eq previous "$(cat out.model)" "the previous model"
    no_temp_files .
}

@test "train-mpi: a different TRAIN.CSR or options on one rank: exit 1 naming the rank" {
    # The same log with other values: the same shape and entries, another checksum.
    als-map -q -V v -u visitor_id -i content_id -r duration_s -o raw.trp "$F/log.csv"
    als-csr -q -V v -o other.csr raw.trp
    local key
    for key in rows cols nnz; do
        assert_eq "$(csr_field "$F/tr.csr" $key)" "$(csr_field other.csr $key)" "$key"
    done
    echo previous >out.model
    run -1 --separate-stderr mpirun --quiet --oversubscribe -np 3 sh -c \
        'f=$1; [ "$OMPI_COMM_WORLD_RANK" = 2 ] && f=$2
         exec als-train-mpi -q -j 1 -k 4 -n 2 -o out.model "$f"' _ "$F/tr.csr" other.csr
    assert_match "$stderr" "^als-train-mpi: rank 2: TRAIN.CSR has data checksum [0-9a-f]{8}, rank 0's [0-9a-f]{8} \(every rank must read the same file\)$"
    # Another -k on rank 1.
    run -1 --separate-stderr mpirun --quiet --oversubscribe -np 2 sh -c \
        'k=4; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && k=5
         exec als-train-mpi -q -j 1 -k $k -n 2 -o out.model "$1"' _ "$F/tr.csr"
    assert_match "$stderr" "^als-train-mpi: rank 1: the parameters \(-k 5 .*\) differ from rank 0's \(-k 4 .*\)$"
    # A file that rank 1 cannot open: its own message, named.
    run -1 --separate-stderr mpirun --quiet --oversubscribe -np 2 sh -c \
        'f=$1; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && f=missing.csr
         exec als-train-mpi -q -j 1 -k 4 -n 2 -o out.model "$f"' _ "$F/tr.csr"
    assert_stderr "als-train-mpi: rank 1: cannot open 'missing.csr': No such file or directory"
    assert_eq previous "$(cat out.model)" "the previous model"
    no_temp_files .
}

@test "train-mpi: -o - on several ranks is a usage error (mpirun gives each rank a terminal)" {
    run -2 --separate-stderr mpi 2 -f -o - "$F/tr.csr"
    assert_contains "$stderr" "als-train-mpi: -o - with 2 ranks: write the model to a file"
    assert_empty "$output"
}
