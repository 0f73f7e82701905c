/*
 * The JSON writer over a hand-built report, captured in memory: the fields
 * of report-format.md, frames symbolized from this binary's symbol table.
 */
#include "internal.h"
#include "unit.h"
#include "capture.h"

static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

/* A static function: only the ELF symbol table knows its name. */
static __attribute__((noinline)) int make_node(int x)
{
	return x * 3;
}

static void writes_contract_fields(void)
{
	uintptr_t ips[2] = {(uintptr_t)make_node + 4, (uintptr_t)unit_run + 4};
	struct rcl_loss loss = {.kind = RCL_DEFINITE,
	                        .alloc_kind = RCL_CALLOC,
	                        .same_size = true,
	                        .stack = rcl_depot_put(ips, 2),
	                        .first_size = 32,
	                        .bytes = 96,
	                        .blocks = 3};
	struct rcl_error err = {.kind = RCL_DOUBLE_FREE,
	                        .alloc_kind = RCL_MALLOC,
	                        .free_kind = RCL_FREE,
	                        .has_block = true,
	                        .address = 0x1234,
	                        .size = 32,
	                        .stack = loss.stack};
	struct rcl_report r = {.when = "exit",
	                       .pid = 42,
	                       .ppid = 41,
	                       .exe = "/bin/\"odd\"",
	                       .allocations = 10,
	                       .frees = 7,
	                       .losses = &loss,
	                       .nlosses = 1,
	                       .errors = &err,
	                       .nerrors = 1};
	struct rcl_out o;

	(void)make_node(1);
	r.total[RCL_DEFINITE] = (struct rcl_total){96, 3};
	mem_out(&o);
	rcl_symbolize_begin();
	rcl_json_write(&o, &r);
	rcl_out_flush(&o);
	rcl_symbolize_end();

	CHECK(strstr(captured, "\"rcleak\": 1,") != NULL);
	CHECK(strstr(captured, "\"pid\": 42,") != NULL);
	CHECK(strstr(captured, "\"ppid\": 41,") != NULL);
	CHECK(strstr(captured, "\"exe\": \"/bin/\\\"odd\\\"\"") != NULL);
	CHECK(strstr(captured, "\"when\": \"exit\"") != NULL);
	CHECK(strstr(captured, "\"definitely_lost\": {\"bytes\": 96, "
	                       "\"blocks\": 3}") != NULL);
	CHECK(strstr(captured, "\"still_reachable\": {\"bytes\": 0, "
	                       "\"blocks\": 0}") != NULL);
	CHECK(strstr(captured, "\"errors\": 1,") != NULL);
	CHECK(strstr(captured, "\"allocations\": 10,") != NULL);
	CHECK(strstr(captured, "\"frees\": 7\n") != NULL);
	CHECK(strstr(captured,
	             "{\"kind\": \"definitely_lost\", \"bytes\": 96, "
	             "\"blocks\": 3, \"allocator\": \"calloc\"") != NULL);
	CHECK(strstr(captured, "\"function\": \"make_node\"") != NULL);
	CHECK(strstr(captured, "\"function\": \"unit_run\"") != NULL);
	CHECK(strstr(captured, "test_json\", \"offset\": \"0x") != NULL);
	CHECK(strstr(captured, "{\"kind\": \"double_free\", \"address\": "
	                       "\"0x1234\", \"size\": 32") != NULL);
	CHECK(strstr(captured, "\"free_stack\": []") != NULL);
	if (unit_failures)
		fputs(captured, stderr);
}

TEST_MAIN("json", TEST(writes_contract_fields))
