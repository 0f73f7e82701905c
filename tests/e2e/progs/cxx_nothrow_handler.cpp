/*
 * cxx_nothrow_handler: installs a new_handler that throws std::bad_alloc,
 * then asks nothrow new and nothrow new[] for impossible sizes, then the
 * throwing new. Prints one line per outcome.
 *
 * Expect: "nothrow new: null", "nothrow new[]: null", "caught bad_alloc"
 * (a nothrow new returns NULL even when the handler throws); no errors,
 * nothing lost; exit 0.
 */
#include <cstdio>
#include <new>

static void throwing_handler()
{
	throw std::bad_alloc();
}

int main()
{
	static volatile size_t huge = ~(size_t)0 >> 2;

	std::set_new_handler(throwing_handler);
	void *p = operator new(huge, std::nothrow);
	std::printf("nothrow new: %s\n", p ? "not null" : "null");
	char *q = new (std::nothrow) char[huge];
	std::printf("nothrow new[]: %s\n", q ? "not null" : "null");
	try {
		void *r = operator new(huge);
		std::printf("throwing new returned %p\n", r);
	} catch (const std::bad_alloc &) {
		std::printf("caught bad_alloc\n");
	}
	return 0;
}
