// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsg_loopback - a test-only rpmsg backend that echoes every message.
 *
 * Owned by the rpmsg-lua kernel test harness (tests/kernel/).  It stands in
 * for a remote processor so that the real, unmodified rpmsg_core, rpmsg_ctrl
 * and rpmsg_char drivers can be exercised under QEMU without one:
 *
 *  - it registers one control device ("rpmsg_ctrl" via driver_override) under
 *    a root device, so rpmsg_ctrl creates /dev/rpmsg_ctrl0;
 *  - every message an endpoint sends is copied, queued, and delivered back to
 *    the *sending* endpoint's callback from a workqueue (never from inside
 *    send(): the real transport delivers asynchronously, and rpmsg_char holds
 *    its ept_lock while sending);
 *  - where userspace can see it, it behaves like virtio_rpmsg_bus: 496-byte
 *    payload limit (-EMSGSIZE), -EINVAL for src/dst == RPMSG_ADDR_ANY,
 *    dynamic addresses from 1024, a fixed address already bound fails
 *    create_ept, and no POLLOUT (unless the "pollout" parameter is set);
 *  - rmmod is the "remote processor went away" event: unregistering the
 *    control device makes rpmsg_ctrl destroy every endpoint (POLLERR/EPIPE on
 *    open fds) and removes /dev/rpmsg_ctrl0; insmod brings it back.
 */

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rpmsg.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

/* Not exported to the headers package: comes from the extracted source. */
#include "rpmsg_internal.h"

/*
 * virtio_rpmsg_bus uses 512-byte buffers that start with a 16-byte
 * struct rpmsg_hdr, leaving 496 bytes of payload.
 */
#define LOOP_BUF_SIZE		512
#define LOOP_HDR_SIZE		16
#define LOOP_MAX_PAYLOAD	(LOOP_BUF_SIZE - LOOP_HDR_SIZE)

/* Same as virtio_rpmsg_bus: addresses below this are never handed out. */
#define LOOP_RESERVED_ADDRESSES	1024

/* Tests lower this to see the kernel's own EMSGSIZE, which userspace that
 * refuses 497 bytes itself cannot otherwise provoke. */
static int max_payload = LOOP_MAX_PAYLOAD;
module_param(max_payload, int, 0644);
MODULE_PARM_DESC(max_payload, "largest payload accepted, at most 496 (default 496)");

static bool pollout;
module_param(pollout, bool, 0644);
MODULE_PARM_DESC(pollout,
		 "report EPOLLOUT from poll (virtio_rpmsg_bus never does; default off)");

/* Tests set this to see the transmit buffers run out: a non-blocking send
 * then fails with -ENOMEM, as virtio_rpmsg_bus's does when every buffer is
 * in flight (rpmsg_char passes it on; userspace sees EAGAIN or ENOMEM). */
static bool tx_full;
module_param(tx_full, bool, 0644);
MODULE_PARM_DESC(tx_full, "refuse non-blocking sends as if no transmit buffer were free (default off)");

/* Messages accepted for sending since the module loaded: tests read it to
 * see what a flush really sent, even when the echo has nobody to reach. */
static int sent;
module_param(sent, int, 0444);
MODULE_PARM_DESC(sent, "messages accepted for sending (read-only)");

/* A message waiting to be echoed. */
struct loop_msg {
	struct list_head node;
	u32 to;		/* address of the endpoint that sent it: the echo goes there */
	u32 from;	/* address it was sent to: the echo appears to come from there */
	int len;
	u8 data[];
};

/* Module-lifetime state; there is exactly one loopback "remote". */
static struct {
	struct device *root;		/* parent: names the bus device */
	struct rpmsg_device *rpdev;	/* the control device */
	struct completion rpdev_released;

	struct mutex endpoints_lock;	/* protects endpoints */
	struct idr endpoints;		/* address -> struct rpmsg_endpoint */

	spinlock_t queue_lock;		/* protects queue */
	struct list_head queue;		/* struct loop_msg, oldest first */
	struct workqueue_struct *wq;	/* ordered: echoes keep send order */
	struct work_struct work;
} loop;

static const struct rpmsg_endpoint_ops loop_endpoint_ops;

static void loop_ept_release(struct kref *kref)
{
	kfree(container_of(kref, struct rpmsg_endpoint, refcount));
}

static struct rpmsg_endpoint *loop_create_ept(struct rpmsg_device *rpdev,
					      rpmsg_rx_cb_t cb, void *priv,
					      struct rpmsg_channel_info chinfo)
{
	struct rpmsg_endpoint *ept;
	int id_min, id_max, id;

	ept = kzalloc(sizeof(*ept), GFP_KERNEL);
	if (!ept)
		return NULL;

	kref_init(&ept->refcount);
	mutex_init(&ept->cb_lock);
	ept->rpdev = rpdev;
	ept->cb = cb;
	ept->priv = priv;
	ept->ops = &loop_endpoint_ops;

