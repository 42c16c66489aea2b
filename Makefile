# mailpolicy: plain GNU make.  Every output goes under $(BUILD_DIR).
#
#   make            build the core library, the CLI (and, once they exist,
#                   the Dovecot plugins and the milter)
#   make deps       apt-get what the build and the tests need (root; idempotent)
#   make test       everything CI runs
#   make unit | asan | fuzz | bench | integration | demo | install | clean

SHELL := /bin/bash
.SUFFIXES:
.DELETE_ON_ERROR:

BUILD_DIR ?= build
B := $(BUILD_DIR)
STACK ?= debian12
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
PYTHON ?= /usr/bin/python3
FUZZ_SECONDS ?= 30

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wmissing-declarations \
	-Wpointer-arith -Wshadow -Wformat=2 -Wstrict-prototypes -Wvla \
	-Wno-unused-parameter
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -fPIC -pthread -Iinclude -D_GNU_SOURCE
LDLIBS_CORE := -pthread
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# Dovecot build flags (for the plugins), from the installed dovecot-dev.
DOVECOT_CONFIG ?= /usr/lib/dovecot/dovecot-config
ifneq ($(wildcard $(DOVECOT_CONFIG)),)
DOVECOT_CFLAGS := $(shell . $(DOVECOT_CONFIG) && echo "$$DOVECOT_CFLAGS")
DOVECOT_INCLUDE := $(shell . $(DOVECOT_CONFIG) && echo "$$LIBDOVECOT_INCLUDE")
DOVECOT_MODULEDIR := $(shell . $(DOVECOT_CONFIG) && echo "$$dovecot_moduledir")
endif
DOVECOT_MODULEDIR ?= /usr/lib/dovecot/modules

