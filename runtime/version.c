/* version.c: the runtime's version string (lets a firmware build check what it linked). */
#include "runtime/maqdrt.h"

const char *mqr_version(void) { return "maqdrt 0.4"; }
