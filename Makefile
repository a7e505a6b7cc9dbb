# flaskshield -- build, test, install.
#
#   make deps            install the Debian packages needed (as root)
#   make demo            build, then show the shield on the bundled example
#   make                 build/libflaskshield.so and build/flaskshield
#   make test            C unit tests, then the integration suite (pytest)
#   make install         PREFIX, DESTDIR, SYSCONFDIR honoured
#   make uninstall       removes what install put there
#   make SANITIZE=1 BUILD=build-asan test   the suite under ASan + UBSan
#   make bench | fuzz | clean

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
LIBDIR     ?= $(PREFIX)/lib/flaskshield
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
BUILD      ?= build
CC         ?= gcc
PYTHON_INC ?= /usr/include/python3.11
PYTEST     ?= /usr/bin/python3 -m pytest

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
DEFS    := -D_GNU_SOURCE -DFS_VERSION='"$(VERSION)"' \
           -DFS_DEFAULT_POLICY_PATH='"$(SYSCONFDIR)/flaskshield/policy.conf"' \
           -DFS_LIBDIR='"$(LIBDIR)"'
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(DEFS) -fPIC -fvisibility=hidden \
              -Icore -Ishim -Icli $(CFLAGS)
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
endif

POLICY_SRC := $(wildcard core/*.c)
CMD_SRC    := $(wildcard cli/*.c)
SHIM_SRC   := $(wildcard shim/*.c)
# The parts of the library that use no Python: built into the library and,
# alone, into the C unit tests and the fuzz targets.
SHIM_PURE_SRC := shim/fs_argv.c shim/fs_clen.c shim/fs_elf.c shim/fs_modname.c shim/fs_secret.c
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ    := $(CMD_SRC:%.c=$(BUILD)/%.o)
SHIM_OBJ   := $(SHIM_SRC:%.c=$(BUILD)/%.o)
SHIM_PURE_OBJ := $(SHIM_PURE_SRC:%.c=$(BUILD)/pure/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)

LIB := $(BUILD)/libflaskshield.so
CMD := $(BUILD)/flaskshield

.PHONY: all deps demo test unit integration install uninstall bench stress fuzz clean
all: $(LIB) $(CMD)

deps:
	tools/install-deps.sh

demo: all
	FLASKSHIELD_BUILD=$(abspath $(BUILD)) /usr/bin/python3 tools/demo.py

$(BUILD)/shim/%.o: shim/%.c $(wildcard shim/*.h core/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -I$(PYTHON_INC) -c $< -o $@

$(BUILD)/%.o: %.c $(wildcard core/*.h cli/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# -z defs: any C-API symbol used directly instead of through the run-time
# table fails the link (decision 1 of DESIGN.md).
$(LIB): $(SHIM_OBJ) $(POLICY_OBJ)
	$(CC) -shared -Wl,-z,defs -o $@ $^ $(SAN_LDFLAGS) -ldl

$(CMD): $(CMD_OBJ) $(POLICY_OBJ)
	$(CC) -o $@ $^ $(SAN_LDFLAGS) -ldl

# The Python-free shim files, compiled without the Python headers (so a
# Python include there fails the build) for the unit tests.
$(BUILD)/pure/%.o: %.c $(wildcard shim/*.h core/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (no Python)"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

.SECONDARY: $(SHIM_PURE_OBJ)
$(BUILD)/test_%: tests/unit/test_%.c $(POLICY_OBJ) $(SHIM_PURE_OBJ)
	@echo "  LINK    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(SAN_LDFLAGS) -ldl

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: all
	FLASKSHIELD_BUILD=$(abspath $(BUILD)) $(PYTEST) -q tests/integration

test: unit integration

# Benchmarks (tests/bench/bench.py -> tests/bench/RESULTS.md): ratios of the
# same work with and without the library.  BENCH_QUICK=1: wrk 5 s instead of
# 30 s; BENCH_DURATION, BENCH_RUNS, BENCH_RSS_REQUESTS override.
bench: all
	FLASKSHIELD_BUILD=$(abspath $(BUILD)) BENCH_QUICK=$(BENCH_QUICK) \
	    /usr/bin/python3 tests/bench/bench.py

# The long reliability checks (tests/stress): STRESS_REQUESTS (default
# 200000) requests under wrk, memcheck of a one-process app.
STRESS_REQUESTS ?= 200000
stress: all
	FLASKSHIELD_BUILD=$(abspath $(BUILD)) STRESS_REQUESTS=$(STRESS_REQUESTS) \
	    $(PYTEST) -q tests/stress

# install: the library, the command, the man pages, and the default policy,
# which never replaces an existing one (that one is kept; the shipped file
# goes beside it as policy.conf.new).  Build and install with the same
# PREFIX and SYSCONFDIR: the command and the library have LIBDIR and the
# policy path compiled in.  uninstall removes what install put there, but a
# policy.conf (or policy.conf.new) that differs from the shipped file is the
# operator's and is kept, and it refuses while $(DESTDIR)/etc/ld.so.preload
# still lists the library (`flaskshield disable` first).
INSTALL ?= install
POLICY_DEST := $(DESTDIR)$(SYSCONFDIR)/flaskshield/policy.conf
MANPAGES    := man/flaskshield.1 man/flaskshield.conf.5

install: all
	$(INSTALL) -D -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libflaskshield.so
	$(INSTALL) -D -m 0755 $(CMD) $(DESTDIR)$(BINDIR)/flaskshield
	$(INSTALL) -D -m 0644 man/flaskshield.1 $(DESTDIR)$(MANDIR)/man1/flaskshield.1
	$(INSTALL) -D -m 0644 man/flaskshield.conf.5 $(DESTDIR)$(MANDIR)/man5/flaskshield.conf.5
	@if [ ! -e "$(POLICY_DEST)" ]; then \
	    echo "$(INSTALL) -D -m 0644 etc/policy.conf $(POLICY_DEST)"; \
	    $(INSTALL) -D -m 0644 etc/policy.conf "$(POLICY_DEST)"; \
	elif cmp -s etc/policy.conf "$(POLICY_DEST)"; then \
	    echo "$(POLICY_DEST) is the shipped policy already: unchanged"; \
	else \
	    $(INSTALL) -D -m 0644 etc/policy.conf "$(POLICY_DEST).new"; \
	    echo "$(POLICY_DEST) exists and was kept; the shipped policy was" \
	         "installed as $(POLICY_DEST).new"; \
	fi

uninstall:
	@if grep -qsxF "$(LIBDIR)/libflaskshield.so" "$(DESTDIR)/etc/ld.so.preload" \
	    || grep -qsxF "$(DESTDIR)$(LIBDIR)/libflaskshield.so" "$(DESTDIR)/etc/ld.so.preload"; then \
	    echo "$(DESTDIR)/etc/ld.so.preload still lists the library: run" \
	         "'flaskshield disable' first" >&2; \
	    exit 1; \
	fi
	rm -f $(DESTDIR)$(LIBDIR)/libflaskshield.so $(DESTDIR)$(BINDIR)/flaskshield \
	    $(DESTDIR)$(MANDIR)/man1/flaskshield.1 \
	    $(DESTDIR)$(MANDIR)/man5/flaskshield.conf.5
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null || true
	@for f in "$(POLICY_DEST)" "$(POLICY_DEST).new"; do \
	    if [ ! -e "$$f" ]; then :; \
	    elif cmp -s etc/policy.conf "$$f"; then \
	        echo "rm -f $$f"; rm -f "$$f"; \
	    else \
	        echo "$$f differs from the shipped policy: kept"; \
	    fi; \
	done
	-@rmdir $(DESTDIR)$(SYSCONFDIR)/flaskshield 2>/dev/null || true

clean:
	rm -rf build build-*

# libFuzzer target for the policy loader.  Needs clang and its libFuzzer
# runtime (Debian: clang and libclang-rt-14-dev).  Seeds: the shipped policy
# and the example policies; FUZZ_SECONDS bounds the run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -std=c11 $(WARN) $(DEFS) -Icore -g -O1 \
                -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined

# Every tests/fuzz/fuzz_NAME.c is a target, linked with the policy engine
# and the Python-free shim files; `make fuzz` runs each for FUZZ_SECONDS
# with its own corpus ($(BUILD)/fuzz-NAME), its dictionary
# (tests/fuzz/NAME.dict) when there is one, and the policy target seeded
# with the shipped policies.
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(POLICY_SRC) $(SHIM_PURE_SRC) \
                 $(wildcard core/*.h shim/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ishim -o $@ $< $(POLICY_SRC) $(SHIM_PURE_SRC) -ldl

fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz-seeds-policy
	cp etc/policy.conf examples/policies/*.conf tests/fuzz/regressions/*.conf \
	    $(BUILD)/fuzz-seeds-policy/
	@set -e; for bin in $(FUZZ_BIN); do \
	    name=$${bin##*/fuzz_}; \
	    mkdir -p $(BUILD)/fuzz-$$name; \
	    dict=; [ ! -f tests/fuzz/$$name.dict ] || dict=-dict=tests/fuzz/$$name.dict; \
	    seeds=; [ ! -d $(BUILD)/fuzz-seeds-$$name ] || seeds=$(BUILD)/fuzz-seeds-$$name; \
	    log=$(BUILD)/fuzz-$$name.log; \
	    printf '== fuzz %s (%s s, log %s): ' $$name $(FUZZ_SECONDS) $$log; \
	    if $$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        -artifact_prefix=$(BUILD)/fuzz-$$name- $$dict \
	        $(BUILD)/fuzz-$$name $$seeds >$$log 2>&1; then \
	        grep '^Done ' $$log || tail -n 1 $$log; \
	    else \
	        echo FAILED; tail -n 60 $$log; exit 1; \
	    fi; \
	done
