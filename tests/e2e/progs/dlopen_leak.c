/*
 * dlopen_leak LIB: dlopen()s LIB (libdso_leak.so), calls dso_make() (which
 * leaks malloc(45)) through call_dso, then dlclose()s LIB.
 *
 * Expect: a 45-byte loss record whose frame 0 is dso_make in module
 * libdso_leak.so (kept although the module was unloaded) and frame 1
 * call_dso; no errors; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <dlfcn.h>

static NOINLINE void call_dso(void *(*fn)(void))
{
	fn();
	SINK();
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2);
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	REQUIRE(h != NULL);
	void *(*fn)(void) = (void *(*)(void))dlsym(h, "dso_make");
	REQUIRE(fn != NULL);
	call_dso(fn);
	REQUIRE(dlclose(h) == 0);
	clobber_stack();
	return 0;
}
