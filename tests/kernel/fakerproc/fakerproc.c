// SPDX-License-Identifier: GPL-2.0
/*
 * fakerproc - a fake remote processor for the rpmsg-lua kernel test suite.
 *
 * Owned by tests/kernel/.  It lets the real, unmodified remoteproc core,
 * remoteproc_virtio, virtio_rpmsg_bus, rpmsg_ns, rpmsg_char, rpmsg_ctrl and
 * rpmsg_tty run under QEMU with no co-processor:
 *
 *  - a platform device "rpmsg-lua-fakerproc" and an rproc "fake-r5f" under
 *    it, with our own rproc_ops.  The firmware file (/lib/firmware/
 *    rpmsg-lua-fakefw.bin in the guest) can be any bytes: parse_fw and
 *    find_loaded_rsc_table supply a resource table with one vdev
 *    (VIRTIO_ID_RPMSG, VIRTIO_RPMSG_F_NS, two vrings), load does nothing,
 *    start/stop start and stop the "firmware", kick hands the vrings to it;
 *  - the firmware runs in the kernel as a work item, on the *device* side of
 *    the vrings, as rpmsg-lite or OpenAMP would on a real core: it takes the
 *    buffers the host sends on vring 1, reads the 16-byte RPMsg header, and
 *    answers into the host's receive buffers on vring 0.  Its memory is the
 *    loaded resource table (our own buffer, where remoteproc writes the vring
 *    addresses and the virtio status) and the buffers the descriptors point
 *    to (physical addresses: no IOMMU in the guest);
 *  - it echoes every message back to its sender, from the address it was
 *    sent to, on any address, and at start announces rpmsg-raw, rpmsg-tty
 *    and fw-echo through the name service (address 53).
 *
 * Knobs for the tests (/sys/module/fakerproc/parameters/):
 *   stall=1     stop taking the host's buffers: its transmit ring fills
 *               (EAGAIN from rpmsg_char).  stall=0 resumes.
 *   delay_ms=N  wait N ms before each answer.
 *   crash=1     the firmware dies (stops answering) and the core reports it
 *               through rproc_report_crash(); what follows is remoteproc's
 *               recovery policy (/sys/class/remoteproc/remoteprocN/recovery).
 *   last_src    (read only) the source address of the host's last message.
 *   vring_num   descriptors per vring (load time only; default 256 as on
 *               most boards; virtio_rpmsg_bus then uses 256 TX buffers).
 *   start_detached=1  (load time) the core is already running when the
 *               module loads, as if a bootloader had started it: the rproc
 *               registers in the "detached" state, without auto boot, and
 *               writing "start" attaches to it (rproc_ops attach, with the
 *               resource table the "firmware" left in its memory); an
 *               attached core can be detached again (rproc_ops detach).
 *   trace_line=TEXT   (write only) the firmware prints TEXT as a line of
 *               its trace buffer.
 *
 * The firmware also keeps a trace buffer (a RSC_TRACE resource, so
 * debugfs remoteproc/remoteprocN/trace0 exists): it logs its start,
 * announcements, attach, detach, crash, and the trace_line knob.  The
 * buffer is also the one coredump segment (the core's "memory"), so a
 * crash with coredump enabled leaves a devcoredump holding the trace.
 */

#include <linux/delay.h>
#include <linux/elf.h>
#include <linux/firmware.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/rpmsg/ns.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

/* rproc_vq_interrupt(): exported, but declared only here (in the extracted
 * source, not in the headers package). */
#include "remoteproc_internal.h"

#define FW_NAME		"rpmsg-lua-fakefw.bin"
#define RPROC_NAME	"fake-r5f"

/* From virtio_rpmsg_bus.c (not in any header). */
#define VIRTIO_RPMSG_F_NS	0

/* The 16-byte header of every RPMsg message, little endian. */
struct fw_rpmsg_hdr {
	__le32 src;
	__le32 dst;
	__le32 reserved;
	__le16 len;
	__le16 flags;
	u8 data[];
} __packed;

