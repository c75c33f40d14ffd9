# rpmsg-lua: build, run, test, bench, install.
# `make` builds build/rpmsg-lua and build/rpmsg.so; `make test` runs every
# suite (busted, C, sanitizers, the real kernel under QEMU) and ends with one
# line "N passed, N failed".

PREFIX  ?= /usr/local
DESTDIR ?=
LUA_PKG ?= lua5.4
CC      ?= cc

LUA_CFLAGS = $(shell pkg-config --cflags $(LUA_PKG))
LUA_LIBS   = $(shell pkg-config --libs $(LUA_PKG))
# No unwind tables: nothing here unwinds C frames (Lua errors are longjmp), and
# they were a seventh of the binary. -g still gives gdb its .debug_frame.
CFLAGS  ?= -O2 -g -fno-asynchronous-unwind-tables
# What the code needs, whatever CFLAGS the user gives on the command line.
ALL_CFLAGS = $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE $(LUA_CFLAGS)

B := build
# runtime/ has one folder per layer. A layer sees only its own headers and
# those of the layers below it (-I), so an upward include fails to build:
#   base      errors, sysfs reading
#   device    control devices, endpoints, backends (no Lua)
#   loop      epoll, timers, signals, inotify (no Lua)
#   bindings  the `rpmsg` Lua module over device and loop
#   host      the rpmsg-lua program over the bindings
LAYERS     := base device loop bindings host
I_base     := -Iruntime/base
I_device   := $(I_base) -Iruntime/device
I_loop     := $(I_base) -Iruntime/loop
I_bindings := $(I_device) -Iruntime/loop -Iruntime/bindings
I_host     := $(I_bindings) -Iruntime/host
HEADERS    := $(wildcard runtime/*/*.h)
layer_objs  = $(sort $(patsubst runtime/$(1)/%.c,%.o,$(wildcard runtime/$(1)/*.c)))
MODULE_OBJS := $(foreach l,base device loop bindings,$(call layer_objs,$(l))) embedded.o
LUA_SOURCES := $(sort $(wildcard lua/*.lua))
HOST_OBJS   := $(call layer_objs,host)

# Line editing in the REPL when libedit is there (BSD licence); plain lines if not.
EDIT_CFLAGS = $(shell pkg-config --exists libedit && echo -DHAVE_LIBEDIT $$(pkg-config --cflags libedit))
EDIT_LIBS   = $(shell pkg-config --exists libedit && pkg-config --libs libedit)

SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all run test test-kernel bench install clean asan ctests deps test-deps fuzz fuzz-build

all: $(B)/rpmsg-lua $(B)/rpmsg.so

$(B)/host_terminal.o: ALL_CFLAGS += $(EDIT_CFLAGS)
$(B)/asan/host_terminal.o: ALL_CFLAGS += $(EDIT_CFLAGS)
$(B)/embedded.c: runtime/bindings/embed.lua $(LUA_SOURCES) | $(B)
	lua5.4 runtime/bindings/embed.lua $@ $(LUA_SOURCES)
$(B)/embedded.o: $(B)/embedded.c runtime/bindings/embedded.h
	$(CC) $(ALL_CFLAGS) $(I_bindings) -c -o $@ $<
$(B)/asan/embedded.o: $(B)/embedded.c runtime/bindings/embedded.h | $(B)/asan
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(I_bindings) -c -o $@ $<
$(B)/rpmsg-lua: $(addprefix $(B)/,$(MODULE_OBJS) $(HOST_OBJS))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LUA_LIBS) $(EDIT_LIBS) -lm -ldl
$(B)/rpmsg.so: $(addprefix $(B)/,$(MODULE_OBJS))
	$(CC) $(ALL_CFLAGS) -shared -o $@ $^

# The same, under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: $(B)/asan/rpmsg-lua $(B)/asan/rpmsg.so
$(B)/asan/rpmsg-lua: $(addprefix $(B)/asan/,$(MODULE_OBJS) $(HOST_OBJS))
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -o $@ $^ $(LUA_LIBS) $(EDIT_LIBS) -lm -ldl
$(B)/asan/rpmsg.so: $(addprefix $(B)/asan/,$(MODULE_OBJS))
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -shared -o $@ $^

# C unit tests, built with the sanitizers.
CTESTS := $(patsubst tests/c/%.c,$(B)/asan/%,$(wildcard tests/c/test_*.c))
ctests: $(CTESTS)
# line_reader is a host object, but pure C: its test links it too.
CTEST_OBJS := $(addprefix $(B)/asan/,$(MODULE_OBJS) line_reader.o)
$(B)/asan/test_%: tests/c/test_%.c tests/c/tap.h $(CTEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(I_host) -o $@ $< $(CTEST_OBJS) $(LUA_LIBS) -lm $(TEST_LDFLAGS)
# test_faults fails these calls on demand, to see each failure reported.
$(B)/asan/test_faults: TEST_LDFLAGS = -Wl,--wrap=setsockopt,--wrap=fcntl,--wrap=outq_push,--wrap=loop_timer_start

# Fuzzing with libFuzzer. Each tests/fuzz/fuzz_NAME.c defines
# LLVMFuzzerTestOneInput and becomes $(B)/fuzz/fuzz_NAME, linked with every
# runtime object but main.o, built by clang with coverage and the sanitizers
# into $(B)/fuzz/obj/. Seeds: tests/fuzz/corpus/NAME/. `make fuzz` fuzzes each
# target for FUZZ_SECONDS; `tests/fuzz/run --smoke` (in `make test`) a few.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $(LUA_CFLAGS) $(FUZZ_SAN)
FUZZ_OBJS    := $(addprefix $(B)/fuzz/obj/,$(MODULE_OBJS) $(filter-out main.o,$(HOST_OBJS)))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,$(B)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-build: $(FUZZ_TARGETS)
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run
$(B)/fuzz/obj/host_terminal.o: FUZZ_CFLAGS += $(EDIT_CFLAGS)
$(B)/fuzz/obj/embedded.o: $(B)/embedded.c runtime/bindings/embedded.h | $(B)/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(I_bindings) -c -o $@ $<
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(I_host) -Itests/fuzz \
		-DFUZZ_DIR='"$(CURDIR)/tests/fuzz"' -o $@ $< $(FUZZ_OBJS) $(LUA_LIBS) $(EDIT_LIBS) -lm -ldl

$(B) $(B)/asan $(B)/fuzz/obj:
	mkdir -p $@

# One object rule per layer, plain, sanitized and fuzzing, each with the
# include path of its layer.
define layer_rules
$(B)/%.o: runtime/$(1)/%.c $(HEADERS) | $(B)
	$$(CC) $$(ALL_CFLAGS) $(I_$(1)) -c -o $$@ $$<
$(B)/asan/%.o: runtime/$(1)/%.c $(HEADERS) | $(B)/asan
	$$(CC) $$(ALL_CFLAGS) $$(SANITIZE) -O1 $(I_$(1)) -c -o $$@ $$<
$(B)/fuzz/obj/%.o: runtime/$(1)/%.c $(HEADERS) | $(B)/fuzz/obj
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(I_$(1)) -c -o $$@ $$<
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

# What a fresh Debian 12 machine lacks, from apt: to build, and to test.
deps:
	tests/install-deps build
test-deps:
	tests/install-deps test

# The echo example against the simulated co-processor: no board needed.
run: all
	$(B)/rpmsg-lua --sim scripts/sim/echo_fw.lua scripts/echo.lua

test: all asan ctests
	tests/run-all

test-kernel: all
	tests/run-all kernel

bench: all
	tests/bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4
	install -m 755 $(B)/rpmsg-lua $(DESTDIR)$(PREFIX)/bin/rpmsg-lua
	install -m 755 $(B)/rpmsg.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/rpmsg.so

clean:
	rm -rf $(B)
