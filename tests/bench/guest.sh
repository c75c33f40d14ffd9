#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/bench/guest.sh: the in-guest part of `make bench`, run by
# tests/bench/run as `tests/kernel/run-in-guest sh tests/bench/guest.sh
# ROUNDS WINDOWS BYTES WARM_MS MEASURE_MS [RPMSG_LUA]` (from the project
# directory; RPMSG_LUA is the host binary to measure, build/rpmsg-lua by
# default).
#
# Alternates the C baseline (build/bench/guest_echo) and rpmsg-lua
# (tests/bench/guest_echo.lua) ROUNDS times for each window in WINDOWS (a
# comma-separated list), on the full stack (run-in-guest's virtio backend:
# remoteproc, virtio_rpmsg_bus, rpmsg_ctrl, rpmsg_char), against the echo
# of the fake remote processor's firmware on its fw-echo channel. Each run
# prints one "guest impl=..." line; tests/bench/run takes the medians.
# Under emulation only their ratio means something.
set -u
rounds=${1:-3}
windows=${2:-1,16}
size=${3:-64}
warm_ms=${4:-300}
measure_ms=${5:-1000}
host=${6:-build/rpmsg-lua}
warm_s=$(awk "BEGIN { print $warm_ms / 1000 }")
measure_s=$(awk "BEGIN { print $measure_ms / 1000 }")

[ -c /dev/rpmsg_ctrl0 ] || { echo "guest error: no /dev/rpmsg_ctrl0"; exit 1; }
ls /sys/bus/rpmsg/devices/ 2>/dev/null | grep -q '\.fw-echo\.' ||
	{ echo "guest error: no fw-echo channel (not the full stack?)"; exit 1; }
echo "guest info kernel=$(uname -r) cpus=$(nproc) stack=remoteproc+virtio_rpmsg_bus firmware=fake-r5f"
status=0
r=1
while [ "$r" -le "$rounds" ]; do
	for w in $(echo "$windows" | tr , ' '); do
		build/bench/guest_echo -w "$w" -s "$size" -u "$warm_s" -d "$measure_s" || status=1
		"$host" tests/bench/guest_echo.lua "$w" "$size" "$warm_ms" "$measure_ms" ||
			status=1
	done
	r=$((r + 1))
done
exit $status
