# mk/pkg.mk: the Debian packages, their checks, and the tests of the
# installed packages.  Included by the Makefile.
#
#   make deb [STACK=debian13]     dovecot-mailpolicy, mailpolicy-milter and
#                                 mailpolicy-common with dpkg-buildpackage,
#                                 then lintian (no errors); Debian 12 into
#                                 $(B)/deb/, Debian 13 (built inside its
#                                 tree, against Dovecot 2.4) into
#                                 $(B)/debian13/deb/
#   make deb-test [STACK=...]     install, upgrade over itself, remove and
#                                 purge those .debs (tests/packaging/), then
#                                 the integration suite against the
#                                 installed files; purged again at the end
#   make man-check                groff -ww and man -l over docs/
#   make rpm-check                rpmspec -P and rpmlint on the spec
#   make rpm                      a full rpmbuild of the spec, as a check (see below)
#
# The milter package is left out (build profile pkg.mailpolicy.nomilter)
# while the source has no milter/*.c; the plugins package takes every
# module the build makes.

DEB_PACKAGES += debhelper dpkg-dev lintian rpm rpmlint

.PHONY: deb deb-test man-check rpm-check
# PKG_NOCHECK=1: no `make unit` in the package build (the Debian 13 build:
# the core's tests need nothing of Debian 13 and make test runs them on the
# host, where redis-server is, which test-rate-redis starts).
PKG_VERSION := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' packaging/debian/changelog)
PKG_PROFILES := $(if $(wildcard milter/*.c),,pkg.mailpolicy.nomilter) $(if $(PKG_NOCHECK),nocheck)
DEB_DIR := $(B)/deb
D13_DEB_DIR := $(B)/debian13/deb
# dh_auto_test runs `make unit` (a few seconds) unless PKG_NOCHECK.
PKG_BUILD_OPTIONS := parallel=2$(if $(PKG_NOCHECK), nocheck)

ifeq ($(STACK),debian13)
deb:
	D13_ROOT=$(abspath $(B))/debian13/root D13_OUT=$(abspath $(B))/debian13 \
		tests/harness/debian13/in-tree-make deb PKG_NOCHECK=1
	@ls $(D13_DEB_DIR)/*.deb
else
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -C . --exclude=./build --exclude=./.git -cf - . | tar -C $(DEB_DIR)/src -xf -
	cp -a packaging/debian $(DEB_DIR)/src/debian
	cp packaging/systemd/mailpolicy-milter.service $(DEB_DIR)/src/debian/
	set -e; for u in service timer; do cp packaging/systemd/mailpolicy-pop3-retention.$$u \
		$(DEB_DIR)/src/debian/dovecot-mailpolicy.mailpolicy-pop3-retention.$$u; done
	cd $(DEB_DIR)/src && DEB_BUILD_PROFILES="$(strip $(PKG_PROFILES))" \
		DEB_BUILD_OPTIONS="$(PKG_BUILD_OPTIONS)" dpkg-buildpackage -b -us -uc
	rm -rf $(DEB_DIR)/src
	lintian --fail-on error --display-level '>=warning' --no-tag-display-limit $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb
endif

# The .debs of this STACK, installed where that stack's servers run (the
# host, or the Debian 13 tree), tested, purged.
deb-test:
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/packaging/test-packages \
		$(if $(filter debian13,$(STACK)),$(D13_DEB_DIR),$(DEB_DIR))

# Every man page renders without a warning, and its examples are what the
# CLI accepts and prints (tests/docs/man-examples).
MAN_PAGES := $(sort $(wildcard docs/*.[1-8]))
man-check: $(CLI)
	@set -e; for m in $(MAN_PAGES); do \
		out=$$( { groff -ww -man -t -z $$m; \
			LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l $$m >/dev/null; } 2>&1); \
		if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; \
		echo "man-check: $$m clean"; done
	tests/docs/man-examples $(CLI)

rpm-check:
	rpmspec -P packaging/rpm/mailpolicy.spec >/dev/null
	rpmlint packaging/rpm/mailpolicy.spec

# make rpm: a full rpmbuild of the spec here on Debian, as a check of its
# %build/%install/%files (not the way to make RPMs for a distribution:
# build dependencies are not checked, the systemd scriptlet macros of
# systemd-rpm-macros are stubs). RPMs in $(B)/rpm/RPMS/.
.PHONY: rpm
rpm: rpm-check
	rm -rf $(B)/rpm && mkdir -p $(B)/rpm/SOURCES $(B)/rpm/src/mailpolicy-$(PKG_VERSION)
	tar -C . --exclude=./build --exclude=./.git -cf - . | tar -C $(B)/rpm/src/mailpolicy-$(PKG_VERSION) -xf -
	tar -C $(B)/rpm/src -czf $(B)/rpm/SOURCES/mailpolicy-$(PKG_VERSION).tar.gz mailpolicy-$(PKG_VERSION)
	rpmbuild -bb --nodeps --define "_topdir $(abspath $(B))/rpm" \
		--define "dovecot_config $(DOVECOT_CONFIG)" \
		--define "dovecot_version $$(dpkg-query -W -f='$${Version}' dovecot-dev | sed 's/^[0-9]*://; s/[-+].*//')" \
		--define "_unitdir /lib/systemd/system" --define "build_ldflags -Wl,-z,relro -Wl,-z,now" \
		--define "systemd_post() :" --define "systemd_preun() :" --define "systemd_postun() :" \
		--define "systemd_postun_with_restart() :" --define "_smp_mflags -j2" \
		packaging/rpm/mailpolicy.spec
	@ls $(B)/rpm/RPMS/*/*.rpm
