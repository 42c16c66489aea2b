# mk/core.mk: the policy core, the CLI, and their unit, sanitizer, clang,
# fuzz and bench builds.  Included by the Makefile.

# Core objects are compiled with hidden visibility: a Dovecot plugin or
# any .so that links libmailpolicy.a exports only its own entry points,
# so two plugins loaded into one doveadm process cannot bind each other's
# copy of the core (checked by `symbols-check`, part of `unit`).
CORE_VISIBILITY := -fvisibility=hidden
# Header dependencies: every compile writes a .d next to its object.  An
# object without its .d (built before this rule existed) is rebuilt once:
# the .d is a prerequisite whose empty rule makes it "new" when missing.
DEP_FLAGS = -MMD -MP
DEP_FILES := $(patsubst %.o,%.d,$(CORE_OBJ) $(CLI_OBJ) $(ASAN_CORE_OBJ) \
	$(CLI_SRC:%.c=$(B)/asan/%.o) $(CLANG_OBJ))

# ---- compile rules ----
$(B)/obj/core/%.o: core/%.c $(B)/obj/core/%.d
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(CORE_VISIBILITY) $(DEP_FLAGS) -c $< -o $@

$(B)/obj/%.o: %.c $(B)/obj/%.d
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(DEP_FLAGS) -c $< -o $@

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

$(B)/asan/core/%.o: core/%.c $(B)/asan/core/%.d
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(CORE_VISIBILITY) $(DEP_FLAGS) -c $< -o $@

$(B)/asan/%.o: %.c $(B)/asan/%.d
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(DEP_FLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/asan/tests/unit/%: tests/unit/%.c $(UNIT_HELPER_SRC) $(ASAN_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(UNIT_HELPER_SRC) $(ASAN_LIB) -lcmocka $(LDLIBS_CORE)

# A .so with the whole core in it exports its own entry point and not one
# symbol of the core (hidden visibility, see CORE_VISIBILITY).
SYMBOLS_PROBE := $(B)/tests/probe/libmailpolicy-probe.so
$(SYMBOLS_PROBE): tests/unit/probe/symbols-probe.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -shared -o $@ $< \
		-Wl,--whole-archive $(LIB) -Wl,--no-whole-archive $(LDLIBS_CORE)
symbols-check: $(SYMBOLS_PROBE)
	@syms=$$(nm -D --defined-only $(SYMBOLS_PROBE) | awk '{print $$3}'); \
	echo "$$syms" | grep -qx mailpolicy_probe_entry || \
		{ echo "symbols-check: the probe's entry point is not exported" >&2; exit 1; }; \
	leaked=$$(echo "$$syms" | grep -E '^(mp_|policy_|rate_|wildcard_|cidr_|units_)' || true); \
	if [ -n "$$leaked" ]; then echo "symbols-check: the core leaks:" $$leaked >&2; exit 1; fi; \
	echo "symbols-check: $(SYMBOLS_PROBE) exports no core symbol"

# Tests find their data through MP_SRCDIR.
unit: $(UNIT_BIN) $(CLI) symbols-check
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; MP_SRCDIR=$(CURDIR) MP_CLI=$(abspath $(CLI)) $$t; done

$(ASAN_CLI): $(CLI_SRC:%.c=$(B)/asan/%.o) $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_CORE)

# The CLI's tests run the sanitized CLI, so it is checked too.  The
# threaded tests then run under TSan (`tsan`), so CI's `make asan` covers
# all three sanitizers.
asan: $(ASAN_UNIT_BIN) $(ASAN_CLI)
	@set -e; for t in $(ASAN_UNIT_BIN); do echo "== $$t (asan+ubsan)"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		MP_SRCDIR=$(CURDIR) MP_CLI=$(abspath $(ASAN_CLI)) $$t; done
	$(MAKE) tsan

# ThreadSanitizer over the tests whose threads share a policy or a holder
# (readers while another thread swaps) or a rate store (8 threads on one
# key; two Redis stores on one server): any race report fails the run.
TSAN_FLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
TSAN_TESTS := test-policy-holder test-policy test-rate test-rate-redis
TSAN_CORE_OBJ := $(CORE_SRC:%.c=$(B)/tsan/%.o)
TSAN_LIB := $(B)/tsan/libmailpolicy.a
TSAN_UNIT_BIN := $(TSAN_TESTS:%=$(B)/tsan/tests/unit/%)
DEP_FILES += $(TSAN_CORE_OBJ:.o=.d)

$(B)/tsan/core/%.o: core/%.c $(B)/tsan/core/%.d
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) $(CORE_VISIBILITY) $(DEP_FLAGS) -c $< -o $@

$(TSAN_LIB): $(TSAN_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(B)/tsan/tests/unit/%: tests/unit/%.c $(UNIT_HELPER_SRC) $(TSAN_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -Itests/unit -o $@ $< $(UNIT_HELPER_SRC) $(TSAN_LIB) -lcmocka $(LDLIBS_CORE)

tsan: $(TSAN_UNIT_BIN)
	@set -e; for t in $(TSAN_UNIT_BIN); do echo "== $$t (tsan)"; \
		TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		MP_SRCDIR=$(CURDIR) $$t; done

# The core and the CLI must also build clean under clang.
$(B)/clang/%.o: %.c $(B)/clang/%.d
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) $(CFLAGS) $(CORE_VISIBILITY) $(DEP_FLAGS) -c $< -o $@
clang-build: $(CLANG_OBJ)

# The top-level Makefile reads $(B)/obj/*/*.d; these are the others.
-include $(wildcard $(B)/asan/*/*.d $(B)/clang/*/*.d $(B)/tsan/*/*.d)

# ---- fuzzing (libFuzzer, clang) ----
$(B)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(CORE_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(CORE_SRC) $(LDLIBS_CORE)

# make fuzz: FUZZ_SECONDS per target, seeded from tests/fuzz/corpus/NAME,
# with the words of tests/fuzz/NAME.dict when there is one.
fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		mkdir -p $(B)/fuzz/corpus-$$n; \
		echo "== $$n for $(FUZZ_SECONDS)s"; \
		dict=; if [ -f tests/fuzz/$$n.dict ]; then dict=-dict=tests/fuzz/$$n.dict; fi; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 $$dict \
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

.PHONY: symbols-check tsan

# Every .d is a target of its own (see DEP_FLAGS).
$(DEP_FILES):
