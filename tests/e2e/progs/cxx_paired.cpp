/*
 * cxx_paired: every form of new released by its matching delete, plus the
 * standard library allocating behind the scenes (string, vector, map,
 * shared_ptr, exceptions). Nothing is wrong here.
 *
 * Expect: no errors at all, no leaks from the program; exit 0 (run with
 * exitcode=0, as libstdc++'s own start-up blocks may count as leaks before
 * reachability analysis exists).
 */
#include "common.h"
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

struct alignas(256) Huge {
	char c[256];
};

struct WithDtor {
	int v = 7;
	~WithDtor()
	{
		SINK();
	}
};

static NOINLINE void plain()
{
	int *a = new int(1);
	delete a;
	int *b = new int[100]();
	delete[] b;
	WithDtor *c = new WithDtor[5]; /* array cookie in front */
	REQUIRE(c[4].v == 7);
	delete[] c;
	WithDtor *d = new WithDtor;
	delete d;
}

static NOINLINE void nothrow()
{
	int *a = new (std::nothrow) int(1);
	delete a;
	int *b = new (std::nothrow) int[3];
	delete[] b;
	void *c = ::operator new(10, std::nothrow);
	::operator delete(c, std::nothrow);
	void *d = ::operator new[](10, std::nothrow);
	::operator delete[](d, std::nothrow);
}

static NOINLINE void aligned()
{
	Huge *a = new Huge();
	REQUIRE(((uintptr_t)a & 255) == 0);
	delete a; /* sized aligned delete */
	Huge *b = new Huge[3]();
	REQUIRE(((uintptr_t)b & 255) == 0);
	delete[] b;
	void *c = ::operator new(100, std::align_val_t(128));
	REQUIRE(((uintptr_t)c & 127) == 0);
	::operator delete(c, std::align_val_t(128));
	void *d = ::operator new(100, std::align_val_t(512));
	::operator delete(d, 100, std::align_val_t(512));
	void *e = ::operator new[](300, std::align_val_t(64));
	::operator delete[](e, std::align_val_t(64));
	void *f = ::operator new[](300, std::align_val_t(64));
	::operator delete[](f, 300, std::align_val_t(64));
	void *g = ::operator new(33, std::align_val_t(4096), std::nothrow);
	REQUIRE(g && ((uintptr_t)g & 4095) == 0);
	::operator delete(g, std::align_val_t(4096), std::nothrow);
	void *h = ::operator new[](33, std::align_val_t(64), std::nothrow);
	::operator delete[](h, std::align_val_t(64), std::nothrow);
}

static NOINLINE void sized()
{
	void *a = ::operator new(24);
	::operator delete(a, 24);
	void *b = ::operator new[](48);
	::operator delete[](b, 48);
}

static NOINLINE void library()
{
	std::string s;
	for (int i = 0; i < 200; i++)
		s += "abcdefghij";
	REQUIRE(s.size() == 2000);
	std::vector<std::string> v;
	for (int i = 0; i < 500; i++)
		v.push_back(std::to_string(i) + s.substr(0, i % 40));
	std::map<int, std::vector<int>> m;
	for (int i = 0; i < 300; i++)
		m[i % 37].push_back(i);
	REQUIRE(m.size() == 37);
	auto sp = std::make_shared<std::vector<int>>(1000, 3);
	std::unique_ptr<int[]> up(new int[50]());
	REQUIRE((*sp)[999] == 3 && up[49] == 0);
}

static NOINLINE void exceptions()
{
	int caught = 0;
	for (int i = 0; i < 20; i++) {
		try {
			throw std::runtime_error(std::string(100, 'e'));
		} catch (const std::exception &e) {
			caught += e.what()[0] == 'e';
		}
	}
	REQUIRE(caught == 20);
}

int main()
{
	plain();
	nothrow();
	aligned();
	sized();
	library();
	exceptions();
	clobber_stack();
	return 0;
}
