# SPDX-License-Identifier: MIT
# A Yocto recipe for rpmsg-lua, modelled on meta-oe's luaposix recipe: put it
# in a layer of yours next to meta-oe (which provides lua and lua-native).
# A documented example: CI does not build it (no Yocto tree here). Point
# SRC_URI and SRCREV at your clone or mirror of the repository.
SUMMARY = "Lua 5.4 host for Linux RPMsg co-processor channels"
DESCRIPTION = "rpmsg-lua binds the RPMsg character devices into Lua 5.4: \
one event loop, handler scripts, hot reload, a REPL and a console."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://LICENSE;md5=91d57dac186ca3c803ea646392ebc0b6"

SRC_URI = "git:///path/to/rpmsg-lua;protocol=file;branch=main"
SRCREV = "${AUTOREV}"
PV = "0.1.0+git${SRCPV}"
S = "${WORKDIR}/git"

# lua-native writes help()'s API table from README.md at build time
# (runtime/host/apidoc.lua). meta-oe's Lua
# must keep 64-bit integers (the build refuses LUA_32BITS).
DEPENDS = "lua lua-native libedit"

inherit pkgconfig systemd useradd

# meta-oe ships lua.pc, and its native interpreter is `lua`. CC, CFLAGS,
# CPPFLAGS and LDFLAGS come from the environment bitbake sets up. WERROR=0:
# the toolchain may be newer than the one the project tests with.
EXTRA_OEMAKE = "\
    PREFIX=${prefix} LUA_PKG=lua LUA=lua WERROR=0 \
    LUA_CMOD=${libdir}/lua/5.4 LUA_LMOD=${datadir}/lua/5.4 \
    UNITDIR=${systemd_system_unitdir} \
    UDEVDIR=${nonarch_base_libdir}/udev/rules.d \
    SYSUSERSDIR=${nonarch_libdir}/sysusers.d \
"

do_compile() {
    oe_runmake all
}

do_install() {
    oe_runmake install DESTDIR=${D}
}

# The udev rule gives the devices to group rpmsg; the unit runs as user rpmsg.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system rpmsg"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir /nonexistent \
    --shell /sbin/nologin --gid rpmsg rpmsg"

SYSTEMD_SERVICE:${PN} = "rpmsg-lua@.service"
SYSTEMD_AUTO_ENABLE = "disable"

# The Lua files: the library modules where lua finds them, the host's own
# in ${datadir}/rpmsg-lua (the binary reads both, never through LUA_PATH).
FILES:${PN} += "\
    ${libdir}/lua/5.4 \
    ${datadir}/lua/5.4 \
    ${datadir}/rpmsg-lua \
    ${nonarch_base_libdir}/udev/rules.d \
    ${nonarch_libdir}/sysusers.d \
    ${datadir}/bash-completion \
"
