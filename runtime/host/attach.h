/* SPDX-License-Identifier: MIT */
/* The parts of `rpmsg-lua attach` shared by its plain pump (host_attach.c)
 * and its line-editing session over the console protocol (attach_edit.c). */
#ifndef RPMSG_ATTACH_H
#define RPMSG_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "host_console.h"

/* A connected socket, or -errno. */
int attach_connect(const char *path);
/* Sends all n bytes (no SIGPIPE); false when the host is gone. Output to
 * the terminal goes through rpmsg_write_all (write_all.h). */
bool attach_send_all(int fd, const char *p, size_t n);
/* The session on a terminal; returns the exit code. */
int attach_edit_session(const char *path, int fd);

#endif
