/*
 * The human report, in the shape valgrind and LeakSanitizer users know:
 * every line prefixed with ==pid==, loss records largest first with their
 * stacks, then the errors, then a leak summary.
 */
#include "internal.h"

static void prefix(struct rcl_out *o, const struct rcl_report *r)
{
	rcl_out_str(o, "==");
	rcl_out_u64(o, (uint64_t)r->pid);
	rcl_out_str(o, "== ");
}

static void line(struct rcl_out *o, const struct rcl_report *r,
                 const char *text)
{
	prefix(o, r);
	rcl_out_str(o, text);
	rcl_out_chr(o, '\n');
}

/* "1,234 KiB" */
static void kib(struct rcl_out *o, uint64_t bytes)
{
	rcl_out_grouped(o, (bytes + 1023) / 1024);
	rcl_out_str(o, " KiB");
}

/*
 * "rcleak memory: 2,000,000 blocks tracked in 54,688 KiB (28.0 bytes
 * each); stack depot: 12 stacks in 3 KiB; quarantine: 4,096 KiB"
 */
static void memory(struct rcl_out *o, const struct rcl_report *r)
{
	const struct rcl_memory *m = &r->memory;
	uint64_t tenths = m->tracked_blocks
	                      ? m->table_bytes * 10 / m->tracked_blocks
	                      : 0;

	prefix(o, r);
	rcl_out_str(o, "rcleak memory: ");
	rcl_out_grouped(o, m->tracked_blocks);
	rcl_out_str(o, " blocks tracked in ");
	kib(o, m->table_bytes);
	rcl_out_str(o, " (");
	rcl_out_u64(o, tenths / 10);
	rcl_out_chr(o, '.');
	rcl_out_u64(o, tenths % 10);
	rcl_out_str(o, " bytes each); stack depot: ");
	rcl_out_grouped(o, m->depot_stacks);
	rcl_out_str(o, " stacks in ");
	kib(o, m->depot_bytes);
	rcl_out_str(o, "; quarantine: ");
	kib(o, m->quarantine_bytes);
	rcl_out_chr(o, '\n');
}

/* "#3 0x4011d6 in parse src/parse.c:42 (/usr/bin/app+0x11d6)" */
static void frame(struct rcl_out *o, const struct rcl_report *r, uint32_t index,
                  const struct rcl_frame *f)
{
	prefix(o, r);
	rcl_out_str(o, "   #");
	rcl_out_u64(o, index);
	rcl_out_chr(o, ' ');
	rcl_out_hex(o, f->ip);
	rcl_out_str(o, " in ");
	rcl_out_str(o, f->function ? f->function : "??");
	if (f->file) {
		rcl_out_chr(o, ' ');
		rcl_out_str(o, f->file);
		rcl_out_chr(o, ':');
		rcl_out_u64(o, (uint64_t)f->line);
	}
	rcl_out_str(o, " (");
	rcl_out_str(o, f->module);
	rcl_out_chr(o, '+');
	rcl_out_hex(o, f->offset);
	rcl_out_str(o, f->inlined ? ", inlined)\n" : ")\n");
}

static void frames(struct rcl_out *o, const struct rcl_report *r,
                   rcl_stack_id id)
{
	const struct rcl_stack *st = rcl_depot_get(id);

	if (st->depth == 0) {
		line(o, r, "   (no stack recorded)");
		return;
	}
	for (uint32_t i = 0, shown = 0; i < st->depth; i++) {
		const struct rcl_frame *fr;
		size_t n = rcl_symbolize(st->ips[i], &fr);

		for (size_t j = 0; j < n; j++)
			frame(o, r, shown++, &fr[j]);
	}
}

static const char *kind_words(enum rcl_leak_kind kind)
{
	static const char *const words[] = {"definitely lost",
	                                    "indirectly lost", "possibly lost",
	                                    "still reachable", "suppressed"};

	return words[kind];
}

/* "malloc(24)", or "malloc" when the record's blocks differ in size. */
static void call(struct rcl_out *o, enum rcl_alloc_kind kind, bool sized,
                 size_t size)
{
	rcl_out_str(o, rcl_alloc_name(kind));
	if (sized) {
		rcl_out_chr(o, '(');
		rcl_out_u64(o, size);
		rcl_out_chr(o, ')');
	}
}

/* The kinds in option show get their records printed one by one. */
static bool listed(enum rcl_leak_kind kind)
{
	return kind != RCL_SUPPRESSED && (rcl_opt.show >> kind & 1);
}

