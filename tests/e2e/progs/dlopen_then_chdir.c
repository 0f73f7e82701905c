/*
 * dlopen_then_chdir DIR LIB: from DIR, dlopen()s "./LIB" (libdso_leak.so),
 * calls dso_make() (which leaks malloc(45)), then moves to / and exits
 * with LIB still loaded. The loader keeps the name "./LIB", which no
 * longer leads to the file when the report runs.
 *
 * Expect: a 45-byte definitely lost record whose frame 0 is dso_make in
 * module libdso_leak.so; no errors; exit 0 (run with exitcode=0).
 */
#include "common.h"

#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	static void *volatile lost;
	char rel[4096];
	void *(*fn)(void);
	void *h;

	REQUIRE(argc == 3 && chdir(argv[1]) == 0);
	snprintf(rel, sizeof(rel), "./%s", argv[2]);
	h = dlopen(rel, RTLD_NOW | RTLD_LOCAL);
	REQUIRE(h != NULL);
	fn = (void *(*)(void))dlsym(h, "dso_make");
	REQUIRE(fn != NULL);
	lost = fn();
	lost = NULL;
	REQUIRE(chdir("/") == 0);
	return 0;
}
