/*
 * at_exit_free: blocks held by globals are freed only while the process
 * ends: by an atexit() handler, by a C++ static object's destructor and by
 * a __attribute__((destructor)) function.
 *
 * Expect: the exit report comes after all of them: no program leaks, no
 * errors; exit 0 with the default exitcode... unless libstdc++'s own
 * blocks count (before reachability analysis), so run with exitcode=0.
 */
#include "common.h"
#include <string>
#include <vector>

static void *by_atexit;
static void *by_destructor;

struct Holder {
	std::vector<std::string> v;
	int *raw;
	Holder()
	{
		for (int i = 0; i < 50; i++)
			v.push_back(std::string(100, (char)('a' + i % 26)));
		raw = new int[64]();
	}
	~Holder()
	{
		delete[] raw;
	}
};

static Holder holder;

static void at_exit_handler(void)
{
	free(by_atexit);
}

__attribute__((destructor)) static void dtor(void)
{
	free(by_destructor);
}

int main()
{
	by_atexit = malloc(300);
	by_destructor = malloc(400);
	atexit(at_exit_handler);
	REQUIRE(holder.v.size() == 50);
	return 0;
}
