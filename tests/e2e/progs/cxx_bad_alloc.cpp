/*
 * cxx_bad_alloc: operator new that cannot succeed. new char[huge] calls the
 * installed new_handler (which uninstalls itself), then throws
 * std::bad_alloc; nothrow new returns nullptr; aligned new throws too.
 * Prints "handler=1 caught=2 nothrow=null".
 *
 * Expect: that stdout; no errors; no program leaks; nothing recorded for
 * the failed calls; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <new>

static int handler_calls;
static volatile size_t huge = (size_t)1 << 62;

static void handler()
{
	handler_calls++;
	std::set_new_handler(nullptr);
}

int main()
{
	int caught = 0;

	std::set_new_handler(handler);
	try {
		char *p = new char[huge];
		ESCAPE(p);
	} catch (const std::bad_alloc &) {
		caught++;
	}
	try {
		void *p = ::operator new(huge, std::align_val_t(64));
		ESCAPE(p);
	} catch (const std::bad_alloc &) {
		caught++;
	}
	char *q = new (std::nothrow) char[huge];
	say("handler=");
	say_num(handler_calls);
	say(" caught=");
	say_num(caught);
	say(q ? " nothrow=ptr\n" : " nothrow=null\n");
	return 0;
}
