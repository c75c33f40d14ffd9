# SPDX-License-Identifier: MIT
# rpmsg-lua: build, run, test, bench, install, package.
# `make` builds build/rpmsg-lua and build/rpmsg.so; `make test` runs every
# suite (busted, C, sanitizers, fuzz, cross, the real kernel under QEMU) and
# ends with one line "N passed, N failed".
#
# The conventions of Debian, Yocto and Buildroot: CC, CFLAGS, CPPFLAGS,
# LDFLAGS, PKG_CONFIG, DESTDIR and the directories below are the caller's.
#   LUA_PKG   pkg-config name of the target's Lua (lua5.4; lua on Buildroot
#             and meta-oe)
#   LUA       the build machine's interpreter, which writes help's API table
#             from README.md (runtime/host/apidoc.lua)
#   WERROR    1: warnings are errors. The default is 1 in a git checkout
#             (development, CI) and 0 elsewhere (a release tarball, a distro
#             build with a newer compiler); the package recipes under
#             runtime/dist/ set WERROR=0.
#   ARCH      arm64 or armhf, on make's command line: a cross build with
#             Debian's cross compiler into build/ARCH, against a sysroot of
#             Debian's packages for ARCH (runtime/dist/cross-sysroot). An ARCH
#             in the environment (Yocto's SDK exports one) is ignored: there
#             CC already cross-compiles.

