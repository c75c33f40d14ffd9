/* SPDX-License-Identifier: MIT */
/* inotify on one directory, in the loop: reports the name of each file that
 * was written and closed or moved in there. Watching the directory,
 * not the file, catches editors that save by renaming a new file over it. */
#ifndef RPMSG_DIRWATCH_H
#define RPMSG_DIRWATCH_H

#include "loop.h"

typedef void (*dirwatch_fn)(const char *name, void *ctx);

struct dirwatch {
	struct loop_io io;
	dirwatch_fn fn;
	void *ctx;
};

/* Reports files written and closed or moved in; with created, also new
 * entries (device nodes appearing in /dev). */
int dirwatch_start(struct loop *loop, struct dirwatch *w, const char *dir, bool created,
		   dirwatch_fn fn, void *ctx, struct rpmsg_err *e);
void dirwatch_stop(struct loop *loop, struct dirwatch *w);

#endif
