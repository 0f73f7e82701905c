# rcleak: a preloaded memory-error detector. `make` builds build/librcleak.so.

# ---- tools and places ----
CC      ?= cc
PREFIX  ?= /usr/local
BUILD   := build
DEPS_OK := $(BUILD)/.deps-ok

# ---- flags: warnings are errors for our own code (make WERROR= to relax) ----
WERROR  ?= 1
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wundef -Wwrite-strings -Wpointer-arith -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
STDFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(if $(WERROR),-Werror)
# Library objects: no builtin malloc calls, TLS that never allocates,
# unwind tables so C++ exceptions from a new_handler pass through us, and
# frame pointers, which the unwinder follows through rcleak's own frames.
SOFLAGS  = -fPIC -fvisibility=hidden -ftls-model=initial-exec \
           -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
           -fno-builtin-free -fexceptions -fno-omit-frame-pointer
# Link-time optimization with gcc: the hot path crosses heap.c, table.c,
# unwind.c and quarantine.c, and inlining across them took 18% of the
# instructions off a malloc+free pair. clang's needs a linker plugin that
# Debian's ld lacks, so its build goes without.
LTO     ?= $(if $(shell $(CC) --version 2>/dev/null | grep -i clang),,-flto=auto)
UNWIND_CFLAGS = $(shell pkg-config --cflags libunwind 2>/dev/null)
LIBS     = -ldl -lpthread $(shell pkg-config --libs libunwind 2>/dev/null || echo -lunwind) -ldw -lelf
SOLINK   = -shared -Wl,-z,defs -Wl,-z,now

# ---- sources ----
LIB_SRCS := $(wildcard src/*.c)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/librcleak.so
# rcleak-run's launcher: starts the program without losing a signal.
LAUNCHER := $(BUILD)/rcleak-launch

.PHONY: all deps test test-deps test-unit demo format format-check install clean

all: $(LIB) $(LAUNCHER)

# Installs missing Debian packages once (scripts/install-deps).
deps: $(DEPS_OK)
$(DEPS_OK):
	@mkdir -p $(BUILD)
	@scripts/install-deps
	@touch $@

$(BUILD)/obj/%.o: src/%.c src/internal.h src/options.def Makefile | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LTO) $(STDFLAGS) $(SOFLAGS) $(UNWIND_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LTO) $(SOFLAGS) $(SOLINK) -o $@ $^ $(LIBS)

$(LAUNCHER): src/launcher/rcleak-launch.c Makefile | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STDFLAGS) -o $@ $<

# ---- tests ----
include tests/unit/unit.mk

test: $(LIB) $(LAUNCHER) test-deps $(UNIT_BINS)
	@tests/run.sh

test-deps: $(DEPS_OK)
	@scripts/install-deps --test

DEMO := $(BUILD)/demo/leaky
$(DEMO): tests/demo/leaky.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fno-omit-frame-pointer -o $@ $<

# Runs the bundled leaky program; rcleak's exit status 23 is expected.
demo: $(LIB) $(LAUNCHER) $(DEMO)
	@echo "== $(DEMO) under rcleak: its output, then rcleak's report =="
	@scripts/rcleak-run --json $(BUILD)/demo/report.json -- $(DEMO); \
	  echo "== exit status $$? (23: rcleak found problems); JSON in $(BUILD)/demo/report.json =="

# ---- benchmark: tests/bench/bench.py prints the table (make bench
# BENCH_ARGS="--reps 1 --only churn,tree"); plain -O2 -g for the workloads,
# which omits frame pointers as distribution builds do ----
.PHONY: bench bench-deps
BENCH := $(BUILD)/bench
$(BENCH)/workload: tests/bench/workload.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(STDFLAGS) -pthread -o $@ $<

# Static, so a preloaded tool never loads into the launcher itself.
$(BENCH)/spawn: tests/bench/spawn.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) -O2 $(STDFLAGS) -static -o $@ $<

# Preloaded after liblsan: starts LeakSanitizer before main (lsan_init.c).
$(BENCH)/lsan-init.so: tests/bench/lsan_init.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) -O2 $(STDFLAGS) -fPIC -shared -o $@ $<

bench: $(LIB) bench-deps $(BENCH)/workload $(BENCH)/spawn $(BENCH)/lsan-init.so
	@python3 tests/bench/bench.py $(BENCH_ARGS)

bench-deps: $(DEPS_OK)
	@scripts/install-deps --bench

FORMAT_FILES = $(wildcard src/*.c src/*.h src/launcher/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/demo/*.c)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

install: $(LIB) $(LAUNCHER)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/librcleak.so
	install -m 755 scripts/rcleak-run $(DESTDIR)$(PREFIX)/bin/rcleak-run
	install -d $(DESTDIR)$(PREFIX)/lib/rcleak
	install -m 755 $(LAUNCHER) $(DESTDIR)$(PREFIX)/lib/rcleak/rcleak-launch
	install -m 644 include/rcleak.h $(DESTDIR)$(PREFIX)/include/rcleak.h

clean:
	rm -rf $(BUILD)

# ---- fuzzing: libFuzzer on the parsers of user input (RCLEAK_OPTIONS,
# suppression files); make fuzz FUZZ_SECONDS=600 for a long run. Each
# harness links only what it tests. ----
.PHONY: fuzz
FUZZ := $(BUILD)/fuzz
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
             -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -Isrc
$(FUZZ)/fuzz_options: tests/fuzz/fuzz_options.c src/options.c src/out.c
$(FUZZ)/fuzz_suppress: tests/fuzz/fuzz_suppress.c src/suppress.c src/out.c \
                       src/meta.c src/spans.c
$(FUZZ)/%: src/internal.h src/options.def | $(DEPS_OK) test-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(UNWIND_CFLAGS) -o $@ $(filter %.c,$^)

fuzz: $(FUZZ)/fuzz_options $(FUZZ)/fuzz_suppress
	@for f in $^; do \
	  name=$$(basename $$f); mkdir -p $(FUZZ)/corpus-$$name; \
	  echo "== $$name for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ)/$$name- $(FUZZ)/corpus-$$name \
	    tests/fuzz/seeds-$${name#fuzz_} 2>$(FUZZ)/$$name.log || \
	    { tail -40 $(FUZZ)/$$name.log; echo "fuzz: $$name failed"; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::new_units_added" $(FUZZ)/$$name.log; \
	done
