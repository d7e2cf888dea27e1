/* maqdrt.h: the public header of the maqd target runtime (C99, no malloc, no dependencies but libm).
 * Today it carries the version; the packed-binary loader and runner arrive with issue 3. */
#ifndef MAQDRT_H
#define MAQDRT_H

#define MAQDRT_VERSION_MAJOR 0
#define MAQDRT_VERSION_MINOR 1

const char *mqr_version(void);

#endif
