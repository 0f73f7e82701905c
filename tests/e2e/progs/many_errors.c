/*
 * many_errors: frees the address of a static 10,005 times from the same
 * place (each an invalid_free, ignored), then returns.
 *
 * Expect: the JSON keeps the first 10,000 errors and counts the other 5
 * in summary.errors_not_kept; the text report prints the error once, with
 * "10,000 times"; exit 23.
 */
#include "common.h"

static int not_heap;

static NOINLINE void bad_free(void)
{
	free(&not_heap);
	SINK();
}

int main(void)
{
	for (int i = 0; i < 10005; i++)
		bad_free();
	return 0;
}
