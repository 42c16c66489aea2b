# mk/folder_quota.mk: the folder_quota Dovecot plugin (plugins/folder_quota)
# and its benchmark.  Included by the Makefile.
#
# Until the shared Dovecot glue (mk/dovecot.mk, branch dovecot) is merged,
# this fragment builds the plugin itself: the objects of
# plugins/folder_quota/*.c against the Dovecot headers found, linked with
# the core library, whose symbols stay inside the .so (--exclude-libs).
# With Dovecot 2.4 it also builds the stand-in settings module that
# declares mailpolicy_config.

FQ_SRC := $(sort $(wildcard plugins/folder_quota/*.c))
FQ_HDR := $(wildcard plugins/folder_quota/*.h) $(HEADERS)
FQ_SO := $(B)/modules/lib20_folder_quota_plugin.so
FQ_SETTINGS_SO := $(B)/modules/settings/libfolder_quota_settings.so
FQ_OBJ := $(FQ_SRC:plugins/folder_quota/%.c=$(B)/fq/%.o)
FQ_DOVECOT_MINOR := $(shell sed -n 's/^\#define DOVECOT_VERSION_MINOR //p' \
	$(patsubst -I%,%,$(firstword $(DOVECOT_INCLUDE)))/config.h 2>/dev/null)
FQ_CFLAGS := $(DOVECOT_CFLAGS) -std=gnu11 $(DOVECOT_INCLUDE) -Iinclude \
	-Iplugins/folder_quota -fPIC -DHAVE_CONFIG_H -fvisibility=hidden \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith

ifeq ($(wildcard mk/dovecot.mk),)
ifneq ($(DOVECOT_INCLUDE),)
all: $(FQ_SO)
ifeq ($(FQ_DOVECOT_MINOR),4)
all: $(FQ_SETTINGS_SO)
endif
endif

$(B)/fq/%.o: plugins/folder_quota/%.c $(FQ_HDR)
	@mkdir -p $(@D)
	$(CC) $(FQ_CFLAGS) -c $< -o $@

$(FQ_SO): $(FQ_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -o $@ $(FQ_OBJ) $(LIB) -Wl,--exclude-libs,ALL -pthread

$(FQ_SETTINGS_SO): $(B)/fq/fq-settings.o
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -o $@ $<
endif

.PHONY: folder-quota
folder-quota: $(FQ_SO)
