// SPDX-License-Identifier: Apache-2.0
//
// proc.c - the proc element: an OS process run on behalf of a client, with
// its stdin, stdout and stderr reachable from anywhere. Output is read from
// the pipe only as fast as a reader takes it, so with no reader the process
// blocks and nothing is dropped.
#include "proc_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROC_READ_CHUNK (256u * 1024u)

extern char **environ;

typedef struct Proc Proc;

typedef struct {
	Proc *proc;
	const char *name; /* "stdout" or "stderr" */
	int fd;
	CircuitWatch *watch;
	CircuitOutlet *outlet; /* its reader */
	gboolean eof;
} ProcOut;

struct Proc {
	CircuitElement *element;
	CircuitHost *host;
	ProcSpec *spec;
	pid_t pid;
	CircuitWatch *child;
	gboolean exited;
	int wstatus;
	GDateTime *started;
	GDateTime *ended;

	int in_fd;
	CircuitWatch *in_watch;
	CircuitInlet *in; /* its writer */

	ProcOut out;
	ProcOut err;
	GList *waiters; /* CircuitStream */

	gboolean releasing; /* scrubbed while running: holds an element ref */
	CircuitWatch *kill_timer;
};

/* ---- status -------------------------------------------------------------- */

static gboolean
proc_failed(const Proc *p)
{
	return p->exited && !(WIFEXITED(p->wstatus) && WEXITSTATUS(p->wstatus) == 0);
}

static JsonNode *
proc_stat(Proc *p)
{
	JsonObject *o = json_object_new();
	json_object_set_member(o, "Cmd", proc_spec_to_json(p->spec));
	if (!p->exited) {
		json_object_set_null_member(o, "Exit");
		json_object_set_string_member(o, "Phase", "running");
		json_object_set_null_member(o, "ExitCode");
		json_object_set_null_member(o, "Signal");
	} else if (WIFEXITED(p->wstatus)) {
		int code = WEXITSTATUS(p->wstatus);
		if (code == 0)
			json_object_set_null_member(o, "Exit");
		else {
			g_autofree char *m = g_strdup_printf("exit status %d", code);
			json_object_set_string_member(o, "Exit", m);
		}
		json_object_set_string_member(o, "Phase", "exited");
		json_object_set_int_member(o, "ExitCode", code);
		json_object_set_null_member(o, "Signal");
	} else {
		int sig = WTERMSIG(p->wstatus);
		const char *name = proc_signal_name(sig);
		g_autofree char *m = name ? g_strdup_printf("signal: SIG%s", name)
		                          : g_strdup_printf("signal: %d", sig);
		json_object_set_string_member(o, "Exit", m);
		json_object_set_string_member(o, "Phase", "signaled");
		json_object_set_null_member(o, "ExitCode");
		if (name) {
			g_autofree char *full = g_strconcat("SIG", name, NULL);
			json_object_set_string_member(o, "Signal", full);
		} else {
			json_object_set_int_member(o, "Signal", sig);
		}
	}
	json_object_set_int_member(o, "Pid", p->pid);
	g_autofree char *started = g_date_time_format_iso8601(p->started);
	json_object_set_string_member(o, "Started", started);
	if (p->ended) {
		g_autofree char *ended = g_date_time_format_iso8601(p->ended);
		json_object_set_string_member(o, "Ended", ended);
	} else {
		json_object_set_null_member(o, "Ended");
	}
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

/* ---- output -------------------------------------------------------------- */

static void
proc_out_close_fd(ProcOut *o)
{
	g_clear_pointer(&o->watch, circuit_watch_cancel);
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* The pipe is read only while the reader has room (circuit_outlet_space()):
 * with no reader, the process blocks on a full pipe. */
static void
proc_out_on_readable(CircuitWatch *w, int fd, guint revents, gpointer data)
{
	ProcOut *o = data;
	gsize space = circuit_outlet_space(o->outlet);
	if (space == 0) {
		circuit_watch_fd_set_events(w, 0);
		return;
	}
	guint8 buf[PROC_READ_CHUNK];
	ssize_t n = read(fd, buf, MIN(space, sizeof buf));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		circuit_log(o->proc->host, o->proc->element, G_LOG_LEVEL_WARNING, "%s: %s", o->name,
		            g_strerror(errno));
		n = 0;
	}
	if (n == 0) {
		o->eof = TRUE;
		proc_out_close_fd(o);
		circuit_outlet_pump(o->outlet);
		return;
	}
	circuit_outlet_write(o->outlet, buf, (gsize)n);
	if (circuit_outlet_space(o->outlet) == 0)
		circuit_watch_fd_set_events(w, 0);
}

static gboolean
proc_out_ended(CircuitOutlet *outlet, const GError **error, gpointer data)
{
	return ((ProcOut *)data)->eof;
}

static void
proc_out_resume(CircuitOutlet *outlet, gpointer data)
{
	ProcOut *o = data;
	if (o->watch)
		circuit_watch_fd_set_events(o->watch, CIRCUIT_IO_READ);
}

static const CircuitOutletFuncs proc_out_funcs = {
        .ended = proc_out_ended,
        .resume = proc_out_resume,
};

static void
proc_op_stdout(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	circuit_outlet_serve(((Proc *)ctx)->out.outlet, s);
}

static void
proc_op_stderr(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	circuit_outlet_serve(((Proc *)ctx)->err.outlet, s);
}

/* ---- input --------------------------------------------------------------- */

static void
proc_in_close(Proc *p)
{
	g_clear_pointer(&p->in_watch, circuit_watch_cancel);
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
}

static gssize
proc_in_write(CircuitInlet *inlet, const guint8 *data, gsize len, gpointer user_data,
              GError **error)
{
	Proc *p = user_data;
	while (p->in_fd >= 0) {
		ssize_t n = write(p->in_fd, data, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			circuit_watch_fd_set_events(p->in_watch, CIRCUIT_IO_WRITE);
			return 0;
		}
		break;
	}
	proc_in_close(p);
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
	            "stdin of %s: the process closed its standard input",
	            circuit_element_path(p->element));
	return -1;
}

