/*
 * libdso_leak.so: loaded by dlopen_leak. dso_make() leaks malloc(45).
 */
#include "common.h"

NOINLINE void *dso_make(void);

NOINLINE void *dso_make(void)
{
	void *p = malloc(45);
	ESCAPE(p);
	SINK();
	return p;
}
