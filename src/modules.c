/*
 * Modules the program dlclose()d. Their code is gone by the time of the
 * report, but blocks they allocated may still be live, so dlclose is
 * interposed to remember each module's file, load bias and address range;
 * symbolize.c names frames in those ranges from the file.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "internal.h"

static struct rcl_closed_module *closed; /* newest first */
static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;

struct range_query {
	uintptr_t bias;
	const char *name;
	uintptr_t lo, hi;
};

void rcl_module_range(const struct dl_phdr_info *info, uintptr_t *lo,
                      uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (start < *lo)
			*lo = start;
		if (start + ph->p_memsz > *hi)
			*hi = start + ph->p_memsz;
	}
}

static int find_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct range_query *q = arg;

	(void)size;
	if (info->dlpi_addr != q->bias || info->dlpi_name == NULL ||
	    strcmp(info->dlpi_name, q->name) != 0)
		return 0;
	rcl_module_range(info, &q->lo, &q->hi);
	return 1;
}

static void remember(void *handle)
{
	struct link_map *lm = NULL;
	struct range_query q = {0};
	struct rcl_closed_module *m;
	size_t len;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL ||
	    lm->l_name == NULL || lm->l_name[0] == 0)
		return;
	q.bias = lm->l_addr;
	q.name = lm->l_name;
	if (dl_iterate_phdr(find_range, &q) == 0 || q.hi <= q.lo)
		return;
	pthread_mutex_lock(&closed_lock);
	for (m = closed; m; m = m->next) {
		/* The same file unloaded again from the same place. */
		if (m->bias == q.bias && m->lo == q.lo && m->hi == q.hi &&
		    strcmp(m->path, lm->l_name) == 0)
			break;
	}
	pthread_mutex_unlock(&closed_lock);
	if (m)
		return;
	len = strlen(lm->l_name);
	m = rcl_meta_alloc(sizeof(*m) + len + 1);
	if (m == NULL)
		return;
	m->bias = q.bias;
	m->lo = q.lo;
	m->hi = q.hi;
	memcpy(m->path, lm->l_name, len + 1);
	pthread_mutex_lock(&closed_lock);
	m->next = closed;
	closed = m;
	pthread_mutex_unlock(&closed_lock);
}

RCLEAK_EXPORT int dlclose(void *handle)
{
	static int (*real_dlclose)(void *);

	if (real_dlclose == NULL)
		real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	/* <dlfcn.h> says handle is nonnull; programs still pass NULL. */
	void *h = handle;
	__asm__("" : "+r"(h));
	int ret;

	if (h && rcl_enter()) {
		remember(h);
		rcl_leave();
	}
	ret = real_dlclose(handle);
	/* The unwind rules of its code must not serve whatever comes next. */
	rcl_unwind_forget_modules();
	return ret;
}

const struct rcl_closed_module *rcl_modules_closed(void)
{
	const struct rcl_closed_module *m;

	pthread_mutex_lock(&closed_lock);
	m = closed;
	pthread_mutex_unlock(&closed_lock);
	return m;
}

extern void *__tls_get_addr(void *);

/*
 * Found by address (the loader defines __tls_get_addr), not by name: the
 * loader may be started by another path than the executable's PT_INTERP.
 */
bool rcl_modules_loader(uintptr_t *lo, uintptr_t *hi)
{
	struct range_query q = {0};
	Dl_info info;

	*lo = *hi = 0;
	if (!dladdr((void *)__tls_get_addr, &info) || !info.dli_fname)
		return false;
	q.bias = (uintptr_t)info.dli_fbase;
	q.name = info.dli_fname;
	if (dl_iterate_phdr(find_range, &q) == 0)
		return false;
	*lo = q.lo;
	*hi = q.hi;
	return q.hi > q.lo;
}
