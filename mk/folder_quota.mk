# mk/folder_quota.mk: the folder_quota part's own targets.  Included by the
# Makefile.  The plugin itself (plugins/folder_quota/) is built by the
# shared rules of mk/dovecot.mk.

.PHONY: folder-quota
folder-quota: $(B)/modules/lib20_folder_quota_plugin.so
