# mk/harness.mk: the real-server suites, miltertest, the server benchmarks and
# the demo.  Included by the Makefile.
#
#   make integration [STACK=debian13]   the integration suite on one stack
#   make miltertest                     tests/milter/*.lua against the milter (in make test)
#   make bench-servers [STACK=...]      throughput with and without each module (not in make test)
#   make demo [KEEP=1]                  the guided tour
#
# Every harness command honours MAILPOLICY_RUNTIME and MAILPOLICY_PORT_BASE
# (tests/harness/README.md); CI=true makes a module whose sources exist but
# whose build is missing fail instead of skip.

# Sieve for the Sieve/fileinto tests (also in the Debian 13 tree's recipe).
DEB_PACKAGES += dovecot-sieve

.PHONY: integration miltertest bench-servers demo debian13-build

# On the Debian 13 stack the modules are built inside its tree, against
# Dovecot 2.4 and gcc 14 (outputs in $(B)/debian13/, same names).
debian13-build:
	D13_ROOT=$(abspath $(B))/debian13/root D13_OUT=$(abspath $(B))/debian13 \
		tests/harness/debian13/in-tree-make all

integration: all
ifeq ($(STACK),debian13)
	$(MAKE) debian13-build
endif
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# One miltertest run per tests/milter/*.lua (and pytest on tests/milter/test_*.py)
# against the host build of the milter, or MILTERTEST_MILTER (e.g. an ASan build).
MILTERTEST_MILTER ?=
miltertest: all
	BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/milter/run \
		$(if $(MILTERTEST_MILTER),--milter $(abspath $(MILTERTEST_MILTER)))

bench-servers: all
ifeq ($(STACK),debian13)
	$(MAKE) debian13-build
endif
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/bench/servers/bench_servers.py

demo: deps
	$(MAKE) all
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) KEEP=$(KEEP) $(PYTHON) tests/harness/demo