static gboolean
proc_in_end(CircuitInlet *inlet, gpointer user_data)
{
	proc_in_close(user_data);
	return TRUE;
}

static void
proc_in_on_writable(CircuitWatch *w, int fd, guint revents, gpointer data)
{
	Proc *p = data;
	circuit_watch_fd_set_events(w, 0);
	circuit_inlet_flush(p->in);
}

static const CircuitInletFuncs proc_in_funcs = {
        .write = proc_in_write,
        .end = proc_in_end,
};

static void
proc_op_stdin(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	circuit_inlet_serve(((Proc *)ctx)->in, s);
}

/* ---- wait, signal -------------------------------------------------------- */

static void
proc_waiter_closed(CircuitStream *s, const GError *error, gpointer user_data)
{
	Proc *p = user_data;
	p->waiters = g_list_remove(p->waiters, s);
}

static const CircuitStreamFuncs proc_waiter_funcs = {
        .closed = proc_waiter_closed,
};

static void
proc_op_wait(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Proc *p = ctx;
	if (p->exited) {
		circuit_stream_reply(s, proc_stat(p), proc_failed(p));
		circuit_stream_finish(s);
		return;
	}
	p->waiters = g_list_prepend(p->waiters, s);
	circuit_stream_set_funcs(s, &proc_waiter_funcs, p, NULL);
}

static void
proc_op_signal(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Proc *p = ctx;
	int sig = proc_signal_parse(args[0]);
	g_autoptr(GError) err = NULL;
	if (sig < 0)
		err = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		                  "unknown signal \"%s\" (use a name like TERM, KILL, HUP, INT, "
		                  "USR1 or a number)",
		                  args[0]);
	else if (p->exited)
		err = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		                  "%s: the process has exited already", circuit_element_path(e));
	else if (kill(-p->pid, sig) != 0 && kill(p->pid, sig) != 0)
		err = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "%s: kill: %s",
		                  circuit_element_path(e), g_strerror(errno));
	if (err) {
		circuit_stream_fail(s, err);
		return;
	}
	circuit_stream_reply(s, NULL, FALSE);
	circuit_stream_finish(s);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
proc_release_done(Proc *p)
{
	if (!p->releasing)
		return;
	p->releasing = FALSE;
	g_clear_pointer(&p->kill_timer, circuit_watch_cancel);
	circuit_host_unregister_process_group(p->host, p->pid);
	circuit_element_unref(p->element);
}

static void
proc_on_kill_timer(CircuitWatch *w, gpointer data)
{
	Proc *p = data;
	g_clear_pointer(&p->kill_timer, circuit_watch_cancel);
	/* Grace is over: whatever is left of the group dies now. */
	kill(-p->pid, SIGKILL);
	if (p->exited)
		proc_release_done(p);
}

