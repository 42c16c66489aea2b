/* secret.c: secret files (see secret.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

ssize_t secret_read(const char *path, const char *what, unsigned char *buf,
		    size_t max, char *error, size_t error_size)
{
	unsigned char tmp[1024 + 3];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	if (max > sizeof(tmp) - 3)
		max = sizeof(tmp) - 3;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(error, error_size, "%s: cannot open the %s: %s",
			 path, what, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(error, error_size, "%s: cannot stat the %s: %s",
			 path, what, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(error, error_size, "%s: the %s is not a regular file",
			 path, what);
		close(fd);
		return -1;
	}
	if ((st.st_mode & S_IRWXO) != 0) {
		snprintf(error, error_size, "%s: the %s is open to other users "
			 "(mode %04o); it holds a secret: chmod o-rwx %s",
			 path, what, (unsigned int)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, tmp, max + 3);
	close(fd);
	if (n < 0) {
		snprintf(error, error_size, "%s: cannot read the %s: %s",
			 path, what, strerror(errno));
		return -1;
	}
	len = (size_t)n;
	/* one trailing "\n" or "\r\n"; a CR alone is a byte of the
	   secret (a random key may end in one) */
	if (len > 0 && tmp[len - 1] == '\n') {
		len--;
		if (len > 0 && tmp[len - 1] == '\r')
			len--;
	}
	if (len == 0 || len > max) {
		explicit_bzero(tmp, sizeof(tmp));
		snprintf(error, error_size, "%s: the %s must hold 1 to %zu "
			 "bytes (and one newline at most)", path, what, max);
		return -1;
	}
	memcpy(buf, tmp, len);
	explicit_bzero(tmp, sizeof(tmp));
	return (ssize_t)len;
}