	if (chinfo.src == RPMSG_ADDR_ANY) {
		id_min = LOOP_RESERVED_ADDRESSES;
		id_max = 0;			/* no upper limit */
	} else {
		id_min = chinfo.src;
		id_max = chinfo.src + 1;	/* exactly this one, or fail */
	}

	mutex_lock(&loop.endpoints_lock);
	id = idr_alloc(&loop.endpoints, ept, id_min, id_max, GFP_KERNEL);
	mutex_unlock(&loop.endpoints_lock);
	if (id < 0) {
		/* A fixed address already bound lands here, as on virtio. */
		dev_err(&rpdev->dev, "idr_alloc failed: %d\n", id);
		kref_put(&ept->refcount, loop_ept_release);
		return NULL;
	}
	ept->addr = id;

	return ept;
}

static void loop_destroy_ept(struct rpmsg_endpoint *ept)
{
	/* No new echo can find the endpoint once it is out of the idr... */
	mutex_lock(&loop.endpoints_lock);
	idr_remove(&loop.endpoints, ept->addr);
	mutex_unlock(&loop.endpoints_lock);

	/* ...and one being delivered right now sees cb == NULL. */
	mutex_lock(&ept->cb_lock);
	ept->cb = NULL;
	mutex_unlock(&ept->cb_lock);

	kref_put(&ept->refcount, loop_ept_release);
}

/* Hand every queued message to the callback of the endpoint that sent it. */
static void loop_deliver(struct work_struct *work)
{
	struct loop_msg *msg, *tmp;
	struct rpmsg_endpoint *ept;
	LIST_HEAD(batch);

	spin_lock(&loop.queue_lock);
	list_splice_init(&loop.queue, &batch);
	spin_unlock(&loop.queue_lock);

	list_for_each_entry_safe(msg, tmp, &batch, node) {
		mutex_lock(&loop.endpoints_lock);
		ept = idr_find(&loop.endpoints, msg->to);
		if (ept)
			kref_get(&ept->refcount);
		mutex_unlock(&loop.endpoints_lock);

		if (ept) {
			mutex_lock(&ept->cb_lock);
			if (ept->cb)
				ept->cb(ept->rpdev, msg->data, msg->len,
					ept->priv, msg->from);
			mutex_unlock(&ept->cb_lock);
			kref_put(&ept->refcount, loop_ept_release);
		}
		/* else: the sender is gone; virtio drops such messages too */

		list_del(&msg->node);
		kfree(msg);
	}
}

/*
 * The common send path.  Checks are in virtio_rpmsg_bus's order: addresses
 * first, then size.  The loopback never runs out of buffers, so @wait makes
 * no difference (rpmsg_char turns a non-blocking -ENOMEM into -EAGAIN).
 */