static void
proc_on_exit(CircuitWatch *w, pid_t pid, int wstatus, gpointer data)
{
	Proc *p = data;
	/* Releasing below may drop the last reference: keep p alive until we return. */
	CircuitElement *element = circuit_element_ref(p->element);
	p->exited = TRUE;
	p->wstatus = wstatus;
	p->ended = g_date_time_new_now_utc();
	circuit_oplog_event(p->element, WIFEXITED(wstatus) ? "exit" : "signal",
	                    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
	GList *waiters = g_steal_pointer(&p->waiters);
	for (GList *l = waiters; l; l = l->next) {
		circuit_stream_reply(l->data, proc_stat(p), proc_failed(p));
		circuit_stream_finish(l->data);
	}
	g_list_free(waiters);
	/* Released when the whole group is gone, or when it already had its
	 * SIGKILL (what is left are zombies for init to reap). */
	if (p->releasing && (!p->kill_timer || kill(-p->pid, 0) != 0))
		proc_release_done(p);
	if (p->spec->scrub && !circuit_element_is_scrubbed(p->element))
		circuit_element_scrub(p->element);
	circuit_element_unref(element);
}

/*
 * The server's environment for a job that inherits it, without CIRCUIT_*
 * (the client's key file, the server's own settings): a job does not learn
 * how to speak for the daemon. (transfer container) pointers into environ.
 */
static char **
proc_inherited_env(void)
{
	guint n = 0;
	while (environ[n])
		n++;
	char **env = g_new0(char *, n + 1);
	guint k = 0;
	for (guint i = 0; i < n; i++)
		if (!g_str_has_prefix(environ[i], "CIRCUIT_") &&
		    !g_str_has_prefix(environ[i], "CIRCUIT="))
			env[k++] = environ[i];
	return env;
}

static gboolean
proc_spawn(Proc *p, GError **error)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
		}
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "pipe: %s", g_strerror(e));
		return FALSE;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	/* None of the daemon's descriptors (sockets, the op log, an fd it was
	 * started with) reach the job, CLOEXEC or not. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (p->spec->dir && *p->spec->dir)
		posix_spawn_file_actions_addchdir_np(&fa, p->spec->dir);
	posix_spawnattr_init(&attr);
	/* Its own group (for signals and scrub), default signal dispositions and an
	 * empty mask: the loop blocks signals the child must not inherit blocked. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                        POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	guint nargs = g_strv_length(p->spec->args);
	char **argv = g_new0(char *, nargs + 2);
	argv[0] = p->spec->path;
	for (guint i = 0; i < nargs; i++)
		argv[i + 1] = p->spec->args[i];
	g_autofree char **inherited = p->spec->env ? NULL : proc_inherited_env();
	char **envp = p->spec->env ? p->spec->env : inherited;
	int rc = strchr(p->spec->path, '/')
	                 ? posix_spawn(&p->pid, p->spec->path, &fa, &attr, argv, envp)
	                 : posix_spawnp(&p->pid, p->spec->path, &fa, &attr, argv, envp);
	g_free(argv);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "cannot run \"%s\": %s",
		            p->spec->path, g_strerror(rc));
		return FALSE;
	}
	circuit_host_register_process_group(p->host, p->pid);
	p->started = g_date_time_new_now_utc();
	p->in_fd = in[1];
	p->out.fd = out[0];
	p->err.fd = err[0];
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err.fd, F_SETFL, O_NONBLOCK);
	/* Bigger pipes move more per wakeup; failure only costs speed. */
	fcntl(p->out.fd, F_SETPIPE_SZ, 1 << 20);
	p->child = circuit_watch_child(p->host, p->pid, proc_on_exit, p, NULL);
	p->in_watch = circuit_watch_fd(p->host, p->in_fd, 0, proc_in_on_writable, p, NULL);
	p->out.watch = circuit_watch_fd(p->host, p->out.fd, 0, proc_out_on_readable, &p->out, NULL);
	p->err.watch = circuit_watch_fd(p->host, p->err.fd, 0, proc_out_on_readable, &p->err, NULL);
	return TRUE;
}

