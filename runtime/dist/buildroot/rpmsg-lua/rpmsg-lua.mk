################################################################################
#
# rpmsg-lua
#
# SPDX-License-Identifier: MIT
# A Buildroot generic package, a documented example: CI does not build it (no
# Buildroot tree here). Copy this folder to package/rpmsg-lua/ (or to a
# BR2_EXTERNAL tree) and source its Config.in from package/Config.in; point
# RPMSG_LUA_SITE at your clone, or build from a checkout with
# RPMSG_LUA_OVERRIDE_SRCDIR in local.mk.
#
################################################################################

RPMSG_LUA_VERSION = 0.1.0
RPMSG_LUA_SITE = /path/to/rpmsg-lua
RPMSG_LUA_SITE_METHOD = local
RPMSG_LUA_LICENSE = MIT
RPMSG_LUA_LICENSE_FILES = LICENSE
# host-lua writes help()'s API table from README.md at build time.
RPMSG_LUA_DEPENDENCIES = lua host-lua host-pkgconf \
	$(if $(BR2_PACKAGE_LIBEDIT),libedit)

# Buildroot's Lua is `lua.pc`; WERROR=0: Buildroot's compiler may be newer
# than the one the project tests with.
RPMSG_LUA_MAKE_OPTS = \
	$(TARGET_CONFIGURE_OPTS) \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)" \
	LUA_PKG=lua LUA=$(HOST_DIR)/bin/lua WERROR=0 \
	PREFIX=/usr LUA_CMOD=/usr/lib/lua/$(LUAINTERPRETER_ABIVER) \
	LUA_LMOD=/usr/share/lua/$(LUAINTERPRETER_ABIVER)

define RPMSG_LUA_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(RPMSG_LUA_MAKE_OPTS) all
endef

define RPMSG_LUA_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(RPMSG_LUA_MAKE_OPTS) \
		DESTDIR=$(TARGET_DIR) install
endef

# The udev rule gives the devices to group rpmsg; the unit runs as rpmsg.
define RPMSG_LUA_USERS
	rpmsg -1 rpmsg -1 * - - - rpmsg-lua service
endef

$(eval $(generic-package))
