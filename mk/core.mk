# mk/core.mk: the policy core, the CLI, and their unit, sanitizer, clang,
# fuzz and bench builds.  Included by the Makefile.

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