/* The resource table the "firmware" carries: one vdev with two vrings,
 * and a trace buffer. */
struct fw_rsc_table {
	struct resource_table hdr;
	u32 offset[2];
	struct fw_rsc_hdr vdev_hdr;
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
	struct fw_rsc_hdr trace_hdr;
	struct fw_rsc_trace trace;
} __packed;

/* The trace buffer's device address, as the firmware sees it; da_to_va
 * maps it to fw_trace. */
#define TRACE_DA	0x10000000
#define TRACE_LEN	4096

/* The services announced at start.  Addresses are the firmware's own. */
static const struct {
	const char *name;
	u32 addr;
} services[] = {
	{ "rpmsg-raw", 40 },	/* rpmsg_char: /dev/rpmsgN */
	{ "rpmsg-tty", 41 },	/* rpmsg_tty: /dev/ttyRPMSGN */
	{ "fw-echo", 42 },	/* no driver binds it */
};

enum { RX = 0, TX = 1 };	/* vring 0: host receives; vring 1: host sends */

static int vring_num = 256;
module_param(vring_num, int, 0444);
MODULE_PARM_DESC(vring_num, "descriptors per vring, a power of 2 (default 256)");

static bool start_detached;
module_param(start_detached, bool, 0444);
MODULE_PARM_DESC(start_detached, "load time: the core runs already (a bootloader started it): attach, don't boot");

static int delay_ms;
module_param(delay_ms, int, 0644);
MODULE_PARM_DESC(delay_ms, "wait this long before each answer (default 0)");

/* What only the remote sees: the source address of the host's last message
 * (a dynamic address is not in sysfs, which shows -1). */
static unsigned int last_src;
module_param(last_src, uint, 0444);
MODULE_PARM_DESC(last_src, "source address of the last message from the host");

static struct {
	struct platform_device *pdev;
	struct rproc *rproc;
	struct workqueue_struct *wq;	/* ordered: one firmware "core" */
	struct work_struct work;

	struct mutex lock;		/* the firmware state below */
	bool running;			/* between start and stop (or crash) */
	bool announced;			/* name-service messages sent */
	bool stalled;			/* the "stall" knob */
	struct fw_rsc_table *table;	/* the loaded table: "device memory" */
	struct vring vr[2];
	bool vr_ready;
	u16 last_avail[2];		/* next avail entry we will take */

	spinlock_t trace_lock;
	char trace[TRACE_LEN];		/* the firmware's log: NUL-terminated text */
	size_t trace_len;
} fw;

/* ---- the firmware's trace buffer ------------------------------------------ */

/* Appends a line; a full buffer starts over, as a small firmware's would. */
static __printf(1, 2) void fw_trace(const char *fmt, ...)
{
	char line[160];
	unsigned long flags;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	spin_lock_irqsave(&fw.trace_lock, flags);
	if (fw.trace_len + n >= TRACE_LEN)
		fw.trace_len = 0;
	memcpy(fw.trace + fw.trace_len, line, n);
	fw.trace_len += n;
	fw.trace[fw.trace_len] = '\0';
	spin_unlock_irqrestore(&fw.trace_lock, flags);
}

static void fw_trace_clear(void)
{
	unsigned long flags;

	spin_lock_irqsave(&fw.trace_lock, flags);
	fw.trace_len = 0;
	fw.trace[0] = '\0';
	spin_unlock_irqrestore(&fw.trace_lock, flags);
}

/* ---- the firmware: the device side of the vrings ------------------------ */

static u16 v16(__virtio16 x) { return le16_to_cpu((__force __le16)x); }
static u32 v32(__virtio32 x) { return le32_to_cpu((__force __le32)x); }
static u64 v64(__virtio64 x) { return le64_to_cpu((__force __le64)x); }

