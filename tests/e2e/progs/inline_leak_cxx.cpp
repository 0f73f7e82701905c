/*
 * inline_leak_cxx: new Widget in the member function template Box<T>::make,
 * inlined into build, a real function called from main; never deleted.
 *
 * Expect: one definitely lost record whose frame 0 is
 * "shapes::Box<shapes::Widget>::make()" (inlined, named from DWARF and
 * demangled) at "@alloc", frame 1 build() at "@call" (not inlined).
 */
#include "common.h"

namespace shapes {
struct Widget {
	int sides[5];
};

template <class T> struct Box {
	__attribute__((always_inline)) T *make()
	{
		return new T(); /* @alloc */
	}
};
} // namespace shapes

static NOINLINE shapes::Widget *build()
{
	shapes::Box<shapes::Widget> box;
	shapes::Widget *w = box.make(); /* @call */

	ESCAPE(w);
	SINK();
	return w;
}

int main()
{
	build();
	SINK();
	clobber_stack();
	return 0;
}