static void losses(struct rcl_out *o, const struct rcl_report *r)
{
	size_t shown = 0, n = 0;

	for (size_t i = 0; i < r->nlosses; i++)
		shown += listed(r->losses[i].kind);
	for (size_t i = 0; i < r->nlosses; i++) {
		const struct rcl_loss *l = &r->losses[i];

		if (!listed(l->kind))
			continue;
		prefix(o, r);
		rcl_out_grouped(o, l->bytes);
		rcl_out_str(o, " bytes in ");
		rcl_out_grouped(o, l->blocks);
		rcl_out_str(o, l->blocks == 1 ? " block is " : " blocks are ");
		rcl_out_str(o, kind_words(l->kind));
		rcl_out_str(o, " in loss record ");
		rcl_out_u64(o, ++n);
		rcl_out_str(o, " of ");
		rcl_out_u64(o, shown);
		rcl_out_str(o, ", allocated by ");
		call(o, l->alloc_kind, l->same_size, l->first_size);
		rcl_out_str(o, " at:\n");
		frames(o, r, l->stack);
		/* Unprefixed, to paste into a suppressions file as it is. */
		if (rcl_opt.gen_suppressions && l->kind != RCL_REACHABLE)
			rcl_suppress_suggest(o, l->stack);
		line(o, r, "");
	}
}

/* v right-aligned in width columns, as LSan's "%7zu". */
static void padded(struct rcl_out *o, uint64_t v, size_t width)
{
	char num[24];
	size_t n = rcl_fmt_u64(num, v);

	for (; n < width; width--)
		rcl_out_chr(o, ' ');
	rcl_out_mem(o, num, n);
}

/* The suppressions that matched in this report, LeakSanitizer's way. */
static void suppressions(struct rcl_out *o, const struct rcl_report *r)
{
	const struct rcl_suppression *s;

	for (s = rcl_suppress_list(); s && !s->blocks; s = s->next)
		;
	if (s == NULL)
		return;
	line(o, r, "Suppressions used:");
	line(o, r, "  count      bytes template");
	for (; s; s = s->next) {
		if (!s->blocks)
			continue;
		prefix(o, r);
		padded(o, s->blocks, 7);
		rcl_out_chr(o, ' ');
		padded(o, s->bytes, 10);
		rcl_out_str(o, " leak:");
		rcl_out_str(o, s->pattern);
		rcl_out_str(o, "   (");
		rcl_out_str(o, s->file);
		if (!s->builtin) {
			rcl_out_chr(o, ':');
			rcl_out_u64(o, s->line);
		}
		rcl_out_str(o, ")\n");
	}
	line(o, r, "");
}

static void error_head(struct rcl_out *o, const struct rcl_report *r,
                       const struct rcl_error *e)
{
	prefix(o, r);
	rcl_out_str(o, "ERROR: ");
	rcl_out_str(o, rcl_error_name(e->kind));
	switch (e->kind) {
	case RCL_DOUBLE_FREE:
		rcl_out_str(o, ": ");
		rcl_out_str(o, rcl_free_name(e->free_kind));
		rcl_out_str(o, " of a block already freed, ");
		break;
	case RCL_INVALID_FREE:
		rcl_out_str(o, ": ");
		rcl_out_str(o, rcl_free_name(e->free_kind));
		rcl_out_str(o, " of ");
		rcl_out_hex(o, e->address);
		if (e->has_block) {
			rcl_out_str(o, ", ");
			rcl_out_u64(o, e->offset);
			rcl_out_str(o, " bytes inside a block of ");
			rcl_out_u64(o, e->size);
			rcl_out_str(o, " bytes\n");
		} else {
			rcl_out_str(o, ", which rcleak never handed out\n");
		}
		return;
	case RCL_WRITE_AFTER_FREE:
		rcl_out_str(o, ": byte ");
		rcl_out_u64(o, e->offset);
		rcl_out_str(o, " changed after free, ");
		break;
	case RCL_HEAP_OVERFLOW:
		rcl_out_str(o, ": ");
		rcl_out_u64(o, e->offset);
		rcl_out_str(o, " bytes past the end, ");
		break;
	case RCL_MISMATCHED_FREE:
		rcl_out_str(o, ": ");
		rcl_out_str(o, rcl_free_name(e->free_kind));
		rcl_out_str(o, " of a block from ");
		rcl_out_str(o, rcl_alloc_name(e->alloc_kind));
		rcl_out_str(o, ", ");
		break;
	}
	rcl_out_u64(o, e->size);
	rcl_out_str(o, "-byte block at ");
	rcl_out_hex(o, e->address);
	rcl_out_chr(o, '\n');
}

