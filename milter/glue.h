#ifndef MILTER_GLUE_H
#define MILTER_GLUE_H

/* glue: registers the libmilter callbacks (milter-glue.c). */

#include <stdbool.h>

/* tcp: the milter listens on a TCP socket (inet:, inet6:), which makes
   it answer the DATA stage too (see milter-glue.c). */
int glue_register(bool tcp);

#endif
