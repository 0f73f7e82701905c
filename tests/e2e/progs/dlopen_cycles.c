/*
 * dlopen_cycles LIB: three times dlopen()s LIB (libdso_leak.so), calls
 * dso_make() (which leaks malloc(45)) through call_dso, and dlclose()s it.
 * The library usually lands at the same address each time.
 *
 * Expect: one loss record of 135 bytes in 3 blocks whose frame 0 is
 * dso_make in module libdso_leak.so and frame 1 call_dso; no errors.
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
	for (int i = 0; i < 3; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		REQUIRE(h != NULL);
		void *(*fn)(void) = (void *(*)(void))dlsym(h, "dso_make");
		REQUIRE(fn != NULL);
		call_dso(fn);
		REQUIRE(dlclose(h) == 0);
	}
	clobber_stack();
	return 0;
}