/* True once the host's virtio driver is ready (DRIVER_OK, vrings placed).
 * Read at every step: the host resets the status before it tears the
 * vrings down. */
static bool host_ready(void)
{
	struct fw_rsc_vdev *vdev = &fw.table->vdev;
	int i;

	if (!(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		return false;
	if (fw.vr_ready)
		return true;
	for (i = 0; i < 2; i++) {
		struct fw_rsc_vdev_vring *r = &fw.table->vring[i];

		if (r->da == FW_RSC_ADDR_ANY || !r->da)
			return false;
		/* da is the DMA address remoteproc gave the vring: with no
		 * IOMMU, a physical address. */
		vring_init(&fw.vr[i], r->num, phys_to_virt(r->da), r->align);
		fw.last_avail[i] = 0;
	}
	fw.vr_ready = true;
	return true;
}

/* The next buffer the host made available on vring @q, or NULL. */
static void *peek(int q, u16 *head, u32 *len)
{
	struct vring *vr = &fw.vr[q];
	u16 avail_idx = v16(READ_ONCE(vr->avail->idx));
	struct vring_desc *d;

	if (avail_idx == fw.last_avail[q])
		return NULL;
	rmb();	/* read the ring entry after the index */
	*head = v16(vr->avail->ring[fw.last_avail[q] % vr->num]);
	if (*head >= vr->num)
		return NULL;
	d = &vr->desc[*head];
	*len = v32(d->len);
	return phys_to_virt(v64(d->addr));
}

/* Give buffer @head back to the host through the used ring of vring @q. */
static void put_used(int q, u16 head, u32 len)
{
	struct vring *vr = &fw.vr[q];
	u16 used_idx = v16(vr->used->idx);

	vr->used->ring[used_idx % vr->num].id = cpu_to_le32(head);
	vr->used->ring[used_idx % vr->num].len = cpu_to_le32(len);
	wmb();	/* the entry before the index */
	WRITE_ONCE(vr->used->idx, (__force __virtio16)cpu_to_le16(used_idx + 1));
	fw.last_avail[q]++;
}

/* Write one message into the host's next receive buffer. */
static bool send_to_host(u32 src, u32 dst, const void *data, u16 len)
{
	struct fw_rpmsg_hdr *h;
	u16 head;
	u32 size;

	h = peek(RX, &head, &size);
	if (!h || size < sizeof(*h) + len)
		return false;
	h->src = cpu_to_le32(src);
	h->dst = cpu_to_le32(dst);
	h->reserved = 0;
	h->len = cpu_to_le16(len);
	h->flags = 0;
	memcpy(h->data, data, len);
	put_used(RX, head, sizeof(*h) + len);
	return true;
}

/* The "interrupt" to the host for vring @q (a mailbox on a real SoC). */
static void notify_host(int q)
{
	if (host_ready())
		rproc_vq_interrupt(fw.rproc, fw.table->vring[q].notifyid);
}

static void fw_work(struct work_struct *work)
{
	bool rx_used = false, tx_used = false, again = false, waited = false;
	int budget = 64, i;

	mutex_lock(&fw.lock);
	if (!fw.running || !host_ready())
		goto out;

	/* At start: announce our services, as rpmsg-lite does once the host
	 * has set DRIVER_OK. */
	if (!fw.announced) {
		for (i = 0; i < ARRAY_SIZE(services); i++) {
			struct rpmsg_ns_msg ns = {
				/* the host is little endian, as is virtio */
				.addr = (__force __rpmsg32)cpu_to_le32(services[i].addr),
				.flags = (__force __rpmsg32)cpu_to_le32(RPMSG_NS_CREATE),
			};

			strscpy(ns.name, services[i].name, sizeof(ns.name));
			if (!send_to_host(services[i].addr, RPMSG_NS_ADDR, &ns, sizeof(ns)))
				goto out;	/* no receive buffers yet */
		}
		fw.announced = true;
		rx_used = true;
		fw_trace("fakefw: announced rpmsg-raw, rpmsg-tty, fw-echo");
	}

	/* Echo what the host sent: from the address it went to, back to the
	 * address it came from. */
	while (!fw.stalled) {
		struct fw_rpmsg_hdr *h;
		u16 head, len;
		u32 size;

		if (!budget--) {
			again = true;	/* let the host run its callbacks */
			break;
		}
		h = peek(TX, &head, &size);
		if (!h)
			break;
		len = le16_to_cpu(h->len);
		if (size < sizeof(*h) || len > size - sizeof(*h)) {
			pr_err("fakerproc: bad buffer from the host (%u bytes, len %u)\n", size, len);
			put_used(TX, head, 0);
			tx_used = true;
			continue;
		}
		if (le32_to_cpu(h->dst) != RPMSG_NS_ADDR) {
			u32 delay = READ_ONCE(delay_ms);

			WRITE_ONCE(last_src, le32_to_cpu(h->src));
			if (delay && !waited) {
				/* Take the message only after the delay: a
				 * stop meanwhile finds it still unanswered. */
				mutex_unlock(&fw.lock);
				msleep(delay);
				mutex_lock(&fw.lock);
				if (!fw.running || !host_ready())
					goto out;
				waited = true;
				continue;	/* look at the ring again */
			}
			waited = false;
			if (!send_to_host(le32_to_cpu(h->dst), le32_to_cpu(h->src),
					  h->data, len))
				break;	/* the host has no receive buffer: it
					 * kicks us when it gives one back */
			rx_used = true;
		}
		/* else: a name-service message from the host; nothing to do */
		put_used(TX, head, 0);
		tx_used = true;
	}

	if (tx_used)
		notify_host(TX);
	if (rx_used)
		notify_host(RX);
	if (again)
		queue_work(fw.wq, &fw.work);
out:
	mutex_unlock(&fw.lock);
}

/* ---- rproc_ops ----------------------------------------------------------- */

static const struct fw_rsc_table table_template = {
	.hdr = { .ver = 1, .num = 2 },
	.offset = { offsetof(struct fw_rsc_table, vdev_hdr),
		    offsetof(struct fw_rsc_table, trace_hdr) },
	.vdev_hdr = { .type = RSC_VDEV },
	.vdev = {
		.id = VIRTIO_ID_RPMSG,
		.dfeatures = BIT(VIRTIO_RPMSG_F_NS),
		.num_of_vrings = 2,
	},
	.vring = {
		{ .da = FW_RSC_ADDR_ANY, .align = PAGE_SIZE },
		{ .da = FW_RSC_ADDR_ANY, .align = PAGE_SIZE },
	},
	.trace_hdr = { .type = RSC_TRACE },
	.trace = { .da = TRACE_DA, .len = TRACE_LEN, .name = "fakefw-trace" },
};

static void table_init(struct fw_rsc_table *t)
{
	memcpy(t, &table_template, sizeof(*t));
	t->vring[0].num = vring_num;
	t->vring[1].num = vring_num;
}

/* The firmware's memory as remoteproc reads it: the trace buffer (for
 * debugfs trace0 and the coredump), nothing else. */
static void *fake_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem)
{
	if (da < TRACE_DA || len > TRACE_LEN || da - TRACE_DA > TRACE_LEN - len)
		return NULL;
	if (is_iomem)
		*is_iomem = false;
	return fw.trace + (da - TRACE_DA);
}

/* Any bytes make a firmware: the resource table is ours. */
static int fake_parse_fw(struct rproc *rproc, const struct firmware *f)
{
	struct fw_rsc_table *t;

	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	table_init(t);
	/* what a crash dumps; cleaned up with the other resources at stop */
	rproc_coredump_add_segment(rproc, TRACE_DA, TRACE_LEN);
	/* remoteproc frees the cached table at shutdown. */
	rproc->cached_table = (struct resource_table *)t;
	rproc->table_ptr = rproc->cached_table;
	rproc->table_sz = sizeof(*t);
	return 0;
}

/* Where the "loaded" firmware keeps its table: remoteproc copies the cached
 * one there before start, and from then on writes vring addresses and the
 * virtio status into it, where the firmware reads them. */
static struct resource_table *fake_find_loaded_rsc_table(struct rproc *rproc,
							  const struct firmware *f)
{
	return (struct resource_table *)fw.table;
}

static int fake_load(struct rproc *rproc, const struct firmware *f)
{
	return 0;
}

static void fw_halt(void)
{
	mutex_lock(&fw.lock);
	fw.running = false;
	fw.vr_ready = false;
	mutex_unlock(&fw.lock);
	cancel_work_sync(&fw.work);
}

/*
 * remoteproc stops its subdevices (the virtio device: virtio_rpmsg_bus
 * frees the virtqueues) before it calls ops->stop, and a "firmware" still
 * running then would interrupt into freed virtqueues.  On a SoC the mailbox
 * driver has the same race; here we close it: this subdevice is added after
 * the vdev's at every start, so it is stopped first, and halts the firmware
 * before the host tears the vrings down.
 */
static void fw_subdev_stop(struct rproc_subdev *subdev, bool crashed)
{
	fw_halt();
}

static struct rproc_subdev fw_subdev = { .stop = fw_subdev_stop };

static void fw_run(void)
{
	mutex_lock(&fw.lock);
	fw.running = true;
	fw.announced = false;
	fw.vr_ready = false;
	mutex_unlock(&fw.lock);
	rproc_add_subdev(fw.rproc, &fw_subdev);
}

static int fake_start(struct rproc *rproc)
{
	fw_trace_clear();	/* a fresh boot: the firmware's memory is new */
	fw_trace("fakefw: started");
	fw_run();
	return 0;
}

/* A core that runs already: the host takes the table it left in memory
 * (get_loaded_rsc_table), and the firmware starts talking again. */
static int fake_attach(struct rproc *rproc)
{
	rproc_coredump_add_segment(rproc, TRACE_DA, TRACE_LEN);
	fw_trace("fakefw: host attached");
	fw_run();
	return 0;
}

static int fake_detach(struct rproc *rproc)
{
	fw_halt();
	rproc_remove_subdev(rproc, &fw_subdev);
	fw_trace("fakefw: host detached, running on");
	return 0;
}

static struct resource_table *fake_get_loaded_rsc_table(struct rproc *rproc, size_t *size)
{
	*size = sizeof(*fw.table);
	return (struct resource_table *)fw.table;
}

static int fake_stop(struct rproc *rproc)
{
	fw_halt();
	fw_trace("fakefw: stopped");
	/* Taken out again: the next start adds it after the new vdev. */
	rproc_remove_subdev(rproc, &fw_subdev);
	return 0;
}

static void fake_kick(struct rproc *rproc, int vqid)
{
	/* May be called in atomic context: just schedule the firmware. */
	queue_work(fw.wq, &fw.work);
}

static const struct rproc_ops fake_ops = {
	.start = fake_start,
	.stop = fake_stop,
	.kick = fake_kick,
	.parse_fw = fake_parse_fw,
	.find_loaded_rsc_table = fake_find_loaded_rsc_table,
	.load = fake_load,
	.da_to_va = fake_da_to_va,
	.attach = fake_attach,
	.detach = fake_detach,
	.get_loaded_rsc_table = fake_get_loaded_rsc_table,
};

/* ---- knobs ---------------------------------------------------------------- */

static int stall_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	WRITE_ONCE(fw.stalled, on);
	if (!on && fw.wq)
		queue_work(fw.wq, &fw.work);	/* take what piled up */
	return 0;
}

