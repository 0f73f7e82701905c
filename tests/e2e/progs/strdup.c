/*
 * strdup: strings duplicated by libc: strdup("hello, world") in dup_it
 * (13 bytes) and strndup("abcdefgh", 3) in ndup_it (4 bytes) are leaked; a
 * third strdup is freed.
 *
 * Expect: definitely_lost 17 bytes in 2 blocks; dup_it is frame 0 or 1 of
 * the 13-byte record (frame 0 may be libc's strdup), ndup_it of the 4-byte
 * one; no errors; exit 0 (run with exitcode=0).
 */
#include "common.h"

static const char *volatile src = "hello, world";

static NOINLINE char *dup_it(void)
{
	char *s = strdup(src);

	REQUIRE(s && strcmp(s, "hello, world") == 0);
	SINK();
	return s;
}

static NOINLINE char *ndup_it(void)
{
	char *s = strndup("abcdefgh", 3);

	REQUIRE(s && strcmp(s, "abc") == 0);
	SINK();
	return s;
}

int main(void)
{
	dup_it();
	ndup_it();
	free(strdup(src));
	clobber_stack();
	return 0;
}
