# Unit tests: each tests/unit/test_<x>.c links rcleak's objects directly,
# without interpose.o, so nothing is preloaded and malloc stays glibc's.
# Frame pointers as in the library: its unwinder follows them through its
# own frames, which here are the test program's too.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_OBJS := $(filter-out $(BUILD)/obj/interpose.o,$(LIB_OBJS))

# test_symbolize reads its own lines back: debug info whatever CFLAGS says.
$(BUILD)/tests/unit/test_symbolize: UNIT_CFLAGS = -g

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/capture.h $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LTO) $(UNIT_CFLAGS) $(STDFLAGS) -fno-omit-frame-pointer -Wno-missing-prototypes $(UNWIND_CFLAGS) -Isrc -o $@ $< $(UNIT_OBJS) $(LIBS)

test-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || true; done
