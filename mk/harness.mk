# mk/harness.mk: the real-server suites and the demo.  Included by the Makefile.

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

