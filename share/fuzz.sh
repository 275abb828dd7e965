#!/bin/sh
# SPDX-License-Identifier: MIT
# make fuzz: build the libFuzzer targets of tests/fuzz (ASan + UBSan) into build-fuzz/,
# seed their corpora, replay tests/fuzz/crashes/, then fuzz each target in turn.
# Usage: sh share/fuzz.sh [TARGET...]   (targets: csv ratemap logread triples
#        vocab vocabdir csr model num)
# Environment: FUZZ_SECONDS (60 per target), FUZZ_CC (clang), FUZZ_BUILD (build-fuzz),
#              FUZZ_ARGS (more libFuzzer options), BLAS_PC (openblas lapacke).
# Exit status: 0 when nothing crashed, 1 when a target crashed (or a saved crash still
# reproduces), 2 on a usage or build error.
set -eu
cd "$(dirname "$0")/.."

ALL="csv ratemap logread triples vocab vocabdir csr model num"
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
BF=${FUZZ_BUILD:-build-fuzz}
BLAS_PC=${BLAS_PC:-openblas lapacke}

max_len() {
    case $1 in
    triples) echo 131072 ;; # room for a two-block seed (8193 records)
    vocab | csr | model) echo 65536 ;;
    *) echo 4096 ;;
    esac
}

targets=${*:-$ALL}
for t in $targets; do
    case " $ALL " in
    *" $t "*) ;;
    *) echo "fuzz: unknown target '$t' (targets: $ALL)" >&2; exit 2 ;;
    esac
done
case $SECONDS_EACH in
'' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number" >&2; exit 2 ;;
esac
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: $CC not found (libFuzzer needs clang; set FUZZ_CC)" >&2
    exit 2
fi

# ---- build ----

# shellcheck disable=SC2086 # the flag lists are meant to split
PKG_CFLAGS=$(pkg-config --cflags zlib $BLAS_PC 2>/dev/null || true)
# shellcheck disable=SC2086
PKG_LIBS=$(pkg-config --libs zlib $BLAS_PC 2>/dev/null || echo -lz -lopenblas -llapacke)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-O1 -g -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -Ilib $PKG_CFLAGS $SAN"

cc_() {
    # shellcheck disable=SC2086
    $CC $CFLAGS '-DALS_VERSION="fuzz"' "$@"
}

mkdir -p "$BF/obj" "$BF/corpus" "$BF/artifacts" "$BF/logs"
# build-fuzz/ is not in .gitignore: keep git from seeing it, as meson does.
[ -f "$BF/.gitignore" ] || echo '*' > "$BF/.gitignore"

stamp=$BF/.built
changed() {
    find lib tests/fuzz share/fuzz.sh -newer "$stamp" \( -name '*.[ch]' -o -name '*.sh' \) \
        2>/dev/null | head -n 1
}
if [ ! -f "$stamp" ] || [ -n "$(changed)" ]; then
    echo "fuzz: building into $BF/ with $CC" >&2
    rm -f "$BF"/obj/*.o "$BF/libals-fuzz.a"
    for src in lib/*.c; do
        o=$BF/obj/$(basename "$src" .c).o
        # lib/ changes under other hands: a module that does not build is left out, and
        # the link below fails only if a target needs it.
        cc_ -fsanitize=fuzzer-no-link -c "$src" -o "$o" ||
            echo "fuzz: warning: $src does not build; left out" >&2
    done
    ar rcs "$BF/libals-fuzz.a" "$BF"/obj/*.o || exit 2
    for t in $ALL; do
        # shellcheck disable=SC2086
        cc_ -Wall -Wextra -fsanitize=fuzzer -Itests/fuzz "tests/fuzz/fuzz_$t.c" \
            "$BF/libals-fuzz.a" $PKG_LIBS -lm -o "$BF/fuzz_$t" || exit 2
    done
    # shellcheck disable=SC2086
    cc_ -Wall -Wextra -Itests/fuzz tests/fuzz/mkcorpus.c "$BF/libals-fuzz.a" $PKG_LIBS -lm \
        -o "$BF/mkcorpus" || exit 2
    touch "$stamp"
fi

# ---- run ----

# Scratch files of the targets (vocabdir, vocab round trips) go to tmpfs when there is one:
# the library fsyncs what it saves.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    TMPDIR=$(mktemp -d /dev/shm/als-fuzz-run.XXXXXX)
else
    TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/als-fuzz-run.XXXXXX")
fi
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "fuzz: seeding corpora in $BF/corpus/" >&2
# shellcheck disable=SC2046
"$BF/mkcorpus" "$BF/corpus" $(ls tests/data/* 2>/dev/null) || exit 2

status=0
crashed=
reproduced=
summary=$BF/logs/summary.txt
: > "$summary"
printf '%-9s %10s %9s %7s %7s %7s  %s\n' target runs exec/s cov ft corpus result >> "$summary"

for t in $targets; do
    bin=$BF/fuzz_$t
    corpus=$BF/corpus/$t
    art=$BF/artifacts/$t/
    log=$BF/logs/$t.log
    mkdir -p "$corpus" "$art"
    dict=
    [ -f "tests/fuzz/$t.dict" ] && dict=-dict=tests/fuzz/$t.dict

    # Saved crashes first: a bug that is still there is reported, and the fuzzing that
    # follows steps around it (ALS_FUZZ_KNOWN, see tests/fuzz/fuzz.h) to look for others.
    known=
    replay=$BF/logs/$t.replay.log
    : > "$replay"
    for f in tests/fuzz/crashes/"$t"-*; do
        [ -f "$f" ] || continue
        if ! ALS_FUZZ_KNOWN="" "$bin" -runs=1 "$f" >> "$replay" 2>&1; then
            echo "fuzz: $t: saved crash $f still reproduces (see $replay)" >&2
            tag=${f##*/"$t"-}
            known=${known:+$known,}$tag
            reproduced="$reproduced $f"
            status=1
        fi
    done

    echo "fuzz: $t for ${SECONDS_EACH}s (log: $log)" >&2
    rc=0
    # shellcheck disable=SC2086
    ALS_FUZZ_KNOWN=$known "$bin" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
        -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" $dict \
        ${FUZZ_ARGS:-} "$corpus" > "$log" 2>&1 || rc=$?

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    if [ "$rc" -eq 0 ]; then
        result=ok${known:+ (known: $known)}
    else
        status=1
        crashed="$crashed $t"
        unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        what='ERROR: [A-Za-z]+Sanitizer: [a-zA-Z-]+|ERROR: libFuzzer: [a-zA-Z-]+'
        what="$what|runtime error: .*|contract violated: .*"
        kind=$(grep -m 1 -oE "$what" "$log" || true)
        result="CRASH (exit $rc): ${kind:-see log} ${unit:+-> $unit}"
    fi
    printf '%-9s %10s %9s %7s %7s %7s  %s\n' "$t" "${runs:-?}" "${eps:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$result" >> "$summary"
done

echo
cat "$summary"
if [ -n "$reproduced" ]; then
    echo "fuzz: saved crashes that still reproduce (bugs not fixed yet):" >&2
    for f in $reproduced; do echo "    $f" >&2; done
fi
if [ -n "$crashed" ]; then
    echo "fuzz: new crashes in:$crashed (logs and artifacts under $BF/)." >&2
    echo "      Minimise: TMPDIR=/dev/shm $BF/fuzz_TARGET -minimize_crash=1 -runs=10000 FILE" >&2
    echo "      and save it as tests/fuzz/crashes/TARGET-TAG (see tests/fuzz/README)." >&2
fi
exit "$status"
