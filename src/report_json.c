/*
 * The machine-readable report of shared/report-format.md. Fields are only
 * ever added; see that file before changing anything here.
 */
#include "internal.h"

static void key(struct rcl_out *o, const char *k)
{
	rcl_out_chr(o, '"');
	rcl_out_str(o, k);
	rcl_out_str(o, "\": ");
}

static void hex_str(struct rcl_out *o, uint64_t v)
{
	rcl_out_chr(o, '"');
	rcl_out_hex(o, v);
	rcl_out_chr(o, '"');
}

static void frame(struct rcl_out *o, const struct rcl_frame *f, bool first)
{
	rcl_out_str(o, first ? "\n        {" : ",\n        {");
	key(o, "ip");
	hex_str(o, f->ip);
	rcl_out_str(o, ", ");
	key(o, "function");
	rcl_out_json_str(o, f->function);
	rcl_out_str(o, ", ");
	key(o, "file");
	rcl_out_json_str(o, f->file);
	rcl_out_str(o, ", ");
	key(o, "line");
	if (f->file)
		rcl_out_u64(o, (uint64_t)f->line);
	else
		rcl_out_str(o, "null");
	rcl_out_str(o, ", ");
	key(o, "module");
	rcl_out_json_str(o, f->module);
	rcl_out_str(o, ", ");
	key(o, "offset");
	hex_str(o, f->offset);
	if (f->inlined)
		rcl_out_str(o, ", \"inlined\": true");
	rcl_out_chr(o, '}');
}

static void stack(struct rcl_out *o, rcl_stack_id id)
{
	const struct rcl_stack *st = rcl_depot_get(id);

	rcl_out_chr(o, '[');
	for (uint32_t i = 0, shown = 0; i < st->depth; i++) {
		const struct rcl_frame *fr;
		size_t n = rcl_symbolize(st->ips[i], &fr);

		for (size_t j = 0; j < n; j++)
			frame(o, &fr[j], shown++ == 0);
	}
	rcl_out_chr(o, ']');
}

static void total(struct rcl_out *o, const char *name,
                  const struct rcl_total *t)
{
	rcl_out_str(o, "    ");
	key(o, name);
	rcl_out_str(o, "{\"bytes\": ");
	rcl_out_u64(o, t->bytes);
	rcl_out_str(o, ", \"blocks\": ");
	rcl_out_u64(o, t->blocks);
	rcl_out_str(o, "},\n");
}

static void summary(struct rcl_out *o, const struct rcl_report *r)
{
	rcl_out_str(o, "  \"summary\": {\n");
	for (int k = 0; k < RCL_LEAK_KINDS; k++)
		total(o, rcl_leak_kind_name((enum rcl_leak_kind)k),
		      &r->total[k]);
	rcl_out_str(o, "    \"errors\": ");
	rcl_out_u64(o, r->nerrors);
	/* Past the first 100,000 (errors.c), errors are only counted. */
	rcl_out_str(o, ",\n    \"errors_not_kept\": ");
	rcl_out_u64(o, rcl_errors_dropped());
	rcl_out_str(o, ",\n    \"allocations\": ");
	rcl_out_u64(o, r->allocations);
	rcl_out_str(o, ",\n    \"frees\": ");
	rcl_out_u64(o, r->frees);
	rcl_out_str(o, "\n  },\n");
}

/* Suppressed records are only counted: they appear in no "leaks" entry. */
static void leaks(struct rcl_out *o, const struct rcl_report *r)
{
	size_t shown = 0;

	rcl_out_str(o, "  \"leaks\": [");
	for (size_t i = 0; i < r->nlosses; i++) {
		const struct rcl_loss *l = &r->losses[i];

		if (l->kind == RCL_SUPPRESSED)
			continue;
		rcl_out_str(o, shown++ ? ",\n    {" : "\n    {");
		key(o, "kind");
		rcl_out_json_str(
		    o, rcl_leak_kind_name((enum rcl_leak_kind)l->kind));
		rcl_out_str(o, ", ");
		key(o, "bytes");
		rcl_out_u64(o, l->bytes);
		rcl_out_str(o, ", ");
		key(o, "blocks");
		rcl_out_u64(o, l->blocks);
		rcl_out_str(o, ", ");
		key(o, "allocator");
		rcl_out_json_str(
		    o, rcl_alloc_name((enum rcl_alloc_kind)l->alloc_kind));
		rcl_out_str(o, ",\n      ");
		key(o, "stack");
		stack(o, l->stack);
		rcl_out_chr(o, '}');
	}
	rcl_out_str(o, shown ? "\n  ],\n" : "],\n");
}