static void
proc_destroy(gpointer ctx)
{
	Proc *p = ctx;
	g_clear_pointer(&p->child, circuit_watch_cancel);
	g_clear_pointer(&p->kill_timer, circuit_watch_cancel);
	proc_in_close(p);
	proc_out_close_fd(&p->out);
	proc_out_close_fd(&p->err);
	if (p->pid > 0 && !p->exited) {
		/* Only at shutdown past the deadline: never leave it running. */
		kill(-p->pid, SIGKILL);
	}
	circuit_inlet_free(p->in);
	circuit_outlet_free(p->out.outlet);
	circuit_outlet_free(p->err.outlet);
	g_clear_pointer(&p->started, g_date_time_unref);
	g_clear_pointer(&p->ended, g_date_time_unref);
	proc_spec_free(p->spec);
	g_free(p);
}

static gboolean
proc_create(CircuitElement *element, const char *const *args, GBytes *body, gpointer *ctx,
            GError **error)
{
	gboolean scrub_flag = FALSE;
	for (guint i = 0; args[i]; i++) {
		if (strcmp(args[i], "-scrub") == 0 || strcmp(args[i], "--scrub") == 0) {
			scrub_flag = TRUE;
		} else {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "mkproc: unexpected argument \"%s\" (usage: circuit mkproc "
			            "[-scrub] PATH < spec.json)",
			            args[i]);
			return FALSE;
		}
	}
	gsize len = 0;
	const char *text = body ? g_bytes_get_data(body, &len) : NULL;
	ProcSpec *spec = proc_spec_parse(text, len, error);
	if (!spec)
		return FALSE;
	spec->scrub = spec->scrub || scrub_flag;
	if (spec->dir && *spec->dir && !g_file_test(spec->dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: Dir \"%s\" is not a directory", spec->dir);
		proc_spec_free(spec);
		return FALSE;
	}
	Proc *p = g_new0(Proc, 1);
	p->element = element;
	p->host = circuit_element_host(element);
	p->spec = spec;
	p->in_fd = p->out.fd = p->err.fd = -1;
	p->out.proc = p->err.proc = p;
	p->out.name = "stdout";
	p->err.name = "stderr";
	p->in = circuit_inlet_new(element, "stdin", &proc_in_funcs, p);
	p->out.outlet = circuit_outlet_new(element, "stdout", &proc_out_funcs, &p->out);
	p->err.outlet = circuit_outlet_new(element, "stderr", &proc_out_funcs, &p->err);
	if (!proc_spawn(p, error)) {
		p->pid = 0;
		proc_destroy(p);
		return FALSE;
	}
	*ctx = p;
	return TRUE;
}

static JsonNode *
proc_peek(CircuitElement *element, gpointer ctx)
{
	return proc_stat(ctx);
}

static void
proc_scrub(CircuitElement *element, gpointer ctx)
{
	Proc *p = ctx;
	proc_in_close(p);
	g_autoptr(GError) e =
	        g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
	                    "stdin of %s: the process was scrubbed", circuit_element_path(element));
	circuit_inlet_close(p->in, e);
	if (p->exited && kill(-p->pid, 0) != 0)
		return;
	/* Keep the element alive until the group is gone. */
	p->releasing = TRUE;
	circuit_element_ref(element);
	kill(-p->pid, SIGTERM);
	double grace = circuit_host_scrub_grace(p->host);
	p->kill_timer = circuit_watch_timer(p->host, grace, 0, proc_on_kill_timer, p, NULL);
}

static const CircuitOp proc_ops[] = {
        {.name = "stdin",
         .summary = "copy standard input to the process; EOF closes its stdin",
         .flags = CIRCUIT_OP_BODY,
         .run = proc_op_stdin},
        {.name = "stdout",
         .summary = "stream the process's standard output",
         .flags = CIRCUIT_OP_OUTPUT,
         .run = proc_op_stdout},
        {.name = "stderr",
         .summary = "stream the process's standard error",
         .flags = CIRCUIT_OP_OUTPUT,
         .run = proc_op_stderr},
        {.name = "wait", .summary = "wait for the process to exit", .run = proc_op_wait},
        {.name = "signal",
         .args_usage = "SIGNAL",
         .summary = "send a signal to the process group",
         .min_args = 1,
         .max_args = 1,
         .run = proc_op_signal},
};

CIRCUIT_PLUGIN_DEFINE(proc, .version = "0.1.0", .summary = "OS processes",
                      .make_args_usage = "[-scrub]", .make_min_args = 0, .make_max_args = 1,
                      .make_flags = CIRCUIT_OP_BODY, .create = proc_create, .peek = proc_peek,
                      .scrub = proc_scrub, .destroy = proc_destroy, .ops = proc_ops,
                      .n_ops = G_N_ELEMENTS(proc_ops));
