#ifndef MILTER_GLUE_H
#define MILTER_GLUE_H

/* glue: registers the libmilter callbacks (milter-glue.c). */

int glue_register(void);

#endif