PREFIX     ?= /usr/local
DESTDIR    ?=
LUA_PKG    ?= lua5.4
LUA        ?= lua5.4
PKG_CONFIG ?= pkg-config
WERROR     ?= $(if $(wildcard .git),1,0)
# The version the binary reports (RPMSG_VERSION, in whichever header has it).
VERSION    := $(firstword $(shell sed -n 's/^\#define RPMSG_VERSION "\(.*\)"/\1/p' runtime/*/*.h))

.DEFAULT_GOAL := all
B := build
ifneq ($(origin ARCH),command line)
ARCH :=
endif
ifneq ($(ARCH),)
TRIPLET_arm64 := aarch64-linux-gnu
TRIPLET_armhf := arm-linux-gnueabihf
QEMU_arm64    := qemu-aarch64-static
QEMU_armhf    := qemu-arm-static
TRIPLET := $(TRIPLET_$(ARCH))
ifeq ($(TRIPLET),)
$(error ARCH=$(ARCH): cross builds know arm64 and armhf)
endif
QEMU    := $(QEMU_$(ARCH))
B       := build/$(ARCH)
ifeq ($(origin CC),default)
CC      := $(TRIPLET)-gcc
endif
ifeq ($(origin NM),undefined)
NM      := $(TRIPLET)-nm
endif
# The target's Lua and libedit, unpacked from Debian's packages; made on
# first use unless the caller gives a SYSROOT of their own.
SYSROOT ?= $(CURDIR)/build/sysroot/$(ARCH)/root
SYSROOT_STAMP := $(if $(filter $(CURDIR)/build/sysroot/$(ARCH)/root,$(SYSROOT)),$(SYSROOT)/.made)
PKG_CONFIG_ENV := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig
# Debian's multiarch headers (lua5.4-deb-multiarch.h) are under the triplet.
CROSS_CFLAGS  := -isystem $(SYSROOT)/usr/include/$(TRIPLET)
# libedit's own libraries (libbsd, libtinfo) are found in the sysroot too.
CROSS_LDFLAGS := -Wl,-rpath-link,$(SYSROOT)/usr/lib/$(TRIPLET):$(SYSROOT)/lib/$(TRIPLET)
endif
PKGCF = $(PKG_CONFIG_ENV) $(PKG_CONFIG)

# LUA_INCDIR (as luarocks passes it) instead of pkg-config, for a Lua with no .pc.
LUA_CFLAGS = $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell $(PKGCF) --cflags $(LUA_PKG)))
LUA_LIBS   = $(shell $(PKGCF) --libs $(LUA_PKG))
# No unwind tables: nothing here unwinds C frames (Lua errors are longjmp), and
# they were a seventh of the binary. -g still gives gdb its .debug_frame.
CFLAGS  ?= -O2 -g -fno-asynchronous-unwind-tables
# What the code needs, whatever CFLAGS the user gives on the command line.
# 64-bit file offsets on 32-bit targets too (armhf): readdir of a directory
# whose cookies do not fit 32 bits (ext4's hashed ones, NFS) fails with
# EOVERFLOW otherwise, and /sys/class/remoteproc looks empty.
WARN       = -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) -std=gnu11 $(WARN) -fPIC -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(LUA_CFLAGS) $(CROSS_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(CROSS_LDFLAGS)

# Where `make install` puts things (each settable). The module goes where the
# target's Lua looks: its pkg-config INSTALL_CMOD (/usr/lib/<triplet>/lua/5.4
# on Debian), else PREFIX/lib/lua/5.4; the library modules written in Lua
# (lua/lib/NAME.lua, require "rpmsg.NAME") under LUA_LMOD/rpmsg/, where a
# stock lua5.4's package.path finds them: INSTALL_LMOD (/usr/share/lua/5.4),
# else PREFIX/share/lua/5.4. The host's own Lua (lua/host/, help's API table)
# goes to PKGDATADIR. The binary reads both from these directories, compiled
# in, or from the same layout relative to itself (runtime/host/host_lua.c).
BINDIR     ?= $(PREFIX)/bin
LUA_CMOD   ?= $(or $(patsubst $(SYSROOT)%,%,$(shell $(PKGCF) --variable=INSTALL_CMOD $(LUA_PKG) 2>/dev/null)),$(PREFIX)/lib/lua/5.4)
LUA_LMOD   ?= $(or $(patsubst $(SYSROOT)%,%,$(shell $(PKGCF) --variable=INSTALL_LMOD $(LUA_PKG) 2>/dev/null)),$(PREFIX)/share/lua/5.4)
PKGDATADIR ?= $(PREFIX)/share/rpmsg-lua
UNITDIR    ?= $(PREFIX)/lib/systemd/system
UDEVDIR    ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR     ?= $(PREFIX)/share/doc/rpmsg-lua

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
# The Lua files, installed and not compiled in: the library modules
# (lua/lib/) and the host's own (lua/host/, and help()'s text, generated from
# README.md's API tables as apidoc.lua). The build tree holds them as an
# install does, beside the binary: $(B)/rpmsg/NAME.lua (what LUA_PATH=$(B)/?.lua
# finds for a stock lua5.4 with $(B)/rpmsg.so) and $(B)/host/NAME.lua.
LUA_LIB     := $(sort $(wildcard lua/lib/*.lua))
LUA_HOST    := $(sort $(wildcard lua/host/*.lua))
LUA_LIB_NAMES  := $(basename $(notdir $(LUA_LIB)))
LUA_HOST_NAMES := $(basename $(notdir $(LUA_HOST))) apidoc
LUA_STAGED  := $(LUA_LIB_NAMES:%=$(B)/rpmsg/%.lua) $(LUA_HOST_NAMES:%=$(B)/host/%.lua)
# The bindings' host side (lrpmsg_host.h: script generations, the host's
# calls under the watchdog) is linked into the binary only, like lua/host/.
HOST_BINDINGS := l_generation.o l_host.o
MODULE_OBJS := $(filter-out $(HOST_BINDINGS),$(foreach l,base device loop bindings,$(call layer_objs,$(l))))
HOST_OBJS   := $(HOST_BINDINGS) $(call layer_objs,host)

# Line editing in the REPL when libedit is there (BSD licence); plain lines if
# not. The binary does not link it: line_edit.c opens it (dlopen) when a REPL
# on a terminal starts, by the soname a program linked with it would need
# ($(B)/line_edit_soname.h, from a probe linked here).
EDIT_CFLAGS = $(shell $(PKGCF) --exists libedit && echo -DHAVE_LIBEDIT -I$(B) $$($(PKGCF) --cflags libedit))
EDIT_LIBS   = $(shell $(PKGCF) --exists libedit && $(PKGCF) --libs libedit)
READELF ?= readelf
# (Made whether libedit is there or not: a cross build's sysroot, and so its
# libedit, may appear only once the build has started.)
$(B)/line_edit_soname.h: | $(B)
	echo '/* libedit: none at build time */' >$@.new
	if $(PKGCF) --exists libedit; then \
		printf 'int main(void) { return 0; }\n' >$(B)/edit_probe.c && \
		$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,--no-as-needed -o $(B)/edit_probe $(B)/edit_probe.c $(EDIT_LIBS) && \
		$(READELF) -d $(B)/edit_probe | \
		sed -n 's/.*(NEEDED).*\[\(libedit[^]]*\)\].*/#define LIBEDIT_SONAME "\1"/p' >$@.new && \
		grep -q LIBEDIT_SONAME $@.new; fi
	rm -f $(B)/edit_probe $(B)/edit_probe.c
	mv $@.new $@
$(B)/line_edit.o $(B)/asan/line_edit.o $(B)/fuzz/obj/line_edit.o: $(B)/line_edit_soname.h

SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all run test test-kernel bench install clean asan ctests ctests-plain deps test-deps fuzz fuzz-build valgrind

all: $(B)/rpmsg-lua $(B)/install/rpmsg-lua $(B)/rpmsg.so $(LUA_STAGED)

# Size: what is off the message path is built with -Os (the stripped binary
# went from 148 to 140 KiB, rpmsg.so from 136 to 132); the per-message path
# keeps the speed of CFLAGS.
HOT_OBJS := clock.o loop.o timer_heap.o device_ep.o outq.o l_endpoint.o l_endpoint_fields.o l_endpoint_batch.o \
	l_endpoint_loop.o l_endpoint_queue.o l_endpoint_state.o l_guard.o l_coroutine.o l_task.o \
	l_timer.o l_runtime.o l_gc.o l_crc32.o crc32.o
# The host's Lua allocator takes and gives back every message's string.
HOT_OBJS += lua_pool.o
$(addprefix $(B)/,$(filter-out $(HOT_OBJS),$(MODULE_OBJS) $(HOST_OBJS))): ALL_CFLAGS += -Os
# Under -fPIC GCC assumes any global function may be interposed, so it never
# inlines one within its own file (loop_stopping, called several times a
# wake-up from loop.c itself). Nothing interposes ours.
$(addprefix $(B)/,$(HOT_OBJS)): ALL_CFLAGS += -fno-semantic-interposition
$(B)/line_edit.o: ALL_CFLAGS += $(EDIT_CFLAGS)
$(B)/asan/line_edit.o: ALL_CFLAGS += $(EDIT_CFLAGS)
$(B)/rpmsg/%.lua: lua/lib/%.lua | $(B)
	@mkdir -p $(@D)
	cp $< $@
$(B)/host/%.lua: lua/host/%.lua | $(B)
	@mkdir -p $(@D)
	cp $< $@
$(B)/host/apidoc.lua: runtime/host/apidoc.lua README.md | $(B)
	@mkdir -p $(@D)
	$(LUA) runtime/host/apidoc.lua README.md $@
# What host_lua.c compiles in: the directories and the module names, and
# (a comment) the installed binary's RUNPATH. Written on every run, replaced only when
# it changes (a new PREFIX, a new module), which relinks the binary.
LUA_REL = $(shell realpath -m --relative-to=$(BINDIR) $(1))
$(B)/lua_files.h: FORCE | $(B)
	@printf '%s\n' '/* Generated by the Makefile: where rpmsg-lua finds its Lua files. */' \
		'#define RPMSG_LUA_LIB_DIR "$(LUA_LMOD)/rpmsg"' \
		'#define RPMSG_LUA_LIB_REL "$(call LUA_REL,$(LUA_LMOD)/rpmsg)"' \
		'#define RPMSG_LUA_HOST_DIR "$(PKGDATADIR)"' \
		'#define RPMSG_LUA_HOST_REL "$(call LUA_REL,$(PKGDATADIR))"' \
		'#define RPMSG_LUA_LIB_MODULES $(patsubst %,"%"$(comma),$(LUA_LIB_NAMES))' \
		'#define RPMSG_LUA_HOST_MODULES $(patsubst %,"%"$(comma),$(LUA_HOST_NAMES))' \
		'/* installed RUNPATH $$ORIGIN/$(CMOD_REL) */' >$@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@
comma := ,
.PHONY: FORCE
$(B)/host_lua.o $(B)/asan/host_lua.o: ALL_CFLAGS += -I$(B)
$(B)/fuzz/obj/host_lua.o: FUZZ_CFLAGS += -I$(B)
$(B)/host_lua.o $(B)/asan/host_lua.o $(B)/fuzz/obj/host_lua.o: $(B)/lua_files.h
# One copy of the bindings: the binary links rpmsg.so, the module a stock
# lua5.4 loads, and finds it relative to itself ($ORIGIN: no fixed path, so
# a tree moved or staged under DESTDIR works, and lintian allows it). The
# module's name is its soname. It exports luaopen_rpmsg and what the
# binary's own objects call, listed from their symbols ($(B)/rpmsg.map);
# -Bsymbolic binds its calls to itself directly, as inside one program.
# Each binary's RUNPATH holds one folder, its own rpmsg.so's: glibc probes
# every RUNPATH folder and ten hwcaps subfolders of it (an open and a stat
# each) for each library not found yet, so a second folder cost every start
# about twenty failed system calls. $(B)/rpmsg-lua finds rpmsg.so beside
# itself (the build tree); `make install` installs $(B)/install/rpmsg-lua,
# the same objects linked for where the install puts rpmsg.so.
NM ?= nm
CMOD_REL = $(shell realpath -m --relative-to=$(BINDIR) $(LUA_CMOD))
MODULE_LDFLAGS = -shared -Wl,-soname,rpmsg.so -Wl,--version-script,$(B)/rpmsg.map -Wl,-Bsymbolic
HOST_LDFLAGS = -Wl,-rpath,'$$ORIGIN'
INSTALLED_LDFLAGS = -Wl,-rpath,'$$ORIGIN/$(CMOD_REL)'
$(B)/rpmsg.map: $(addprefix $(B)/,$(MODULE_OBJS) $(HOST_OBJS))
	$(NM) -u $(addprefix $(B)/,$(HOST_OBJS)) | awk 'NF == 2 { print $$2 }' | sort -u >$@.wanted
	{ echo '{ global: luaopen_rpmsg;'; \
	  $(NM) -g --defined-only $(addprefix $(B)/,$(MODULE_OBJS)) | awk 'NF == 3 { print $$3 }' | \
		sort -u | comm -12 - $@.wanted | sed 's/$$/;/'; \
	  echo 'local: *; };'; } >$@.new
	rm $@.wanted
	cmp -s $@.new $@ && rm $@.new || mv $@.new $@
$(B)/rpmsg-lua: $(addprefix $(B)/,$(HOST_OBJS)) $(B)/rpmsg.so $(B)/lua_files.h
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(HOST_LDFLAGS) -o $@ $(filter-out %.h,$^) $(LUA_LIBS) -lm -ldl
$(B)/install/rpmsg-lua: $(addprefix $(B)/,$(HOST_OBJS)) $(B)/rpmsg.so $(B)/lua_files.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(INSTALLED_LDFLAGS) -o $@ $(filter-out %.h,$^) $(LUA_LIBS) -lm -ldl
$(B)/rpmsg.so: $(addprefix $(B)/,$(MODULE_OBJS)) $(B)/rpmsg.map
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(MODULE_LDFLAGS) -o $@ $(filter %.o,$^)

# The same, under AddressSanitizer and UndefinedBehaviorSanitizer.
# The sanitized binary finds the Lua files of the plain build beside it.
asan: $(B)/asan/rpmsg-lua $(B)/asan/rpmsg.so $(B)/asan/rpmsg $(B)/asan/host
$(B)/asan/rpmsg $(B)/asan/host: | $(LUA_STAGED) $(B)/asan
	ln -sfn ../$(@F) $@
$(B)/asan/rpmsg-lua: $(addprefix $(B)/asan/,$(HOST_OBJS)) $(B)/asan/rpmsg.so
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(ALL_LDFLAGS) $(HOST_LDFLAGS) -o $@ $^ $(LUA_LIBS) -lm -ldl
$(B)/asan/rpmsg.so: $(addprefix $(B)/asan/,$(MODULE_OBJS)) $(B)/rpmsg.map
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(ALL_LDFLAGS) $(MODULE_LDFLAGS) -o $@ $(filter %.o,$^)

# C unit tests, built with the sanitizers.
# Each lives beside the layer it tests: tests/c/<layer>/test_NAME.c.
CTEST_SRCS := $(wildcard tests/c/*/test_*.c)
CTESTS := $(patsubst %.c,$(B)/asan/%,$(notdir $(CTEST_SRCS)))
vpath test_%.c $(sort $(dir $(CTEST_SRCS)))
ctests: $(CTESTS)
# line_reader and lua_pool are host objects, but pure C: their tests link them too.
CTEST_OBJS := $(addprefix $(B)/asan/,$(MODULE_OBJS) $(HOST_BINDINGS) line_reader.o lua_pool.o)
$(B)/asan/test_%: test_%.c tests/c/tap.h $(CTEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(ALL_LDFLAGS) $(I_host) -Itests/c -o $@ $< $(CTEST_OBJS) $(LUA_LIBS) -lm $(TEST_LDFLAGS)
# test_faults fails these calls on demand, to see each failure reported.
FAULTS_LDFLAGS := -Wl,--wrap=setsockopt,--wrap=fcntl,--wrap=fcntl64,--wrap=outq_push,--wrap=loop_timer_start
$(B)/asan/test_faults $(B)/ctest/test_faults: TEST_LDFLAGS = $(FAULTS_LDFLAGS)
# test_lua_pool fails the system's allocations on demand.
$(B)/asan/test_lua_pool $(B)/ctest/test_lua_pool: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=aligned_alloc

# The same C tests without the sanitizers, in $(B)/ctest/: for a cross build,
# whose tests run under qemu-user (tests/run-all cross).
ctests-plain: $(patsubst %.c,$(B)/ctest/%,$(notdir $(CTEST_SRCS)))
PLAIN_CTEST_OBJS := $(addprefix $(B)/,$(MODULE_OBJS) $(HOST_BINDINGS) line_reader.o lua_pool.o)
$(B)/ctest/test_%: test_%.c tests/c/tap.h $(PLAIN_CTEST_OBJS) | $(B)/ctest
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(I_host) -Itests/c -o $@ $< $(PLAIN_CTEST_OBJS) $(LUA_LIBS) -lm $(TEST_LDFLAGS)

# Fuzzing with libFuzzer. Each tests/fuzz/fuzz_NAME.c defines
# LLVMFuzzerTestOneInput and becomes $(B)/fuzz/fuzz_NAME, linked with every
# runtime object but main.o, built by clang with coverage and the sanitizers
# into $(B)/fuzz/obj/. Seeds: tests/fuzz/corpus/NAME/. `make fuzz` fuzzes each
# target for FUZZ_SECONDS; `tests/fuzz/run --smoke` (in `make test`) a few.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(CPPFLAGS) -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE $(LUA_CFLAGS) $(FUZZ_SAN)
FUZZ_OBJS    := $(addprefix $(B)/fuzz/obj/,$(MODULE_OBJS) $(filter-out main.o,$(HOST_OBJS)))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,$(B)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-build: $(FUZZ_TARGETS)
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run
$(B)/fuzz/obj/line_edit.o: FUZZ_CFLAGS += $(EDIT_CFLAGS)
# The library modules as a stock lua5.4 finds them: LUA_PATH=$(B)/?.lua.
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS) | $(LUA_STAGED)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(I_host) -Itests/fuzz \
		-DFUZZ_DIR='"$(CURDIR)/tests/fuzz"' -DFUZZ_LUA_PATH='"$(CURDIR)/$(B)/?.lua"' \
		$(LDFLAGS) -o $@ $< $(FUZZ_OBJS) $(LUA_LIBS) -lm -ldl

$(B) $(B)/asan $(B)/fuzz/obj $(B)/ctest: | $(SYSROOT_STAMP)
	mkdir -p $@

ifneq ($(SYSROOT_STAMP),)
$(SYSROOT_STAMP): runtime/dist/cross-sysroot
	runtime/dist/cross-sysroot $(ARCH) $(patsubst %/,%,$(dir $(SYSROOT)))
	touch $@
endif

ifneq ($(ARCH),)
# For tests/run-all cross: $(B)/qemu/ holds rpmsg-lua and the target's lua5.4,
# each run by qemu-user with the sysroot (no binfmt_misc registration needed),
# beside the target's rpmsg.so and the Lua files, so RPMSG_BUILD=$(B)/qemu
# runs the specs against the cross build.
.PHONY: qemu-wrappers
qemu-wrappers: $(B)/rpmsg-lua $(B)/rpmsg.so $(LUA_STAGED)
	mkdir -p $(B)/qemu
	printf '#!/bin/sh\nexec %s -L %s %s "$$@"\n' $(QEMU) $(SYSROOT) $(CURDIR)/$(B)/rpmsg-lua >$(B)/qemu/rpmsg-lua
	printf '#!/bin/sh\nexec %s -L %s %s "$$@"\n' $(QEMU) $(SYSROOT) $(SYSROOT)/usr/bin/lua5.4 >$(B)/qemu/lua5.4
	chmod +x $(B)/qemu/rpmsg-lua $(B)/qemu/lua5.4
	ln -sf ../rpmsg.so $(B)/qemu/rpmsg.so
	ln -sfn ../rpmsg $(B)/qemu/rpmsg
endif

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
	tests/install-deps $(if $(ARCH),cross,build)
test-deps:
	tests/install-deps test

# The echo example against the simulated co-processor: no board needed.
run: all
	$(B)/rpmsg-lua --sim scripts/sim/echo_fw.lua scripts/echo.lua

test: all asan ctests
	tests/run-all

test-kernel: all
	tests/run-all kernel

# The specs that start rpmsg-lua, each rpmsg-lua under valgrind: any memory
# error or definite leak fails; ends with "valgrind: clean" or the reports.
valgrind: all
	tests/run-valgrind

bench: all
	tests/bench/run
	tests/bench/trace_cost   # what the trace's hooks cost, off and on

# Everything a board needs, under DESTDIR: the program, the module and the
# library's Lua files where the target's Lua looks, the host's Lua files, the
# service files of runtime/dist/ (a template unit
# whose instance names a script in /etc/rpmsg-lua/, the udev rule, the
# sysusers entry for the rpmsg group), the man page, the bash completion,
# and the examples with their simulated firmware.
DIST := runtime/dist
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_CMOD) $(DESTDIR)$(LUA_LMOD)/rpmsg \
		$(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(UDEVDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples/sim
	install -m 755 $(B)/install/rpmsg-lua $(DESTDIR)$(BINDIR)/rpmsg-lua
	install -m 644 $(B)/rpmsg.so $(DESTDIR)$(LUA_CMOD)/rpmsg.so
	install -m 644 $(LUA_LIB_NAMES:%=$(B)/rpmsg/%.lua) $(DESTDIR)$(LUA_LMOD)/rpmsg/
	install -m 644 $(LUA_HOST_NAMES:%=$(B)/host/%.lua) $(DESTDIR)$(PKGDATADIR)/
	install -m 644 $(DIST)/rpmsg-lua@.service $(DESTDIR)$(UNITDIR)/rpmsg-lua@.service
	install -m 644 $(DIST)/60-rpmsg-lua.rules $(DESTDIR)$(UDEVDIR)/60-rpmsg-lua.rules
	install -m 644 $(DIST)/rpmsg-lua.sysusers $(DESTDIR)$(SYSUSERSDIR)/rpmsg-lua.conf
	install -m 644 $(DIST)/rpmsg-lua.1 $(DESTDIR)$(MANDIR)/man1/rpmsg-lua.1
	install -m 644 $(DIST)/rpmsg-lua.bash-completion $(DESTDIR)$(BASHCOMPDIR)/rpmsg-lua
	install -m 644 scripts/*.lua $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 scripts/sim/*.lua $(DESTDIR)$(DOCDIR)/examples/sim/

# A Debian package with debhelper: build/deb/rpmsg-lua_VERSION_ARCH.deb, for
# this machine or (ARCH=arm64|armhf) cross-built against the sysroot. The
# debian/ tree is assembled from runtime/dist/debian/ in a copy of the
# sources under build/deb/ARCH/; `make lintian` checks the result.
DEB_ARCH := $(or $(ARCH),$(shell dpkg --print-architecture 2>/dev/null))
DEB_DIR  := build/deb/$(DEB_ARCH)
DEB_TREE := $(DEB_DIR)/rpmsg-lua-$(VERSION)
DEB      := build/deb/rpmsg-lua_$(VERSION)_$(DEB_ARCH).deb
DEB_DATE := $(shell git log -1 --format=%aD 2>/dev/null || date -R)
DEB_SRCS := Makefile LICENSE README.md $(wildcard runtime/*/* runtime/dist/debian/*/* lua/*/*.lua scripts/*.lua scripts/sim/*.lua)
.PHONY: deb lintian version
deb: $(DEB)
	@echo $(DEB)
version:
	@echo $(VERSION)
$(DEB): $(DEB_SRCS) | $(SYSROOT_STAMP)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_TREE)
	cp -a Makefile LICENSE README.md lua runtime scripts $(DEB_TREE)/
	cp -a runtime/dist/debian $(DEB_TREE)/debian
	cp runtime/dist/rpmsg-lua.sysusers $(DEB_TREE)/debian/rpmsg-lua.sysusers
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@DATE@/$(DEB_DATE)/' \
		runtime/dist/debian/changelog.in >$(DEB_TREE)/debian/changelog
	rm $(DEB_TREE)/debian/changelog.in
	sed -i 's/@YEAR@/$(word 4,$(DEB_DATE))/' $(DEB_TREE)/debian/copyright
	cd $(DEB_TREE) && RPMSG_SYSROOT=$(SYSROOT) dpkg-buildpackage -b -us -uc \
		$(if $(ARCH),-a$(ARCH) -d) >../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	mv $(DEB_DIR)/rpmsg-lua_$(VERSION)_$(DEB_ARCH).deb $(DEB)
lintian: $(DEB)
	lintian --fail-on error,warning --info $(DEB)

# The module alone, with its Lua library modules, for luarocks
# (runtime/dist/rpmsg-lua-*.rockspec).
.PHONY: module install-module
module: $(B)/rpmsg.so $(LUA_LIB_NAMES:%=$(B)/rpmsg/%.lua)
install-module: module
	install -d $(DESTDIR)$(LUA_CMOD) $(DESTDIR)$(LUA_LMOD)/rpmsg
	install -m 644 $(B)/rpmsg.so $(DESTDIR)$(LUA_CMOD)/rpmsg.so
	install -m 644 $(LUA_LIB_NAMES:%=$(B)/rpmsg/%.lua) $(DESTDIR)$(LUA_LMOD)/rpmsg/

clean:
	rm -rf $(B)
