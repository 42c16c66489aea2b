# mk/milter.mk: mailpolicy-milter, the Redis rate store's link flags, the
# milter's unit and protocol tests and its benchmarks.  Included by the
# Makefile.
#
# The Redis store (core/rate-redis.c) is part of libmailpolicy.a, but only
# programs that create one pull it in: those link -lhiredis (the CLI and
# the Dovecot plugins do not).

# postfwd: make bench-milter measures against it (not needed to build or test).
# procps: ps and pgrep, with which tests/milter/alert_timeout.lua checks that
# no alert command is left behind.
DEB_PACKAGES += postfwd procps

REDIS_LIBS := -lhiredis
MILTER_LIBS := -lmilter $(REDIS_LIBS) -lcrypto -pthread

MILTER_SRC := $(sort $(wildcard milter/*.c))
MILTER_MAIN := milter/milter-main.c
MILTER_LIB_SRC := $(filter-out $(MILTER_MAIN),$(MILTER_SRC))
MILTER_HEADERS := $(wildcard milter/*.h)
MILTER := $(B)/sbin/mailpolicy-milter
MILTER_OBJ := $(MILTER_SRC:%.c=$(B)/obj/%.o)
ASAN_MILTER_OBJ := $(MILTER_SRC:%.c=$(B)/asan/%.o)
ASAN_MILTER := $(B)/asan/sbin/mailpolicy-milter

.PHONY: milter milter-asan test-rate-redis miltertest bench-milter bench-rate
all: milter
milter: $(MILTER)

# Test programs that use the Redis store or the milter's pure parts.
$(B)/tests/unit/test-rate-redis $(B)/asan/tests/unit/test-rate-redis \
$(B)/tsan/tests/unit/test-rate-redis $(B)/fuzz/%: \
	LDLIBS_CORE += $(REDIS_LIBS)
$(B)/bench/bench-rate: LDLIBS_CORE += $(REDIS_LIBS)

$(B)/obj/milter/%.o: milter/%.c $(HEADERS) $(MILTER_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Imilter $(CFLAGS) -c $< -o $@

$(MILTER): $(MILTER_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(MILTER_OBJ) $(LIB) $(MILTER_LIBS)

$(B)/asan/milter/%.o: milter/%.c $(HEADERS) $(MILTER_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Imilter $(SAN_FLAGS) -c $< -o $@

# make clang-build compiles the milter too (clean under gcc and clang).
CLANG_MILTER_OBJ := $(MILTER_SRC:%.c=$(B)/clang/%.o)
$(B)/clang/milter/%.o: milter/%.c $(HEADERS) $(MILTER_HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -Imilter $(CFLAGS) -c $< -o $@
clang-build: $(CLANG_MILTER_OBJ)

$(ASAN_MILTER): $(ASAN_MILTER_OBJ) $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $(ASAN_MILTER_OBJ) $(ASAN_LIB) $(MILTER_LIBS)
milter-asan: $(ASAN_MILTER)

# Unit tests of the milter's pure parts (decisions, counting, the From
# header, the audit header) link those objects, without libmilter.  The
# library comes again after them: a static library is searched only where
# it stands on the command line.
MILTER_PURE := milter/decision.c milter/address.c milter/audit.c milter/secret.c
MILTER_UNIT := test-milter-decision test-milter-limits test-milter-address
$(MILTER_UNIT:%=$(B)/tests/unit/%): $(MILTER_PURE:%.c=$(B)/obj/%.o)
$(MILTER_UNIT:%=$(B)/tests/unit/%): LDLIBS_CORE += $(MILTER_PURE:%.c=$(B)/obj/%.o) $(LIB) -lcrypto
$(MILTER_UNIT:%=$(B)/asan/tests/unit/%): $(MILTER_PURE:%.c=$(B)/asan/%.o)
$(MILTER_UNIT:%=$(B)/asan/tests/unit/%): LDLIBS_CORE += $(MILTER_PURE:%.c=$(B)/asan/%.o) $(ASAN_LIB) -lcrypto

# The From header reader under libFuzzer (make fuzz runs every target).
$(B)/fuzz/fuzz-from-header: tests/fuzz/fuzz-from-header.c milter/address.c milter/address.h
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< milter/address.c


# ---- install: the man page (the binary is installed by the Makefile) ----
install: install-milter-man
.PHONY: install-milter-man
install-milter-man:
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 docs/mailpolicy-milter.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# ---- protocol tests: miltertest scripts against the ASan+UBSan milter ----
# The harness's runner (make miltertest: every tests/milter/*.lua with
# miltertest, then tests/milter/test_*.py under pytest, each against a
# milter started with tests/milter/policy.conf; a dead milter or a
# sanitizer report fails) on the ASan+UBSan build.
# tests/milter/test_startup.py holds a starting milter at a known point
# with this LD_PRELOAD library.
STARTUP_GATE := $(B)/tests/milter/startup-gate.so
$(STARTUP_GATE): tests/milter/startup-gate.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -shared -o $@ $< -ldl
miltertest: $(STARTUP_GATE)
miltertest-milter: $(ASAN_MILTER)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
		$(MAKE) miltertest MILTERTEST_MILTER=$(ASAN_MILTER)

# ---- benchmarks (not in make test) ----
# The anchors of make bench-milter: milters that decide nothing.
TRIVIAL_MILTER := $(B)/bench/trivial-milter
$(TRIVIAL_MILTER): tests/bench/trivial-milter.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -g -o $@ $< -lmilter -pthread
WIRE_MILTER := $(B)/bench/wire-milter
$(WIRE_MILTER): tests/bench/wire-milter.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -g -o $@ $<

# make bench-rate: the memory store, and the Redis store against a
# redis-server started here on a free loopback port.
bench-rate: $(B)/bench/bench-rate
	@set -e; d=$(abspath $(B))/bench-redis; rm -rf $$d; mkdir -p $$d; \
	port=$$($(PYTHON) -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); \
	redis-server --port $$port --bind 127.0.0.1 --save '' --appendonly no --dir $$d \
		> $$d/redis.log 2>&1 & pid=$$!; \
	trap 'kill $$pid; wait $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do redis-cli -p $$port ping >/dev/null 2>&1 && break; sleep 0.05; done; \
	MP_BENCH_REDIS=127.0.0.1:$$port $(B)/bench/bench-rate

# make bench-milter: Postfix + smtp-source through the harness's stack:
# no milter against mailpolicy-milter (sample policy, and with rates in
# memory and in Redis), a minimal and a trivial milter, postfwd1 and
# postfwd2; then the Redis store from 8 threads and the milter's memory
# at 200 sessions.  Ratios in one run; nothing asserts a time.  Export
# MAILPOLICY_RUNTIME and MAILPOLICY_PORT_BASE as for the integration tests.
bench: bench-milter
bench-milter: all $(MILTER) $(TRIVIAL_MILTER) $(WIRE_MILTER) $(B)/bench/bench-rate
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/bench/bench-milter.py
