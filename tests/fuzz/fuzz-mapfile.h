/* fuzz-mapfile.h: what the fuzz targets of map files (fuzz-ratemap,
 * fuzz-sendermap) share: the input written to a memfd that the policy
 * names by its /proc/self/fd path (a regular file, no disk), and the
 * check of a load error about it: valid UTF-8 whatever bytes it quotes,
 * in the map's own "MAP:LINE:COL: " (LINE within the input, COL within
 * the line limit) or "MAP: " form, ending in where the policy names the
 * map (named_at, e.g. " (named at fuzz:3)"). */

#ifndef FUZZ_MAPFILE_H
#define FUZZ_MAPFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mailpolicy/policy.h"
#include "../../core/utf8.h"

struct fuzz_mapfile {
	int fd;
	char path[64];
};

static void fuzz_mapfile_open(struct fuzz_mapfile *m, const char *name)
{
	m->fd = memfd_create(name, MFD_CLOEXEC);
	if (m->fd < 0)
		abort();
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
}

static void fuzz_mapfile_write(const struct fuzz_mapfile *m,
			       const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(m->fd, 0) < 0 || lseek(m->fd, 0, SEEK_SET) < 0)
		abort();
	while (done < size) {
		n = write(m->fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

static void fuzz_mapfile_check_error(const struct fuzz_mapfile *m,
				     const char *named_at,
				     const uint8_t *data, size_t size,
				     const struct mp_error *error)
{
	unsigned int line, col, lines = 1;
	size_t i, len = strlen(m->path);

	if (mp_utf8_validate(error->text, strlen(error->text)) < 0)
		abort();
	if (strncmp(error->text, m->path, len) != 0 ||
	    strstr(error->text, named_at) == NULL)
		abort();
	if (strncmp(error->text + len, ": ", 2) == 0)
		return;		/* about the file, not a place in it */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (sscanf(error->text + len, ":%u:%u: ", &line, &col) != 2 ||
	    line != error->line || col != error->column || line == 0 ||
	    line > lines || col == 0 || col > MP_POLICY_MAX_LINE + 2)
		abort();
}

#endif
