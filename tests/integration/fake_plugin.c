/* A stand-in Dovecot plugin for the harness self-test (test_harness.py): built
   under the file name of one of our plugins, it only logs that it was loaded,
   so the test can see in which processes the harness's config loads it. */
#include "lib.h"
#include "module-dir.h"

#define CAT3(a, b, c) a##b##c
#define SYM(name, suffix) CAT3(name, _plugin_, suffix)

const char *SYM(PLUGIN, version) = DOVECOT_ABI_VERSION;
void SYM(PLUGIN, init)(struct module *module);
void SYM(PLUGIN, deinit)(void);

void SYM(PLUGIN, init)(struct module *module ATTR_UNUSED)
{
	i_info("harness-fake-plugin: loaded");
}

void SYM(PLUGIN, deinit)(void)
{
}
