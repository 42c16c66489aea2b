# mailpolicy: plain GNU make.  Every output goes under $(BUILD_DIR).
#
#   make            build the core library, the CLI (and, once they exist,
#                   the Dovecot plugins and the milter)
#   make deps       apt-get what the build and the tests need (root; idempotent)
#   make test       everything CI runs
#   make unit | asan | fuzz | bench | integration | miltertest | bench-servers
#   make demo | install | clean

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

# ---- dependencies (Debian 12); fragments may add to DEB_PACKAGES ----
DEB_PACKAGES := build-essential clang libclang-rt-14-dev libcmocka-dev libssl-dev \
	libhiredis-dev libmilter-dev miltertest dovecot-core dovecot-imapd \
	dovecot-pop3d dovecot-lmtpd dovecot-dev postfix swaks redis-server \
	python3-pytest openssl debootstrap debian-archive-keyring zstd \
	libnet-ssleay-perl libio-socket-ssl-perl groff-base
# ---- the parts: one fragment each (mk/*.mk), owned by the part ----
include $(sort $(wildcard mk/*.mk))

# ---- everything CI runs ----
test: deps
	$(MAKE) all
	$(MAKE) clang-build
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) miltertest-milter
	$(MAKE) fuzz-smoke
	$(MAKE) install-check
	$(MAKE) integration STACK=debian12
	$(MAKE) integration STACK=debian13

# ---- dependencies ----
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
