# als: Alternating Least Squares recommendations as small Unix programs.
# One non-recursive Makefile. `make help` lists the targets.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
EXAMPLEDIR ?= $(PREFIX)/share/als/examples
PKG_CONFIG ?= pkg-config
# .pc names vary by distro; override BLAS_PC or set BLAS_LIBS
BLAS_PC  ?= openblas lapacke
B        ?= build
SHELL    := /bin/bash

CC       ?= cc
CFLAGS   ?= -O2 -g
# Rows are solved in parallel with OpenMP (gcc's libgomp; clang needs libomp-dev).
OPENMP   ?= -fopenmp
WARN      = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wformat=2 -Wdouble-promotion $(if $(WERROR),-Werror)
ALL_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -DALS_VERSION='"$(VERSION)"' -Ilib \
            $(shell $(PKG_CONFIG) --cflags zlib $(BLAS_PC) 2>/dev/null) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 -pthread $(OPENMP) $(WARN) $(CFLAGS)
BLAS_LIBS ?= $(shell $(PKG_CONFIG) --libs $(BLAS_PC) 2>/dev/null || echo -lopenblas -llapacke)
ZLIB_LIBS = $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
LIBS      = $(ZLIB_LIBS) $(BLAS_LIBS) -lm
ALL_LDFLAGS = -pthread $(OPENMP) $(LDFLAGS)

# make MPI=1 adds build/als-train-mpi (lib/dist.c compiled again with MPI); the other
# programs never link MPI. The .pc name: ompi-c (Open MPI) or MPI_PC=mpich.
MPI      ?=
MPI_PC   ?= ompi-c
ifneq ($(MPI),)
# -isystem: the MPI headers are not held to our warnings
MPI_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags $(MPI_PC)))
MPI_LIBS   := $(shell $(PKG_CONFIG) --libs $(MPI_PC))
MPI_PROGS   = $(B)/als-train-mpi
endif

