/* SPDX-License-Identifier: MIT */
/* Line editing for the REPLs, the terminal's (-i) and attach's: libedit's
 * callback interface when it was found at build time, with Tab completion,
 * history kept per user in $XDG_STATE_HOME/rpmsg-lua/history (or
 * ~/.local/state/rpmsg-lua/history, the last HISTORY_MAX lines), and output
 * printed above the line being typed. Without libedit, line_edit_available()
 * is false and the callers read plain lines. One editor per process. */
#ifndef RPMSG_LINE_EDIT_H
#define RPMSG_LINE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HISTORY_MAX 1000

/* A finished line (malloc'd, the callee frees it), or NULL for Ctrl-D. */
typedef void (*line_edit_line_fn)(char *line, void *ctx);
/* Completions of word, NULL-terminated malloc'd strings; NULL for none. */
typedef char **(*line_edit_complete_fn)(const char *word, void *ctx);

bool line_edit_available(void);
/* Reads keys from in, draws on out; history from the per-user file. */
void line_edit_init(FILE *in, FILE *out, line_edit_line_fn line, line_edit_complete_fn complete,
		    void *ctx);
/* Shows prompt and takes keys for the next line. */
void line_edit_prompt(const char *prompt);
/* One key is waiting on the input. */
void line_edit_read_key(void);
/* Drops the line being typed (Ctrl-C); the prompt is shown again. */
void line_edit_cancel(const char *prompt);
/* Prints text above the prompt and the line being typed, which are redrawn. */
void line_edit_print_above(int fd, const char *text, size_t len);
/* Remembers a line in the history and in the history file. */
void line_edit_remember(const char *line);
/* The terminal back in its own mode. */
void line_edit_end(void);


#endif