static int loop_send_offchannel_raw(struct rpmsg_endpoint *ept, u32 src,
				    u32 dst, void *data, int len, bool wait)
{
	struct device *dev = &ept->rpdev->dev;
	struct loop_msg *msg;

	if (src == RPMSG_ADDR_ANY || dst == RPMSG_ADDR_ANY) {
		dev_err(dev, "invalid addr (src 0x%x, dst 0x%x)\n", src, dst);
		return -EINVAL;
	}

	if (len < 0 || len > min_t(int, READ_ONCE(max_payload), LOOP_MAX_PAYLOAD)) {
		dev_err(dev, "message is too big (%d)\n", len);
		return -EMSGSIZE;
	}

	if (!wait && READ_ONCE(tx_full))
		return -ENOMEM;

	msg = kmalloc(struct_size(msg, data, len), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	WRITE_ONCE(sent, READ_ONCE(sent) + 1);

	msg->to = src;
	msg->from = dst;
	msg->len = len;
	if (len)
		memcpy(msg->data, data, len);

	spin_lock(&loop.queue_lock);
	list_add_tail(&msg->node, &loop.queue);
	spin_unlock(&loop.queue_lock);

	queue_work(loop.wq, &loop.work);
	return 0;
}

static int loop_send(struct rpmsg_endpoint *ept, void *data, int len)
{
	return loop_send_offchannel_raw(ept, ept->addr, ept->rpdev->dst,
					data, len, true);
}

static int loop_sendto(struct rpmsg_endpoint *ept, void *data, int len,
		       u32 dst)
{
	return loop_send_offchannel_raw(ept, ept->addr, dst, data, len, true);
}

static int loop_send_offchannel(struct rpmsg_endpoint *ept, u32 src, u32 dst,
				void *data, int len)
{
	return loop_send_offchannel_raw(ept, src, dst, data, len, true);
}

static int loop_trysend(struct rpmsg_endpoint *ept, void *data, int len)
{
	return loop_send_offchannel_raw(ept, ept->addr, ept->rpdev->dst,
					data, len, false);
}

static int loop_trysendto(struct rpmsg_endpoint *ept, void *data, int len,
			  u32 dst)
{
	return loop_send_offchannel_raw(ept, ept->addr, dst, data, len, false);
}

static int loop_trysend_offchannel(struct rpmsg_endpoint *ept, u32 src,
				   u32 dst, void *data, int len)
{
	return loop_send_offchannel_raw(ept, src, dst, data, len, false);
}

/*
 * rpmsg_char ORs this into its poll mask.  virtio_rpmsg_bus has no poll op,
 * so userspace never sees POLLOUT there; "pollout=1" models a backend that
 * does report it.  Read at every call, so it can be flipped through
 * /sys/module/rpmsg_loopback/parameters/pollout.
 */
static __poll_t loop_poll(struct rpmsg_endpoint *ept, struct file *filp,
			  poll_table *wait)
{
	return READ_ONCE(pollout) ? EPOLLOUT | EPOLLWRNORM : 0;
}

static ssize_t loop_get_mtu(struct rpmsg_endpoint *ept)
{
	return LOOP_MAX_PAYLOAD;
}

static const struct rpmsg_endpoint_ops loop_endpoint_ops = {
	.destroy_ept = loop_destroy_ept,
	.send = loop_send,
	.sendto = loop_sendto,
	.send_offchannel = loop_send_offchannel,
	.trysend = loop_trysend,
	.trysendto = loop_trysendto,
	.trysend_offchannel = loop_trysend_offchannel,
	.poll = loop_poll,
	.get_mtu = loop_get_mtu,
};

/*
 * No create_channel/release_channel: RPMSG_CREATE_DEV_IOCTL and
 * RPMSG_RELEASE_DEV_IOCTL then fail with ENXIO, as on non-virtio backends.
 */
static const struct rpmsg_device_ops loop_device_ops = {
	.create_ept = loop_create_ept,
};

static void loop_rpdev_release(struct device *dev)
{
	struct rpmsg_device *rpdev = to_rpmsg_device(dev);

	kfree(rpdev->driver_override);
	kfree(rpdev);
	complete(&loop.rpdev_released);
}

static int __init loop_init(void)
{
	struct rpmsg_device *rpdev;
	int ret;

	mutex_init(&loop.endpoints_lock);
	idr_init(&loop.endpoints);
	spin_lock_init(&loop.queue_lock);
	INIT_LIST_HEAD(&loop.queue);
	INIT_WORK(&loop.work, loop_deliver);
	init_completion(&loop.rpdev_released);

	loop.wq = alloc_ordered_workqueue("rpmsg_loopback", 0);
	if (!loop.wq)
		return -ENOMEM;

	loop.root = root_device_register("rpmsg_loopback");
	if (IS_ERR(loop.root)) {
		ret = PTR_ERR(loop.root);
		goto destroy_wq;
	}

	rpdev = kzalloc(sizeof(*rpdev), GFP_KERNEL);
	if (!rpdev) {
		ret = -ENOMEM;
		goto unregister_root;
	}

	/* src = dst = 0 like virtio's control device: "<parent>.rpmsg_ctrl.0.0" */
	rpdev->ops = &loop_device_ops;
	rpdev->little_endian = true;
	rpdev->dev.parent = loop.root;
	rpdev->dev.release = loop_rpdev_release;

	/* rpmsg_ctrl only binds through driver_override, which this sets. */
	ret = rpmsg_ctrldev_register_device(rpdev);
	if (ret) {
		/* The core has already put (and so released) the device. */
		wait_for_completion(&loop.rpdev_released);
		goto unregister_root;
	}
	loop.rpdev = rpdev;

	return 0;

unregister_root:
	root_device_unregister(loop.root);
destroy_wq:
	destroy_workqueue(loop.wq);
	return ret;
}

static void __exit loop_exit(void)
{
	/*
	 * The "remote processor" goes away: rpmsg_ctrl's remove destroys every
	 * endpoint device (open fds see POLLERR/EPIPE, through our
	 * destroy_ept) and then the control device itself.
	 */
	device_unregister(&loop.rpdev->dev);

	/*
	 * The release callback lives in this module: it must have run before
	 * the module text goes away.  Nothing should hold the device any more
	 * (children drop their parent reference in device_del), so a long
	 * wait means a reference leak somewhere; say so rather than hang
	 * silently.
	 */
	while (!wait_for_completion_timeout(&loop.rpdev_released, 10 * HZ))
		pr_warn("rpmsg_loopback: still waiting for the control device to be released\n");

	/* Echoes still queued are for endpoints that no longer exist. */
	destroy_workqueue(loop.wq);
	WARN_ON(!list_empty(&loop.queue));
	WARN_ON(!idr_is_empty(&loop.endpoints));
	idr_destroy(&loop.endpoints);

	root_device_unregister(loop.root);
}

module_init(loop_init);
module_exit(loop_exit);

MODULE_DESCRIPTION("rpmsg loopback backend for testing (echoes every message)");
MODULE_LICENSE("GPL v2");
