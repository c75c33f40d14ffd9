/* SPDX-License-Identifier: MIT */
/* Services by name: the channel a remote announced, reached through the
 * node a driver made for it (rpmsg_char's /dev/rpmsgN), else through an
 * endpoint created on the control device with dst = the announced address,
 * so nobody copies addresses out of the firmware's source. Where no control
 * device can reach it (rpmsg_ctrl missing, or a kernel before 5.18 whose
 * rpmsg_char binds only `rpmsg_chrdev`), or when asked, the channel is bound
 * to rpmsg_chrdev through driver_override, as the OpenAMP tools do. */
#include "device_decl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CHRDEV_DRIVER "rpmsg_chrdev"

struct find {
	const struct endpoint_decl *d;
	struct rpmsg_channel *out;
};

static int match(const struct rpmsg_channel *ch, void *ctx)
{
	struct find *f = ctx;
	const struct endpoint_decl *d = f->d;
	if (strcmp(ch->info.name, d->service) != 0 ||
	    (d->rproc[0] && strcmp(ch->rproc, d->rproc) != 0) ||
	    (!d->rproc[0] && d->ctrl_index >= 0 && ch->ctrl_index != d->ctrl_index))
		return 0;
	*f->out = *ch;
	return 1;
}

int rpmsg_service_find(struct rpmsg_backend *b, const struct endpoint_decl *d,
		       struct rpmsg_channel *ch)
{
	struct find f = { d, ch };
	return rpmsg_each_channel(b, match, &f) == 1;
}

struct listing {
	char *buf;
	size_t cap, len;
};

static int list_one(const struct rpmsg_channel *ch, void *ctx)
{
	struct listing *l = ctx;
	if (l->len >= l->cap)
		return 1;
	int n = snprintf(l->buf + l->len, l->cap - l->len, "%s'%s'", l->len ? ", " : "", ch->info.name);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len < l->cap && ch->rproc[0]) {
		n = snprintf(l->buf + l->len, l->cap - l->len, " on %s", ch->rproc);
		if (n > 0)
			l->len += (size_t)n;
	}
	return 0;
}

void rpmsg_service_announced(struct rpmsg_backend *b, char *buf, size_t cap)
{
	struct listing l = { buf, cap, 0 };
	buf[0] = '\0';
	rpmsg_each_channel(b, list_one, &l);
	if (!buf[0])
		snprintf(buf, cap, "nothing");
}

/* Binds the channel to rpmsg_chrdev, which makes a /dev/rpmsgN for it (or,
 * before Linux 5.18, a control device under it), and says so. */
static int bind_chrdev(struct rpmsg_backend *b, struct rpmsg_channel *ch, struct rpmsg_err *e)
{
	if (!b->ops->channel_bind)
		return rpmsg_fail(e, EOPNOTSUPP, "channel '%s': the %s backend cannot bind drivers",
				  ch->info.name, b->ops->name);
	int r = b->ops->channel_bind(b, ch, CHRDEV_DRIVER, e);
	if (r < 0)
		return r;
	rpmsg_notice("bound channel '%s' (%s) to %s through driver_override: %s", ch->info.name,
		     ch->bus, CHRDEV_DRIVER,
		     ch->dev_is_endpoint ? ch->dev : ch->ctrl_under >= 0 ? "a control device under it"
									  : "no node appeared");
	return 0;
}

int rpmsg_service_resolve(struct rpmsg_backend *b, const struct endpoint_decl *d,
			  struct rpmsg_ep **ep, struct endpoint_decl *via, struct rpmsg_err *e)
{
	*ep = NULL;
	struct rpmsg_channel ch;
	if (!rpmsg_service_find(b, d, &ch)) {
		char list[200];
		rpmsg_service_announced(b, list, sizeof list);
		return rpmsg_fail(e, ENOENT, "service '%s'%s%s is not announced (announced: %s)",
				  d->service, d->rproc[0] ? " on " : "", d->rproc, list);
	}
	bool unreachable = !ch.dev_is_endpoint && ch.ctrl_index < 0 && ch.ctrl_under < 0;
	if ((d->bind || unreachable) && !ch.dev_is_endpoint && ch.ctrl_under < 0) {
		if (ch.driver[0])
			return rpmsg_fail(e, EBUSY, "channel '%s' (%s) is bound to %s, which made no rpmsg "
					  "device: cannot bind it to %s", ch.info.name, ch.bus, ch.driver,
					  CHRDEV_DRIVER);
		int r = bind_chrdev(b, &ch, e);
		if (r < 0)
			return r;
	}
	if (ch.dev_is_endpoint) {   /* the kernel's node: opened, never destroyed */
		*ep = rpmsg_ep_open(b, ch.dev, -1, e);
		if (!*ep)
			return -e->code;
		/* what sysfs says of it is under the channel, not a control device */
		(*ep)->info = ch.info;
		memcpy((*ep)->info.name, d->info.name, sizeof (*ep)->info.name);
		(*ep)->ctrl_index = ch.ctrl_index;
		return 0;
	}
	int ctrl = ch.ctrl_under >= 0 ? ch.ctrl_under : ch.ctrl_index;
	if (ctrl < 0)
		return rpmsg_fail(e, ENODEV, "channel '%s' (%s) has no device and no control device "
				  "reaches it (is rpmsg_ctrl loaded?)", ch.info.name, ch.bus);
	*via = *d;
	via->service[0] = via->rproc[0] = via->ctrl_path[0] = '\0';
	via->ctrl_index = ctrl;
	via->info.dst = ch.info.dst;
	return 0;
}
