/*
 * module_mapped_below LIB: dlopen()s LIB (libdso_leak.so), maps LIB's file
 * once more, read-only, just below where the loader put it (as rcleak's
 * unwinder maps module files to read their CFI), then calls dso_make(),
 * which leaks malloc(45), and keeps LIB loaded. The report once read the
 * modules from /proc/self/maps and took that lower mapping for the
 * module's start: its frames got a wrong offset and no function name.
 *
 * Expect: a 45-byte definitely lost record whose frame 0 is dso_make in
 * module libdso_leak.so; stdout "mapped below"; no errors; exit 0 (run
 * with exitcode=0).
 */
#include "common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	static void *volatile lost;
	void *(*fn)(void);
	Dl_info info;
	struct stat st;
	size_t len;
	void *h, *got;
	int fd;

	REQUIRE(argc == 2);
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	REQUIRE(h != NULL);
	fn = (void *(*)(void))dlsym(h, "dso_make");
	REQUIRE(fn != NULL && dladdr((void *)fn, &info) && info.dli_fbase);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0 && fstat(fd, &st) == 0);
	/* Mappings grow down: the newest library has free room under it. */
	len = ((size_t)st.st_size + 4095) & ~(size_t)4095;
	got = mmap((char *)info.dli_fbase - len, len, PROT_READ,
	           MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
	REQUIRE(got != MAP_FAILED);
	close(fd);
	lost = fn();
	lost = NULL;
	printf("mapped below\n");
	return 0;
}
