/* SPDX-License-Identifier: MIT */
/* libedit for the REPLs (see line_edit.h): its readline callback interface
 * keeps the event loop in charge, each key handed over as it arrives. The
 * completion word runs up to the cursor over names, dots and colons, so that
 * "ep:se" is one word and completes to "ep:send(".
 * libedit is opened (dlopen, by the soname the build linked against) when a
 * REPL on a terminal first asks for it, not at every start: it and what it
 * pulls in (libtinfo, libbsd, libmd, their symbols bound at load) were a
 * third of the instructions from exec to the first message. Without it at
 * run time, the REPL reads plain lines. */
#include "line_edit.h"
#include "write_all.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <dlfcn.h>
#include <editline/readline.h>
#include "line_edit_soname.h"

/* libedit's functions and variables, from dlsym; __typeof__ names a
 * symbol's type without linking to it. */
#define RL_SYMBOLS(X) \
	X(rl_callback_handler_install) X(rl_callback_handler_remove) X(rl_callback_read_char) \
	X(rl_forced_update_display) X(using_history) X(stifle_history) X(read_history) \
	X(write_history) X(add_history) X(rl_instream) X(rl_outstream) X(rl_catch_signals) \
	X(rl_attempted_completion_function) X(rl_completion_entry_function) \
	X(rl_completer_word_break_characters) X(rl_basic_word_break_characters) \
	X(rl_attempted_completion_over) X(rl_completion_append_character)
#define RL_FIELD(name) __typeof__(name) *name;
static struct { RL_SYMBOLS(RL_FIELD) } rl;
#endif

static struct {
	line_edit_line_fn line;
	line_edit_complete_fn complete;
	void *ctx;
	char history[PATH_MAX];
	bool has_history;
	bool active;               /* a prompt is shown, keys go to libedit */
	char prompt[16];
} ed;


/* Where the history is kept (for messages); NULL when neither
 * XDG_STATE_HOME nor HOME is set. */
static const char *line_edit_history_path(void)
{
	if (ed.has_history)
		return ed.history;
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (state && *state == '/')
		n = snprintf(ed.history, sizeof ed.history, "%s/rpmsg-lua/history", state);
	else if (home && *home)
		n = snprintf(ed.history, sizeof ed.history, "%s/.local/state/rpmsg-lua/history", home);
	else
		return NULL;
	if (n < 0 || (size_t)n >= sizeof ed.history)
		return NULL;
	ed.has_history = true;
	return ed.history;
}

