/*
 * fds_dlclose DATAFILE DSO: a daemon that allocates (rcleak reads the
 * unwind rules of the code so far), closes every descriptor from 3 up,
 * opens DATAFILE (descriptor 3) and copies it onto 4 to 39 (whatever
 * numbers rcleak had), then loads and unloads DSO, calling its dso_make (a
 * 45-byte leak) in between. The dlclose makes rcleak's unwinder drop what
 * it knew of the loaded modules; the next allocation has it look again.
 * Then the program checks that its descriptors all still hold its file,
 * and writes to it.
 *
 * Expect: DATAFILE holds exactly "daemon data\n" (rcleak keeps no
 * descriptor open of its own, so it never closes one the program reused);
 * definitely lost 45 + 7 bytes (dso_make, after_dlclose); exit 0 (run
 * with exitcode=0).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "common.h"

/* Still open, and still the same file (not one rcleak opened since). */
static bool same_file(int a, int b)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

static NOINLINE void *after_dlclose(void)
{
	void *p = malloc(7);

	ESCAPE(p);
	SINK();
	return p;
}

int main(int argc, char **argv)
{
	static const char data[] = "daemon data\n";
	void *h, *(*fn)(void);
	int fd;

	REQUIRE(argc == 3);
	free(after_dlclose());
	for (int i = 3; i < 1024; i++)
		close(i);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd == 3);
	for (int i = 4; i < 40; i++)
		REQUIRE(dup2(fd, i) == i);
	h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	REQUIRE(h != NULL);
	fn = (void *(*)(void))dlsym(h, "dso_make");
	REQUIRE(fn != NULL);
	fn();
	REQUIRE(dlclose(h) == 0);
	after_dlclose();
	for (int i = 3; i < 40; i++)
		REQUIRE(same_file(fd, i));
	REQUIRE(write(fd, data, sizeof(data) - 1) == (ssize_t)sizeof(data) - 1);
	REQUIRE(close(fd) == 0);
	clobber_stack();
	return 0;
}
