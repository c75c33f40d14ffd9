# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034  # variables are for the sourcing scripts
# tests/kernel/common.sh: helpers shared by build-modules and run-in-guest.
# Sourced, not run.  Owns: where things live (project dir, build/kernel/),
# which Debian 6.1 kernel we build against and boot, and the "which package
# is missing" messages.

KERNEL_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_DIR=$(cd "$KERNEL_TEST_DIR/../.." && pwd -P)
BUILD_DIR=$PROJECT_DIR/build/kernel
# The installed modules: a stable place for run-in-guest and for tests.
MODULES_DIR=$BUILD_DIR/modules
# What the guest loads, in order, for each backend (see run-in-guest):
#   virtio    the full stack: the upstream remoteproc core, virtio_rpmsg_bus,
#             rpmsg_ns, rpmsg_char, rpmsg_ctrl, rpmsg_tty and our fake remote
#             processor (virtio and virtio_ring are Debian's, loaded with 9p)
#   loopback  rpmsg_core, rpmsg_char, rpmsg_ctrl and our loopback backend
VIRTIO_MODULES="rpmsg_core rpmsg_ns rpmsg_char rpmsg_ctrl rpmsg_tty virtio_rpmsg_bus remoteproc fakerproc"
LOOPBACK_MODULES="rpmsg_core rpmsg_char rpmsg_ctrl rpmsg_loopback"
RPMSG_MODULES="rpmsg_core rpmsg_ns rpmsg_char rpmsg_ctrl rpmsg_tty virtio_rpmsg_bus remoteproc fakerproc rpmsg_loopback"

PROG=${PROG:-$(basename "$0")}
# run-in-guest sets this to 125 so harness failures are not mistaken for the
# command's own exit status.
DIE_STATUS=${DIE_STATUS:-1}

die() {
	echo "$PROG: error: $*" >&2
	exit "$DIE_STATUS"
}

note() {
	echo "$PROG: $*" >&2
}

# need_cmd COMMAND DEBIAN-PACKAGE: fail naming the package to install.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found: install the Debian package '$2' (apt-get install $2)"
}

# outdated OUTPUT INPUT...: true when OUTPUT is missing or older than an input.
outdated() {
	local out=$1 in
	shift
	[ -e "$out" ] || return 0
	for in in "$@"; do
		[ "$in" -nt "$out" ] && return 0
	done
	return 1
}

# Pick the Debian 6.1 kernel to build against and boot.  The host may run any
# kernel (CI, containers), so never use `uname -r`: take RPMSG_KVER if set,
# else the newest 6.1.x-amd64 that has a headers tree.  Sets KVER and KHDR.
pick_kernel() {
	local cand v
	if [ -n "${RPMSG_KVER:-}" ]; then
		KVER=$RPMSG_KVER
	else
		cand=$(
			for v in /lib/modules/6.1.*-amd64/build /usr/src/linux-headers-6.1.*-amd64; do
				[ -e "$v/Makefile" ] || continue
				case $v in
				/lib/modules/*) v=${v%/build}; echo "${v#/lib/modules/}" ;;
				*) echo "${v#/usr/src/linux-headers-}" ;;
				esac
			done | sort -uV | tail -n 1
		)
		[ -n "$cand" ] ||
			die "no Debian 6.1 amd64 kernel headers found: install the Debian package 'linux-headers-amd64' (Debian 12)"
		KVER=$cand
	fi
	if [ -e "/lib/modules/$KVER/build/Makefile" ]; then
		KHDR=/lib/modules/$KVER/build
	elif [ -e "/usr/src/linux-headers-$KVER/Makefile" ]; then
		KHDR=/usr/src/linux-headers-$KVER
	else
		die "no headers for kernel $KVER: install the Debian package 'linux-headers-$KVER' (or linux-headers-amd64)"
	fi
}
