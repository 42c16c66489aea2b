# mk/folder_quota.mk: the folder_quota part's own targets.  Included by the
# Makefile.  The plugin itself (plugins/folder_quota/) is built by the
# shared rules of mk/dovecot.mk.

.PHONY: folder-quota bench-folder-quota
folder-quota: $(B)/modules/lib20_folder_quota_plugin.so

# folder_quota against stock Dovecot on the real servers of STACK, as ratios
# measured in one run (APPEND throughput, GETQUOTAROOT on folders of 10 and
# 100,000 messages).  Minutes, as root; never part of `make test`.
bench-folder-quota: all
ifeq ($(STACK),debian13)
	D13_ROOT=$(abspath $(B))/debian13/root D13_OUT=$(abspath $(B))/debian13 \
		tests/harness/debian13/in-tree-make all
endif
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/bench/bench_folder_quota.py

bench: bench-folder-quota
