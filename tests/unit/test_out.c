/* The no-malloc formatter, through the writer seam into memory. */
#include <unistd.h>

#include "internal.h"
#include "unit.h"
#include "capture.h"

/* The exit report of these binaries is not what they test. */
static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

static void numbers(void)
{
	struct rcl_out o;

	mem_out(&o);
	rcl_out_u64(&o, 0);
	rcl_out_chr(&o, ' ');
	rcl_out_u64(&o, 18446744073709551615ull);
	rcl_out_chr(&o, ' ');
	rcl_out_i64(&o, -42);
	rcl_out_chr(&o, ' ');
	rcl_out_hex(&o, 0);
	rcl_out_chr(&o, ' ');
	rcl_out_hex(&o, 0x55d0c0a01136ull);
	rcl_out_chr(&o, ' ');
	rcl_out_grouped(&o, 1234567);
	rcl_out_chr(&o, ' ');
	rcl_out_grouped(&o, 999);
	rcl_out_flush(&o);
	CHECK_STR(captured, "0 18446744073709551615 -42 0x0 0x55d0c0a01136 "
	                    "1,234,567 999");
}

static void json_strings(void)
{
	struct rcl_out o;

	mem_out(&o);
	rcl_out_json_str(&o, "a\"b\\c\nd\x01");
	rcl_out_chr(&o, ' ');
	rcl_out_json_str(&o, NULL);
	rcl_out_flush(&o);
	CHECK_STR(captured, "\"a\\\"b\\\\c\\u000ad\\u0001\" null");
}

static void large_output_is_flushed_in_order(void)
{
	struct rcl_out o;

	mem_out(&o);
	for (int i = 0; i < 5000; i++)
		rcl_out_str(&o, "0123456789");
	rcl_out_flush(&o);
	CHECK_EQ(captured_len, 50000);
	CHECK(memcmp(captured + 49990, "0123456789", 10) == 0);
}

static void pid_in_paths(void)
{
	char path[64], want[64];

	snprintf(want, sizeof(want), "/tmp/r-%d.json", (int)getpid());
	CHECK(rcl_expand_path("/tmp/r-%p.json", path, sizeof(path)));
	CHECK_STR(path, want);
	CHECK(!rcl_expand_path("/a/very/long/path/%p", path, 12));
	CHECK(rcl_expand_path("100%", path, sizeof(path)));
	CHECK_STR(path, "100%");
}

static void json_strings_stay_valid_utf8(void)
{
	struct rcl_out o;

	mem_out(&o);
	/* valid 2- and 3-byte sequences pass; a lone 0xff, a cut sequence
	 * and an overlong '/' (0xc0 0xaf) are escaped byte by byte */
	rcl_out_json_str(&o, "\xc3\xa9\xe2\x82\xac|\xff|\xe2\x82|\xc0\xaf");
	rcl_out_flush(&o);
	CHECK_STR(captured, "\"\xc3\xa9\xe2\x82\xac|\\u00ff|\\u00e2\\u0082|"
	                    "\\u00c0\\u00af\"");
}

TEST_MAIN("out", TEST(numbers), TEST(json_strings),
          TEST(json_strings_stay_valid_utf8),
          TEST(large_output_is_flushed_in_order), TEST(pid_in_paths))