static int stall_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%d\n", READ_ONCE(fw.stalled));
}

static const struct kernel_param_ops stall_ops = { .set = stall_set, .get = stall_get };
module_param_cb(stall, &stall_ops, NULL, 0644);
MODULE_PARM_DESC(stall, "1: stop taking the host's messages (its TX ring fills); 0: resume");

/* The firmware dies: it stops answering at once, and the core is told. */
static int crash_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	if (!on || !fw.rproc)
		return 0;
	fw_trace("fakefw: crashing");
	fw_halt();
	rproc_report_crash(fw.rproc, RPROC_FATAL_ERROR);
	return 0;
}

static const struct kernel_param_ops crash_ops = { .set = crash_set };
module_param_cb(crash, &crash_ops, NULL, 0200);
MODULE_PARM_DESC(crash, "write 1: the firmware crashes (rproc_report_crash)");

static int trace_line_set(const char *val, const struct kernel_param *kp)
{
	fw_trace("%.*s", (int)strcspn(val, "\n"), val);
	return 0;
}

static const struct kernel_param_ops trace_line_ops = { .set = trace_line_set };
module_param_cb(trace_line, &trace_line_ops, NULL, 0200);
MODULE_PARM_DESC(trace_line, "write TEXT: the firmware prints it as a line of its trace buffer");

