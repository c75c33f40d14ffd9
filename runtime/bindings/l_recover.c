/* Recovery: endpoints declared with rpmsg.endpoint{} outlive their remote.
 * While one is down the runtime watches /dev for control devices appearing
 * (inotify: no CPU spent waiting), with a timer whose backoff grows to 5 s
 * as the fallback, and creates each down endpoint again when it can. */
#include "l_endpoint.h"

#include <string.h>

#define FIRST_TRY_MS 20          /* a new control device may still be probing */
#define MAX_BACKOFF_MS 5000

struct attempt {
	struct rpmsg_runtime *rt;
	int still_down;
};

static void try_one(lua_State *L, int idx, void *ctx)
{
	struct attempt *a = ctx;
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le || !le->down)
		return;
	struct rpmsg_err e;
	struct rpmsg_ep *ep = rpmsg_endpoint_create(a->rt, &le->decl, &e);
	if (ep)
		rpmsg_endpoint_up(L, idx, le, ep);
	else
		a->still_down++;
}

void rpmsg_recovery_stop(struct rpmsg_runtime *rt)
{
	rt->recovering = false;
	dirwatch_stop(rt->loop, &rt->recover_dev);
	loop_timer_stop(rt->loop, &rt->recover_timer);
}

/* The next attempt in ms. When the timer cannot be armed, say so: the down
 * endpoints then wait for a control device to appear in /dev. */
static void arm(struct rpmsg_runtime *rt, uint64_t ms)
{
	struct rpmsg_err e;
	if (loop_timer_start(rt->loop, &rt->recover_timer, ms, 0, &e) < 0)
		rpmsg_logf("recovery: %s; down endpoints wait for a control device to appear%s", e.msg,
			   rt->recover_dev.io.active ? "" : ", which nothing watches: they stay down");
}

static void attempt_all(struct loop_timer *t)
{
	struct rpmsg_runtime *rt = t->ctx;
	struct attempt a = { rt, 0 };
	rpmsg_each_anchored(rt->L, try_one, &a);
	if (!a.still_down) {
		rpmsg_recovery_stop(rt);
		return;
	}
	arm(rt, (uint64_t)rt->recover_backoff_ms);
	if (rt->recover_backoff_ms < MAX_BACKOFF_MS)
		rt->recover_backoff_ms *= 2;
}

static void dev_appeared(const char *name, void *ctx)
{
	struct rpmsg_runtime *rt = ctx;
	if (strncmp(name, "rpmsg_ctrl", 10) != 0)
		return;
	rt->recover_backoff_ms = FIRST_TRY_MS;
	arm(rt, FIRST_TRY_MS);
}

void rpmsg_recovery_start(struct rpmsg_runtime *rt)
{
	if (rt->recovering)
		return;
	rt->recovering = true;
	rt->recover_backoff_ms = FIRST_TRY_MS;
	loop_timer_init(&rt->recover_timer, attempt_all, rt);
	struct rpmsg_err e;
	if (dirwatch_start(rt->loop, &rt->recover_dev, rpmsg_dev_root(), true, dev_appeared, rt, &e) < 0)
		rpmsg_logf("recovery: %s; retrying on a timer only", e.msg);
	arm(rt, FIRST_TRY_MS);
}
