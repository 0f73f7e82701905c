/*
 * Preloaded after liblsan.so.0 by bench.py. The shared LeakSanitizer
 * runtime initializes itself on its first intercepted malloc; a program
 * whose first intercepted call is another one (perl, git and sqlite3 call
 * signal() first) jumps through a still-null pointer and crashes at
 * start-up. One malloc in a constructor, before main, initializes it.
 */
#include <stdlib.h>

/* volatile: the compiler may drop a malloc whose block is only freed. */
static void *volatile early;

__attribute__((constructor)) static void lsan_init_early(void)
{
	early = malloc(1);
	free(early);
	early = NULL;
}