static void errors(struct rcl_out *o, const struct rcl_report *r)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct rcl_error *e = r->groups[i].first;

		error_head(o, r, e);
		if (r->groups[i].count > 1) {
			prefix(o, r);
			rcl_out_str(o, " (");
			rcl_out_grouped(o, r->groups[i].count);
			rcl_out_str(o, " times at this place; the first is "
			               "shown)\n");
		}
		if (e->stack)
			frames(o, r, e->stack);
		else if (e->kind == RCL_WRITE_AFTER_FREE ||
		         e->kind == RCL_HEAP_OVERFLOW)
			line(o, r, "   (found by a check, not at a call)");
		else
			frames(o, r, 0);
		if (e->has_block) {
			prefix(o, r);
			rcl_out_str(o, " block allocated by ");
			call(o, (enum rcl_alloc_kind)e->alloc_kind, true,
			     e->size);
			rcl_out_str(o, " at:\n");
			frames(o, r, e->alloc_stack);
		}
		if (e->free_stack) {
			line(o, r,
			     e->kind == RCL_DOUBLE_FREE ? " first freed at:"
			                                : " freed at:");
			frames(o, r, e->free_stack);
		}
		line(o, r, "");
	}
}

static void total(struct rcl_out *o, const struct rcl_report *r,
                  const char *label, enum rcl_leak_kind kind)
{
	prefix(o, r);
	rcl_out_str(o, label);
	rcl_out_grouped(o, r->total[kind].bytes);
	rcl_out_str(o, " bytes in ");
	rcl_out_grouped(o, r->total[kind].blocks);
	rcl_out_str(o, " blocks\n");
}

void rcl_text_write(struct rcl_out *o, const struct rcl_report *r)
{
	prefix(o, r);
	rcl_out_str(o, "rcleak " RCLEAK_VERSION ": ");
	rcl_out_str(o, r->halted ? "halted at the first error"
	                         : (r->when[0] == 'c' ? "check" : "at exit"));
	rcl_out_str(o, ", pid ");
	rcl_out_u64(o, (uint64_t)r->pid);
	rcl_out_str(o, " (");
	rcl_out_str(o, r->exe);
	rcl_out_str(o, ")\n");
	line(o, r, "");
	if (r->halted)
		line(o, r, "(halted at an error: no leak check)");
	losses(o, r);
	suppressions(o, r);
	errors(o, r);
	line(o, r, "LEAK SUMMARY:");
	total(o, r, "   definitely lost: ", RCL_DEFINITE);
	total(o, r, "   indirectly lost: ", RCL_INDIRECT);
	total(o, r, "     possibly lost: ", RCL_POSSIBLE);
	total(o, r, "   still reachable: ", RCL_REACHABLE);
	total(o, r, "        suppressed: ", RCL_SUPPRESSED);
	prefix(o, r);
	rcl_out_str(o, "ERROR SUMMARY: ");
	rcl_out_grouped(o, r->nerrors);
	rcl_out_str(o, r->nerrors == 1 ? " error" : " errors");
	if (r->ngroups < r->nerrors) {
		rcl_out_str(o, " from ");
		rcl_out_grouped(o, r->ngroups);
		rcl_out_str(o, " places");
	}
	if (rcl_errors_dropped()) {
		rcl_out_str(o, " (and ");
		rcl_out_grouped(o, rcl_errors_dropped());
		rcl_out_str(o, " more not kept)");
	}
	rcl_out_str(o, "; ");
	rcl_out_grouped(o, r->allocations);
	rcl_out_str(o, " allocations, ");
	rcl_out_grouped(o, r->frees);
	rcl_out_str(o, " frees\n");
	if (r->threads_not_stopped) {
		prefix(o, r);
		rcl_out_str(o, "WARNING: ");
		rcl_out_u64(o, r->threads_not_stopped);
		rcl_out_str(o, r->threads_not_stopped == 1
		                   ? " thread could not be stopped"
		                   : " threads could not be stopped");
		rcl_out_str(o, " (the stop signal is blocked?): their whole "
		               "stacks were scanned while they ran\n");
	}
	if (r->incomplete)
		line(o, r,
		     "WARNING: rcleak ran out of its own memory; "
		     "tracking was incomplete");
	if (rcl_opt.stats)
		memory(o, r);
}