static void error(struct rcl_out *o, const struct rcl_error *e)
{
	key(o, "kind");
	rcl_out_json_str(o, rcl_error_name((enum rcl_error_kind)e->kind));
	rcl_out_str(o, ", ");
	key(o, "address");
	hex_str(o, e->address);
	rcl_out_str(o, ", ");
	/* Always numbers, as in the contract: 0 when no block is known. */
	key(o, "size");
	rcl_out_u64(o, e->has_block ? e->size : 0);
	rcl_out_str(o, ", ");
	key(o, "offset");
	rcl_out_u64(o, e->has_block ? e->offset : 0);
	rcl_out_str(o, ", ");
	key(o, "allocator");
	rcl_out_json_str(
	    o, e->has_block ? rcl_alloc_name((enum rcl_alloc_kind)e->alloc_kind)
	                    : NULL);
	if (e->kind != RCL_WRITE_AFTER_FREE && e->kind != RCL_HEAP_OVERFLOW) {
		rcl_out_str(o, ", ");
		key(o, "deallocator");
		rcl_out_json_str(
		    o, rcl_free_name((enum rcl_free_kind)e->free_kind));
	}
	rcl_out_str(o, ",\n      ");
	key(o, "stack");
	stack(o, e->stack);
	rcl_out_str(o, ",\n      ");
	key(o, "alloc_stack");
	stack(o, e->alloc_stack);
	rcl_out_str(o, ",\n      ");
	key(o, "free_stack");
	stack(o, e->free_stack);
}

static void errors(struct rcl_out *o, const struct rcl_report *r)
{
	const struct rcl_error *e = r->errors;

	rcl_out_str(o, "  \"errors\": [");
	for (size_t i = 0; i < r->nerrors && e; i++, e = e->next) {
		rcl_out_str(o, i ? ",\n    {" : "\n    {");
		error(o, e);
		rcl_out_chr(o, '}');
	}
	rcl_out_str(o, r->nerrors ? "\n  ],\n" : "],\n");
}

/* The suppressions that matched in this report (an rcleak addition). */
static void suppressions(struct rcl_out *o)
{
	size_t shown = 0;

	rcl_out_str(o, "  \"suppressions\": [");
	for (const struct rcl_suppression *s = rcl_suppress_list(); s;
	     s = s->next) {
		if (!s->blocks)
			continue;
		rcl_out_str(o, shown++ ? ",\n    {" : "\n    {");
		key(o, "pattern");
		rcl_out_json_str(o, s->pattern);
		rcl_out_str(o, ", ");
		key(o, "file");
		rcl_out_json_str(o, s->path);
		rcl_out_str(o, ", ");
		key(o, "line");
		if (s->builtin)
			rcl_out_str(o, "null");
		else
			rcl_out_u64(o, s->line);
		rcl_out_str(o, ", ");
		key(o, "blocks");
		rcl_out_u64(o, s->blocks);
		rcl_out_str(o, ", ");
		key(o, "bytes");
		rcl_out_u64(o, s->bytes);
		rcl_out_chr(o, '}');
	}
	rcl_out_str(o, shown ? "\n  ]\n" : "]\n");
}

static void field(struct rcl_out *o, const char *name, uint64_t v, bool last)
{
	rcl_out_str(o, "\"");
	rcl_out_str(o, name);
	rcl_out_str(o, "\": ");
	rcl_out_u64(o, v);
	rcl_out_str(o, last ? "},\n" : ", ");
}

/* rcleak's own memory: what the live-block table costs per block. */
static void memory(struct rcl_out *o, const struct rcl_memory *m)
{
	rcl_out_str(o, "  \"metadata\": {");
	field(o, "tracked_blocks", m->tracked_blocks, false);
	field(o, "table_bytes", m->table_bytes, false);
	field(o, "depot_stacks", m->depot_stacks, false);
	field(o, "depot_bytes", m->depot_bytes, false);
	field(o, "quarantine_bytes", m->quarantine_bytes, true);
}

void rcl_json_write(struct rcl_out *o, const struct rcl_report *r)
{
	rcl_out_str(o, "{\n  \"rcleak\": 1,\n  \"version\": \"" RCLEAK_VERSION
	               "\",\n  \"pid\": ");
	rcl_out_u64(o, (uint64_t)r->pid);
	rcl_out_str(o, ",\n  \"ppid\": ");
	rcl_out_u64(o, (uint64_t)r->ppid);
	rcl_out_str(o, ",\n  \"exe\": ");
	rcl_out_json_str(o, r->exe);
	rcl_out_str(o, ",\n  \"when\": ");
	rcl_out_json_str(o, r->when);
	rcl_out_str(o, ",\n  \"halted\": ");
	rcl_out_str(o, r->halted ? "true" : "false");
	rcl_out_str(o, ",\n  \"threads_not_stopped\": ");
	rcl_out_u64(o, r->threads_not_stopped);
	rcl_out_str(o, ",\n  \"complete\": ");
	rcl_out_str(o, r->incomplete ? "false" : "true");
	rcl_out_str(o, ",\n");
	memory(o, &r->memory);
	summary(o, r);
	leaks(o, r);
	errors(o, r);
	suppressions(o);
	rcl_out_str(o, "}\n");
}
