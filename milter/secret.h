#ifndef MILTER_SECRET_H
#define MILTER_SECRET_H

/* secret: reading the files that hold the milter's secrets
 * (hmac_key_file, redis_password_file).
 *
 * Every Dovecot mail process reads the policy file, so secrets live in
 * files of their own that only the milter may read.  A secret file that
 * other users could read (or write) is refused, at start (the milter
 * does not start; -n says why) and at reload (the old policy stays):
 * the mistake is found when it is made, not after the secret leaked.
 * Group permissions are allowed, so the file can be root's and readable
 * by the milter's group (mode 0640), or the milter user's (0600). */

#include <stddef.h>
#include <sys/types.h>

/* Reads path, which must be a regular file without permissions for
   others (mode & 007 == 0): its bytes with one trailing "\n" or "\r\n"
   removed, 1..max bytes, into buf.  what names the key in errors
   ("hmac_key_file").  Returns the length, or -1 with "PATH: reason" in
   error.  The caller wipes buf when done. */
ssize_t secret_read(const char *path, const char *what, unsigned char *buf,
		    size_t max, char *error, size_t error_size);

#endif