CORE_SRC := $(sort $(wildcard core/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_HELPER_SRC := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
BENCH_SRC := $(sort $(wildcard tests/bench/bench-*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
HEADERS := $(wildcard include/mailpolicy/*.h core/*.h cli/*.h tests/unit/*.h)

CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
LIB := $(B)/lib/libmailpolicy.a
CLI := $(B)/bin/mailpolicy
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
ASAN_CORE_OBJ := $(CORE_SRC:%.c=$(B)/asan/%.o)
ASAN_LIB := $(B)/asan/libmailpolicy.a
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/tests/unit/%)
ASAN_CLI := $(B)/asan/bin/mailpolicy
CLANG_OBJ := $(CORE_SRC:%.c=$(B)/clang/%.o) $(CLI_SRC:%.c=$(B)/clang/%.o)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

.PHONY: install-check all deps test unit asan clang-build fuzz fuzz-smoke bench integration \
	demo install clean cli lib
all: lib cli
lib: $(LIB)
cli: $(CLI)

# ---- compile rules ----
$(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_CORE)

# ---- unit tests (cmocka), plain and under ASan+UBSan ----
$(B)/tests/unit/%: tests/unit/%.c $(UNIT_HELPER_SRC) $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(UNIT_HELPER_SRC) $(LIB) -lcmocka $(LDLIBS_CORE)

$(B)/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/asan/tests/unit/%: tests/unit/%.c $(UNIT_HELPER_SRC) $(ASAN_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(UNIT_HELPER_SRC) $(ASAN_LIB) -lcmocka $(LDLIBS_CORE)

# Tests find their data through MP_SRCDIR.
unit: $(UNIT_BIN) $(CLI)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; MP_SRCDIR=$(CURDIR) MP_CLI=$(abspath $(CLI)) $$t; done

$(ASAN_CLI): $(CLI_SRC:%.c=$(B)/asan/%.o) $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_CORE)

# The CLI's tests run the sanitized CLI, so it is checked too.
asan: $(ASAN_UNIT_BIN) $(ASAN_CLI)
	@set -e; for t in $(ASAN_UNIT_BIN); do echo "== $$t (asan+ubsan)"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		MP_SRCDIR=$(CURDIR) MP_CLI=$(abspath $(ASAN_CLI)) $$t; done

# The core and the CLI must also build clean under clang.
$(B)/clang/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@
clang-build: $(CLANG_OBJ)

# ---- fuzzing (libFuzzer, clang) ----
$(B)/fuzz/%: tests/fuzz/%.c $(CORE_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(CORE_SRC) $(LDLIBS_CORE)

# make fuzz: FUZZ_SECONDS per target, seeded from tests/fuzz/corpus/NAME.
fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		mkdir -p $(B)/fuzz/corpus-$$n; \
		echo "== $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
			-artifact_prefix=$(B)/fuzz/$$n- $(B)/fuzz/corpus-$$n tests/fuzz/corpus/$$n 2>&1 | tail -n 3; \
		test $${PIPESTATUS[0]} -eq 0; done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=20

# ---- benchmarks (never part of make test; report ratios/figures) ----
$(B)/bench/%: tests/bench/%.c $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -g -o $@ $< $(LIB) $(LDLIBS_CORE)
bench: $(BENCH_BIN)
	@set -e; for b in $(BENCH_BIN); do echo "== $$b"; $$b; done

# ---- integration (real servers) and demo ----
# On the Debian 13 stack the modules are built inside its tree, against
# Dovecot 2.4 and gcc 14 (outputs in $(B)/debian13/, same names).
integration: all
ifeq ($(STACK),debian13)
	D13_ROOT=$(abspath $(B))/debian13/root D13_OUT=$(abspath $(B))/debian13 tests/harness/debian13/in-tree-make all
endif
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

demo: deps
	$(MAKE) all
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) KEEP=$(KEEP) $(PYTHON) tests/harness/demo

# ---- everything CI runs ----
test: deps
	$(MAKE) all
	$(MAKE) clang-build
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) fuzz-smoke
	$(MAKE) install-check
	$(MAKE) integration STACK=debian12
	$(MAKE) integration STACK=debian13

# ---- dependencies (Debian 12) ----
DEB_PACKAGES := build-essential clang libclang-rt-14-dev libcmocka-dev libssl-dev \
	libhiredis-dev libmilter-dev miltertest dovecot-core dovecot-imapd \
	dovecot-pop3d dovecot-lmtpd dovecot-dev postfix swaks redis-server \
	python3-pytest openssl debootstrap debian-archive-keyring zstd \
	libnet-ssleay-perl libio-socket-ssl-perl groff-base
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	echo "deps: installing $$missing"; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: run as root to install: $$missing" >&2; exit 1; fi; \
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q && apt-get install -y -q $$missing

# ---- install (honours DESTDIR and PREFIX) ----
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(SYSCONFDIR)/mailpolicy
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/mailpolicy
	install -m 0644 docs/mailpolicy.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/mailpolicy.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	test -e $(DESTDIR)$(SYSCONFDIR)/mailpolicy/mailpolicy.conf || \
		install -m 0644 packaging/mailpolicy.conf $(DESTDIR)$(SYSCONFDIR)/mailpolicy/mailpolicy.conf
	@set -e; for m in $(wildcard $(B)/modules/*.so); do \
		install -d $(DESTDIR)$(DOVECOT_MODULEDIR); install -m 0644 $$m $(DESTDIR)$(DOVECOT_MODULEDIR)/; done
	@set -e; if [ -e $(B)/sbin/mailpolicy-milter ]; then install -d $(DESTDIR)$(PREFIX)/sbin; \
		install -m 0755 $(B)/sbin/mailpolicy-milter $(DESTDIR)$(PREFIX)/sbin/; fi

# Stage an install and check that the installed CLI accepts the installed
# sample policy.
install-check: all
	rm -rf $(B)/stage
	$(MAKE) install DESTDIR=$(abspath $(B))/stage
	$(B)/stage$(PREFIX)/bin/mailpolicy check -v $(B)/stage$(SYSCONFDIR)/mailpolicy/mailpolicy.conf

clean:
	rm -rf $(B)

-include $(wildcard $(B)/obj/*/*.d)
