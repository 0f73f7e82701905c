#!/usr/bin/env bash
# Runs every suite (unit, end-to-end, real programs), each test in its own
# process, and ends with one line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_unit() {
	for t in build/tests/unit/test_*; do
		[ -x "$t" ] || continue
		$RCLEAK_TEST_PREFIX "$t"
		status=$?
		# A crash is a failure even when the lines before it passed.
		[ $status -gt 1 ] && echo "FAIL unit/$(basename "$t"): exit status $status"
	done
}

# The README's options table is generated from src/options.def.
check_docs() {
	if scripts/options-table | cmp -s - <(sed -n '/^<!-- options/,/^<!-- \/options/p' README.md | sed '1d;$d'); then
		echo "PASS docs/options-table"
	else
		echo "FAIL docs/options-table: README.md differs from scripts/options-table"
	fi
}

# The library must build warning-free with clang as well as gcc.
check_clang() {
	command -v clang >/dev/null 2>&1 || { echo "PASS build/clang (skipped: no clang)"; return; }
	if make -s BUILD=build/clang CC=clang build/clang/librcleak.so >build/clang.log 2>&1; then
		echo "PASS build/clang"
	else
		echo "FAIL build/clang: see build/clang.log"
	fi
}

# The parsers of user input under libFuzzer, briefly (make fuzz for more).
check_fuzz() {
	command -v clang >/dev/null 2>&1 || { echo "PASS fuzz (skipped: no clang)"; return; }
	if make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}" >build/fuzz.log 2>&1; then
		echo "PASS fuzz/options_and_suppressions"
	else
		echo "FAIL fuzz/options_and_suppressions: see build/fuzz.log"
	fi
}

{
	check_docs
	check_clang
	check_fuzz
	run_unit
	[ -f tests/e2e/check.py ] && python3 tests/e2e/check.py
	[ -x tests/real/run.sh ] && tests/real/run.sh
} 2>&1 | grep -Ev '^[0-9]+ passed, [0-9]+ failed' | tee "$log"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