LIB_SRCS  = $(sort $(wildcard lib/*.c))
LIB_OBJS  = $(LIB_SRCS:lib/%.c=$(B)/lib/%.o)
CMD_SRCS  = $(sort $(wildcard cmd/als-*.c))
PROGS     = $(CMD_SRCS:cmd/%.c=$(B)/%)
UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
# The sample-log generator is installed with the programs; the sgemm benchmark is not.
GEN_LOG   = $(B)/als-gen-log
TOOLS     = $(GEN_LOG) $(B)/bench-sgemm
MANS      = $(sort $(wildcard man/*.[157]))
FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAYS   = $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(B)/replay/%)

.PHONY: all check layering unit replay bats asan demo bench quality install uninstall lint-man clean deps help fuzz

all: $(PROGS) $(TOOLS) $(MPI_PROGS)

help:
	@echo 'targets: all check layering unit bats asan demo bench quality install uninstall lint-man fuzz clean'
	@echo 'variables: PREFIX DESTDIR CC CFLAGS WERROR=1 B=<build dir> BLAS_PC BLAS_LIBS MPI=1 MPI_PC'

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/lib
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(B)/libals.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# cmd/cli.c prints and exits: it is linked into every program, never into libals.a.
$(B)/cmd/%.o: cmd/%.c $(wildcard lib/*.h cmd/*.h) | $(B)/cmd
	$(CC) $(ALL_CPPFLAGS) -Icmd $(ALL_CFLAGS) -c $< -o $@

$(B)/als-%: $(B)/cmd/als-%.o $(B)/cmd/cli.o $(B)/libals.a
	$(CC) $(ALL_LDFLAGS) $< $(B)/cmd/cli.o $(B)/libals.a $(LIBS) -o $@

# No BLAS in the programs that do no linear algebra (cmd/cli.c's reference is weak).
$(B)/als-map $(B)/als-csr: LIBS = $(ZLIB_LIBS) -lm

# als-train-mpi: als-train's main and lib/dist with MPI. The object comes before libals.a,
# so the serial dist.o in the archive is never pulled in.
$(B)/mpi/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/mpi
	$(CC) $(ALL_CPPFLAGS) -DALS_DIST_MPI $(MPI_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(B)/mpi/als-train.o: cmd/als-train.c $(wildcard lib/*.h cmd/*.h) | $(B)/mpi
	$(CC) $(ALL_CPPFLAGS) -Icmd -DALS_TRAIN_MPI $(ALL_CFLAGS) -c $< -o $@

$(B)/als-train-mpi: $(B)/mpi/als-train.o $(B)/mpi/dist.o $(B)/cmd/cli.o $(B)/libals.a
	$(CC) $(ALL_LDFLAGS) $(B)/mpi/als-train.o $(B)/mpi/dist.o $(B)/cmd/cli.o $(B)/libals.a \
	    $(LIBS) $(MPI_LIBS) -o $@

# Standalone (libc and libm only), so it is no program of cmd/ but built from share/.
$(GEN_LOG): share/als-gen-log.c | $(B)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@ -lm

$(B)/bench-sgemm: share/bench-sgemm.c | $(B)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@ $(BLAS_LIBS)

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libals.a | $(B)/tests
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(B)/libals.a $(LIBS) -o $@

# The one unit test of cmd/: the shared option helpers.
$(B)/tests/test_cli: tests/unit/test_cli.c $(wildcard tests/unit/*.h cmd/*.h) $(B)/cmd/cli.o \
		$(B)/libals.a | $(B)/tests
	$(CC) $(ALL_CPPFLAGS) -Icmd -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(B)/cmd/cli.o \
	    $(B)/libals.a $(LIBS) -o $@

# Each fuzz target without libFuzzer, to replay the saved crash inputs in make check.
$(B)/replay/%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libals.a | $(B)/replay
	$(CC) $(ALL_CPPFLAGS) -Itests/fuzz $(ALL_CFLAGS) $(ALL_LDFLAGS) $< tests/fuzz/replay.c \
	    $(B)/libals.a $(LIBS) -o $@

replay: $(REPLAYS)
	@for r in $(REPLAYS); do t=$${r##*/}; \
	    set -- tests/fuzz/crashes/$$t-*; [ -e "$$1" ] || continue; \
	    echo "# replay $$t: $$#"; ./$$r "$$@" >/dev/null || exit 1; \
	done; echo "# replay: every saved fuzz crash input ran clean"

$(B) $(B)/lib $(B)/cmd $(B)/tests $(B)/replay $(B)/mpi:
	mkdir -p $@

deps:
	@sh share/install-deps.sh

# The TAP of both suites is also kept in $(B)/*.tap for the summary line of check.
unit: $(UNIT_BINS)
	@fail=0; : > $(B)/unit.tap; for t in $(UNIT_BINS); do \
	    echo "# $$t"; ( cd tests/unit && ../../$$t ) > $(B)/one.tap || fail=1; \
	    cat $(B)/one.tap; cat $(B)/one.tap >> $(B)/unit.tap; \
	done; rm -f $(B)/one.tap; exit $$fail

bats: all
	@PATH="$(CURDIR)/$(B):$$PATH" ALS_TOP="$(CURDIR)" ALS_BUILD="$(CURDIR)/$(B)" ALS_MPI="$(MPI)" bats tests/cli | tee $(B)/bats.tap; \
	    exit $${PIPESTATUS[0]}

# The layering rules of lib/README, as TAP into $(B)/layering.tap.
layering: | $(B)
	@sh tests/layering.sh | tee $(B)/layering.tap; exit $${PIPESTATUS[0]}

# What git sees changed in the source tree (the build directory aside), to tell whether
# the suites wrote into it. Outside a git work tree, or without git, it is always the
# same line, so the comparison passes.
TREE_STATE = if command -v git >/dev/null 2>&1 && \
                git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
                git status --porcelain --untracked-files=all -- . \
                    $(if $(filter /%,$(B)),,':(exclude)$(B)'); \
             else echo 'not a git work tree: not compared'; fi

check: deps
	@$(MAKE) --no-print-directory all
	@$(TREE_STATE) >$(B)/tree.before
	@$(MAKE) --no-print-directory layering
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory replay
	@$(MAKE) --no-print-directory bats
	@cat $(B)/layering.tap $(B)/unit.tap $(B)/bats.tap | \
	    awk '/^ok / { p++ } /^not ok / { f++ } END { printf "check: %d passed, %d failed\n", p, f }'
	@$(TREE_STATE) >$(B)/tree.after; \
	if ! cmp -s $(B)/tree.before $(B)/tree.after; then \
	    echo 'check: the test suite changed the source tree:'; \
	    diff $(B)/tree.before $(B)/tree.after | sed -n 's/^< /  before: /p; s/^> /  after:  /p'; \
	    exit 1; \
	fi

asan: deps
	@$(MAKE) --no-print-directory B=build-asan \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' check

demo: deps
	@$(MAKE) --no-print-directory all
	@sh share/demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh share/bench.sh $(B)

quality: deps
	@$(MAKE) --no-print-directory all
	@sh share/quality.sh $(B)

fuzz: deps
	@sh share/fuzz.sh

install: $(PROGS) $(GEN_LOG) $(MPI_PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGS) $(MPI_PROGS) $(GEN_LOG) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(EXAMPLEDIR)
	install -m 755 share/examples/nightly.sh $(DESTDIR)$(EXAMPLEDIR)

uninstall:
	for p in $(PROGS) $(MPI_PROGS) $(GEN_LOG); do rm -f $(DESTDIR)$(BINDIR)/$${p##*/}; done
	for m in $(MANS); do \
	    s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -f $(DESTDIR)$(EXAMPLEDIR)/nightly.sh

lint-man:
	@if command -v mandoc >/dev/null; then mandoc -Tlint -Wwarning $(MANS); \
	 else echo 'lint-man: mandoc not installed, skipped'; fi

clean:
	rm -rf build build-asan build-clang
