# mk/dovecot.mk: the Dovecot plugins and the glue they share.  Included by
# the Makefile.
#
# Each plugins/NAME/ (other than common/) becomes
#   $(B)/modules/lib20_NAME_plugin.so
# from plugins/NAME/*.c + plugins/common/*.c + the core ($(LIB)), built
# with the flags of the Dovecot found (/usr/lib/dovecot/dovecot-config:
# Dovecot 2.3 on Debian 12; inside the Debian 13 tree, through
# tests/harness/debian13/in-tree-make, Dovecot 2.4 into build/debian13/).
# Against 2.4 it also makes the settings module that declares our
# settings to the config process:
#   $(B)/modules/settings/libmailpolicy_settings.so
# Everything is compiled with hidden visibility and the core archive's
# symbols are not exported: a plugin exports only its NAME_plugin_*
# entry points, which the link checks (no `mp_` symbol may leave a .so).

ifneq ($(DOVECOT_CFLAGS),)

DOVECOT_INCDIR := $(patsubst -I%,%,$(filter -I%,$(DOVECOT_INCLUDE)))
DOVECOT_MINOR := $(shell sed -n 's/^\#define DOVECOT_VERSION_MINOR //p' $(DOVECOT_INCDIR)/config.h)

# Dovecot's flags minus LTO (nothing to gain for a small plugin; clang
# reads them differently) and the gcc-only -m options, plus ours.  Its
# headers are system headers for our warnings.
PLUGIN_DOVECOT_CFLAGS := $(filter-out -flto% -ffat-lto-objects -mfunction-return=% \
	-mindirect-branch=% -std=%,$(DOVECOT_CFLAGS))
PLUGIN_CFLAGS := $(PLUGIN_DOVECOT_CFLAGS) -std=gnu11 $(WARN) -Wno-shadow -fPIC \
	-fvisibility=hidden -DHAVE_CONFIG_H -Iinclude -Iplugins/common \
	-isystem $(DOVECOT_INCDIR)
PLUGIN_LDFLAGS := -shared -Wl,--exclude-libs,ALL -Wl,-z,relro -Wl,-z,now -pthread

DOVECOT_PLUGINS := $(filter-out common,$(sort $(notdir $(patsubst %/,%,$(dir \
	$(wildcard plugins/*/*.c))))))
MP_GLUE_SRC := $(sort $(wildcard plugins/common/*.c))
MP_GLUE_OBJ := $(MP_GLUE_SRC:%.c=$(B)/dovecot/%.o)
# An archive, so a plugin links only the glue objects it uses (a login
# plugin has no lib-storage to resolve the mail-user ones).
MP_GLUE_LIB := $(B)/dovecot/libmp-dovecot.a
PLUGIN_SO := $(DOVECOT_PLUGINS:%=$(B)/modules/lib20_%_plugin.so)
SETTINGS_SO := $(if $(filter-out 0 1 2 3,$(DOVECOT_MINOR)),$(B)/modules/settings/libmailpolicy_settings.so)

.PHONY: dovecot-plugins dovecot-clang install-dovecot-settings
all: dovecot-plugins
dovecot-plugins: $(PLUGIN_SO) $(SETTINGS_SO)

$(MP_GLUE_LIB): $(MP_GLUE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/dovecot/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -MMD -MP -c $< -o $@

# Links $@ from the objects in $^, then refuses a .so that exports any
# symbol of ours other than the Dovecot entry points.
define mp_link_module
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_LDFLAGS) -o $@.tmp $(filter %.o,$^) $(filter %.a,$^)
	@if nm -D --defined-only $@.tmp | awk '{print $$3}' | grep -E '^mp_'; then \
		echo "$@: exports the symbols above (hidden visibility broken)" >&2; \
		rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@
endef

define mp_plugin_rule
$(B)/modules/lib20_$(1)_plugin.so: $$(patsubst %.c,$(B)/dovecot/%.o,$$(wildcard plugins/$(1)/*.c)) \
		$(MP_GLUE_LIB) $(LIB)
	$$(mp_link_module)
endef
$(foreach p,$(DOVECOT_PLUGINS),$(eval $(call mp_plugin_rule,$(p))))

$(B)/modules/settings/libmailpolicy_settings.so: \
		$(B)/dovecot/plugins/common/settings/mailpolicy-settings.o \
		$(B)/dovecot/plugins/common/mp-dovecot-settings.o
	$(mp_link_module)

# The plugins must also compile clean under clang (syntax and warnings).
dovecot-clang:
	@set -e; for f in $(MP_GLUE_SRC) $(wildcard plugins/*/*.c) \
		$(if $(SETTINGS_SO),plugins/common/settings/mailpolicy-settings.c); do \
		echo "  clang $$f"; \
		$(CLANG) $(filter-out -fstack-clash-protection,$(PLUGIN_CFLAGS)) -fsyntax-only $$f; done
clang-build: dovecot-clang

# The settings module (2.4) where the config process loads it, login
# plugins where login processes look by default (login_plugin_dir), and
# mailpolicy-dovecot(7).  The top-level install puts every module of
# $(B)/modules in DOVECOT_MODULEDIR.
install: install-dovecot-settings
install-dovecot-settings: all
	@set -e; if [ -n "$(SETTINGS_SO)" ]; then \
		install -d $(DESTDIR)$(DOVECOT_MODULEDIR)/settings; \
		install -m 0644 $(SETTINGS_SO) $(DESTDIR)$(DOVECOT_MODULEDIR)/settings/; fi
	@set -e; for m in $(wildcard $(B)/modules/*_login_plugin.so); do \
		install -d $(DESTDIR)$(DOVECOT_MODULEDIR)/login; \
		install -m 0644 $$m $(DESTDIR)$(DOVECOT_MODULEDIR)/login/; done
	install -d $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0644 docs/mailpolicy-dovecot.7 $(DESTDIR)$(PREFIX)/share/man/man7/

# ---- benchmark of pop3_retention against stock Dovecot (never in make test) ----
# make bench-pop3 [STACK=debian13] [BENCH_ARGS="--only session --rounds 9"]
.PHONY: bench-pop3
bench-pop3: all
ifeq ($(STACK),debian13)
	D13_ROOT=$(abspath $(B))/debian13/root D13_OUT=$(abspath $(B))/debian13 \
		tests/harness/debian13/in-tree-make all
endif
	STACK=$(STACK) BUILD_DIR=$(abspath $(B)) $(PYTHON) tests/bench/bench_pop3_retention.py $(BENCH_ARGS)

-include $(wildcard $(B)/dovecot/plugins/*/*.d $(B)/dovecot/plugins/*/*/*.d)

endif