/* ---- module --------------------------------------------------------------- */

static int __init fakerproc_init(void)
{
	int ret;

	if (vring_num < 2 || vring_num > 1024 || !is_power_of_2(vring_num))
		return -EINVAL;

	mutex_init(&fw.lock);
	spin_lock_init(&fw.trace_lock);
	INIT_WORK(&fw.work, fw_work);
	fw.table = kzalloc(sizeof(*fw.table), GFP_KERNEL);
	if (!fw.table)
		return -ENOMEM;
	fw.wq = alloc_ordered_workqueue("fakerproc-fw", 0);
	if (!fw.wq) {
		ret = -ENOMEM;
		goto free_table;
	}

	/* Platform devices get a 32-bit DMA mask: remoteproc allocates the
	 * vrings, and virtio_rpmsg_bus its buffers, against it. */
	fw.pdev = platform_device_register_simple("rpmsg-lua-fakerproc", -1, NULL, 0);
	if (IS_ERR(fw.pdev)) {
		ret = PTR_ERR(fw.pdev);
		goto destroy_wq;
	}

	fw.rproc = rproc_alloc(&fw.pdev->dev, RPROC_NAME, &fake_ops, FW_NAME, 0);
	if (!fw.rproc) {
		ret = -ENOMEM;
		goto unregister_pdev;
	}
	fw.rproc->auto_boot = true;	/* boots once the firmware file is found */
	/* coredumps need an ELF class; the "memory" is one segment */
	rproc_coredump_set_elf_info(fw.rproc, ELFCLASS32, EM_NONE);
	if (start_detached) {
		/* A bootloader started it: its table is in its memory now. */
		table_init(fw.table);
		fw_trace("fakefw: started by the bootloader");
		fw.rproc->state = RPROC_DETACHED;
		fw.rproc->auto_boot = false;	/* until someone writes start */
	}

	ret = rproc_add(fw.rproc);
	if (ret)
		goto free_rproc;
	return 0;

free_rproc:
	rproc_free(fw.rproc);
unregister_pdev:
	platform_device_unregister(fw.pdev);
destroy_wq:
	destroy_workqueue(fw.wq);
free_table:
	kfree(fw.table);
	return ret;
}

static void __exit fakerproc_exit(void)
{
	rproc_del(fw.rproc);	/* shuts the core down if it runs */
	rproc_free(fw.rproc);
	fw.rproc = NULL;
	platform_device_unregister(fw.pdev);
	destroy_workqueue(fw.wq);
	kfree(fw.table);
}

module_init(fakerproc_init);
module_exit(fakerproc_exit);

MODULE_DESCRIPTION("fake remote processor with an in-kernel echo firmware, for testing");
MODULE_LICENSE("GPL v2");