#ifdef HAVE_LIBEDIT
/* Opens libedit once; false, and plain lines, when it is not there. */
bool line_edit_available(void)
{
	static int state;   /* 0 not tried, 1 open, -1 missing */
	if (state == 0) {
		void *lib = dlopen(LIBEDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
		state = lib ? 1 : -1;
#define RL_LOOKUP(name) \
		if (state == 1 && !(rl.name = (__typeof__(rl.name))dlsym(lib, #name))) \
			state = -1;
		RL_SYMBOLS(RL_LOOKUP)
	}
	return state == 1;
}

/* mkdir -p of the folders above path. */
static void make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
}


static void got_line(char *line)
{
	ed.active = false;
	/* libedit leaves its raw mode before it hands over a line and enters
	 * it again only at the next read, which would then take a whole
	 * cooked line: the caller shows the next prompt, which installs the
	 * handler afresh. */
	rl.rl_callback_handler_remove();
	ed.line(line, ed.ctx);
}

static char *no_more(const char *text, int state)
{
	(void)text;
	(void)state;
	return NULL;
}

/* matches[0] is what replaces the word: the longest common prefix. */
static char **complete_word(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	*rl.rl_attempted_completion_over = 1;   /* never file names */
	char **list = ed.complete ? ed.complete(text, ed.ctx) : NULL;
	if (!list || !list[0]) {
		free(list);
		return NULL;
	}
	size_t n = 0, common = strlen(list[0]);
	while (list[n]) {
		size_t i = 0;
		while (i < common && list[n][i] == list[0][i])
			i++;
		common = i;
		n++;
	}
	char **matches = calloc(n + 2, sizeof *matches);
	if (!matches) {
		for (size_t i = 0; i < n; i++)
			free(list[i]);
		free(list);
		return NULL;
	}
	matches[0] = strndup(list[0], common);
	memcpy(matches + 1, list, n * sizeof *list);
	free(list);
	/* a function's "(" ends the word: no space after it */
	*rl.rl_completion_append_character = '\0';
	return matches;
}

void line_edit_init(FILE *in, FILE *out, line_edit_line_fn line, line_edit_complete_fn complete,
		    void *ctx)
{
	ed.line = line;
	ed.complete = complete;
	ed.ctx = ctx;
	if (!line_edit_available())
		return;   /* libedit missing at run time: plain lines */
	*rl.rl_instream = in;
	*rl.rl_outstream = out;
	/* Signals are the host's: libedit's own handlers would re-send them
	 * to the whole process group. */
	*rl.rl_catch_signals = 0;
	*rl.rl_attempted_completion_function = complete_word;
	*rl.rl_completion_entry_function = no_more;
	*rl.rl_completer_word_break_characters = " \t\n\"\\'`@$><=;|&{(,)+-*/%^~#[]";
	*rl.rl_basic_word_break_characters = *rl.rl_completer_word_break_characters;
	rl.using_history();
	rl.stifle_history(HISTORY_MAX);
	const char *path = line_edit_history_path();
	if (path)
		rl.read_history(path);
}

void line_edit_prompt(const char *prompt)
{
	snprintf(ed.prompt, sizeof ed.prompt, "%s", prompt);
	ed.active = true;
	if (line_edit_available())
		rl.rl_callback_handler_install(ed.prompt, got_line);
}

void line_edit_read_key(void)
{
	if (line_edit_available())
		rl.rl_callback_read_char();
}

void line_edit_cancel(const char *prompt)
{
	if (line_edit_available())
		rl.rl_callback_handler_remove();
	line_edit_prompt(prompt);
}

/* After output above it, libedit draws the prompt and what was typed
 * again; without it, the output goes above a fresh prompt. */
static void redraw_line(int fd)
{
	if (line_edit_available())
		rl.rl_forced_update_display();
	else
		rpmsg_write_all(fd, ed.prompt, strlen(ed.prompt));
}

void line_edit_remember(const char *line)
{
	if (!*line || !line_edit_available())
		return;
	rl.add_history(line);
	const char *path = line_edit_history_path();
	if (!path)
		return;
	char dirs[PATH_MAX];
	snprintf(dirs, sizeof dirs, "%s", path);
	make_parents(dirs);
	/* written whole each time: HISTORY_MAX short lines, and a second
	 * REPL's lines are never half-appended into ours */
	mode_t old = umask(0077);
	rl.write_history(path);
	umask(old);
}

void line_edit_end(void)
{
	if (ed.active && line_edit_available())
		rl.rl_callback_handler_remove();
	ed.active = false;
}
#else
bool line_edit_available(void) { return false; }
void line_edit_init(FILE *in, FILE *out, line_edit_line_fn line, line_edit_complete_fn complete,
		    void *ctx)
{
	(void)in;
	(void)out;
	ed.line = line;
	ed.complete = complete;
	ed.ctx = ctx;
}
void line_edit_prompt(const char *prompt)
{
	snprintf(ed.prompt, sizeof ed.prompt, "%s", prompt);
	ed.active = true;
}
void line_edit_read_key(void) {}
void line_edit_cancel(const char *prompt) { line_edit_prompt(prompt); }
/* Plain lines: what was typed is in the terminal's own line buffer, out of
 * our reach; the output goes above a fresh prompt. */
static void redraw_line(int fd)
{
	rpmsg_write_all(fd, ed.prompt, strlen(ed.prompt));
}
void line_edit_remember(const char *line) { (void)line; }
void line_edit_end(void) { ed.active = false; }
#endif

/* Output while a line is being edited: the line is cleared, the text goes
 * where it was, and the line is drawn again under it. */
void line_edit_print_above(int fd, const char *text, size_t len)
{
	if (!ed.active) {
		rpmsg_write_all(fd, text, len);
		return;
	}
	rpmsg_write_all(fd, "\r\033[K", 4);
	rpmsg_write_all(fd, text, len);
	if (len && text[len - 1] != '\n')
		rpmsg_write_all(fd, "\n", 1);
	redraw_line(fd);
}
