/* SPDX-License-Identifier: MIT */
/* What rpmsg.on_remoteproc takes from the kernel (runtime/device/
 * rproc_events.c): which uevents concern a remoteproc, and the crashed
 * core's name in remoteproc's kernel log record. */
#include "rproc_events.h"
#include "tap.h"

#include <string.h>

#define UEVENT(s) rproc_uevent_relevant(s, sizeof s - 1)

int main(void)
{
	CHECK(UEVENT("remove@/devices/platform/rpmsg-lua-fakerproc/remoteproc/remoteproc0/remoteproc0#vdev0buffer/virtio0\0"
		     "ACTION=remove\0DEVPATH=/devices/platform/rpmsg-lua-fakerproc/remoteproc/remoteproc0/"
		     "remoteproc0#vdev0buffer/virtio0\0SUBSYSTEM=virtio\0SEQNUM=1200\0"),
	      "a virtio device under a remoteproc is relevant");
	CHECK(UEVENT("add@/devices/virtual/devcoredump/devcd1\0ACTION=add\0DEVPATH=/devices/virtual/devcoredump/devcd1\0"
		     "SUBSYSTEM=devcoredump\0SEQNUM=7\0"),
	      "a coredump is relevant");
	CHECK(!UEVENT("add@/devices/virtual/net/lo\0ACTION=add\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0"),
	      "a network device is not");
	CHECK(!UEVENT("change@/x\0ACTION=change\0DEVPATH=/x\0SUBSYSTEM=block\0/remoteproc"),
	      "/remoteproc outside DEVPATH does not count");
	CHECK(!rproc_uevent_relevant("DEVPATH=/devices/remotepro", 26), "a cut-off DEVPATH is not read past its end");

	char name[64];
	const char *rec = "3,812,93458123,-;remoteproc remoteproc0: handling crash #2 in fake-r5f\n";
	CHECK(rproc_kmsg_crash(rec, strlen(rec), name, sizeof name) == 1 && strcmp(name, "fake-r5f") == 0,
	      "the crashed core's name from \"handling crash #N in NAME\"");
	rec = "3,811,93458000,-;remoteproc remoteproc0: crash detected in fake-r5f: type fatal error\n";
	CHECK(rproc_kmsg_crash(rec, strlen(rec), name, sizeof name) == 0,
	      "\"crash detected\" is not taken: the handling line follows it once per crash");
	rec = "6,813,93459000,-;remoteproc remoteproc0: powering up fake-r5f\n";
	CHECK(rproc_kmsg_crash(rec, strlen(rec), name, sizeof name) == 0, "other records are not crashes");
	char small[4];
	rec = "3,814,1,-;remoteproc remoteproc1: handling crash #1 in a-very-long-name\n";
	CHECK(rproc_kmsg_crash(rec, strlen(rec), small, sizeof small) == 0, "a name longer than the buffer is refused, not cut");
	return tap_done();
}
