// SPDX-License-Identifier: Apache-2.0
//
// proc.c - the proc element: an OS process run on behalf of a client, with
// its stdin, stdout and stderr reachable from anywhere. Output is read from
// the pipe only as fast as a reader takes it, so with no reader the process
// blocks and nothing is dropped.
//
// Jobs run as circuitd's account, spawned with posix_spawn; or, when circuitd
// is root, as the spec's User/Group or the default account (proc.user,
// proc.group), and, where circuitd was given a cgroup to manage, each in a
// cgroup of its own: those are spawned by proc_clone(), which can switch
// accounts and cgroups between fork and exec, where posix_spawn cannot.
#include "proc_account.h"
#include "proc_cgroup.h"
#include "proc_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROC_READ_CHUNK (256u * 1024u)
/* Seconds between attempts to remove the cgroups of reaped jobs whose
 * other processes live on (only while there are such cgroups). */
#define PROC_LINGER_INTERVAL 5.0

extern char **environ;

typedef struct Proc Proc;

/* The plugin's state: the default account and the jobs' cgroups. */
typedef struct {
	CircuitHost *host;
	ProcAccount *account; /* proc.user/proc.group; NULL: circuitd's own */
	char *cgroup;         /* NULL: jobs share circuitd's cgroup */
	guint64 cgroup_seq;
	GPtrArray *lingering; /* cgroups of reaped jobs, not empty yet */
	CircuitWatch *linger_timer;
} ProcPlugin;

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
	ProcPlugin *plugin;
	ProcSpec *spec;
	ProcAccount *account; /* NULL: circuitd's own (posix_spawn) */
	char *cgroup;         /* the job's cgroup, or NULL */
	gboolean cgroup_released;
	pid_t pid;
	CircuitWatch *child;
	/* The phase the job's last stop or continue left: NULL (none yet),
	 * "stopped" or "continued"; an exit wins over it. */
	const char *stop_phase;
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
	/* circuit-guard knows the group: it kills that process group number
	 * if circuitd dies, so it must forget it once the group is gone (the
	 * number is free for anyone then). */
	gboolean guarded;
};

/* ---- status -------------------------------------------------------------- */

/*
 * "CPU" (seconds of user and system time) and "RSS" (bytes) of the job's own
 * process, from /proc/PID/stat, into @o: absent when the server cannot read
 * them (another account's job under hidepid, or no /proc).
 */
static void
proc_usage(const Proc *p, JsonObject *o)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)p->pid);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	/* The fields after the command, which may hold spaces and parentheses:
	 * utime is field 14, stime 15 (clock ticks), rss 24 (pages). */
	const char *rest = strrchr(text, ')');
	if (!rest)
		return;
	g_auto(GStrv) f = g_strsplit(rest + 1, " ", 0);
	/* f[0] is "" (the space after ')'), so field N is f[N - 2]. */
	if (g_strv_length(f) < 23)
		return;
	long ticks = sysconf(_SC_CLK_TCK);
	guint64 utime = g_ascii_strtoull(f[12], NULL, 10);
	guint64 stime = g_ascii_strtoull(f[13], NULL, 10);
	gint64 rss = g_ascii_strtoll(f[22], NULL, 10);
	long page = sysconf(_SC_PAGESIZE);
	if (ticks > 0)
		json_object_set_double_member(o, "CPU", (double)(utime + stime) / (double)ticks);
	if (page > 0 && rss >= 0)
		json_object_set_int_member(o, "RSS", rss * page);
}

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
		json_object_set_string_member(o, "Phase",
		                              p->stop_phase ? p->stop_phase : "running");
		json_object_set_null_member(o, "ExitCode");
		json_object_set_null_member(o, "Signal");
		proc_usage(p, o);
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

/*
 * What waits in the pipe, not read yet (no reader took it: the pipe holds
 * up to its size while the job is blocked), copied with tee(2), which
 * leaves it in the pipe for the reader. Into a pipe of the same size, so
 * all of it fits; if the kernel will not make one that big, what fits.
 */
static GBytes *
proc_out_unread(CircuitOutlet *outlet, gpointer data)
{
	ProcOut *o = data;
	if (o->fd < 0)
		return NULL;
	int size = fcntl(o->fd, F_GETPIPE_SZ);
	int copy[2];
	if (size <= 0 || pipe2(copy, O_CLOEXEC | O_NONBLOCK) != 0)
		return NULL;
	fcntl(copy[1], F_SETPIPE_SZ, size);
	ssize_t n = tee(o->fd, copy[1], (size_t)size, SPLICE_F_NONBLOCK);
	close(copy[1]);
	GByteArray *bytes = g_byte_array_new();
	if (n > 0) {
		g_byte_array_set_size(bytes, (guint)n);
		gsize got = 0;
		while (got < (gsize)n) {
			ssize_t r = read(copy[0], bytes->data + got, (gsize)n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (gsize)r;
		}
		g_byte_array_set_size(bytes, (guint)got);
	}
	close(copy[0]);
	return g_byte_array_free_to_bytes(bytes);
}

static const CircuitOutletFuncs proc_out_funcs = {
        .ended = proc_out_ended,
        .resume = proc_out_resume,
        .unread = proc_out_unread,
};

static void
proc_op_tail(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Proc *p = ctx;
	CircuitOutlet *outlets[] = {p->out.outlet, p->err.outlet, NULL};
	circuit_outlet_serve_tail(outlets, s, args);
}

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
	/* As every later write is told (the inlet's "closed already"): the end
	 * of a closed stream, exit code 4 in the CLI, not a failure. */
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED,
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
		circuit_stream_done(s, proc_stat(p), proc_failed(p));
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
	circuit_stream_done(s, NULL, FALSE);
}

/* ---- cgroups ------------------------------------------------------------- */

static void
proc_on_linger_timer(CircuitWatch *w, gpointer data)
{
	ProcPlugin *pl = data;
	for (guint i = pl->lingering->len; i-- > 0;)
		if (proc_cgroup_remove(g_ptr_array_index(pl->lingering, i)))
			g_ptr_array_remove_index_fast(pl->lingering, i);
	if (pl->lingering->len == 0)
		g_clear_pointer(&pl->linger_timer, circuit_watch_cancel);
}

/* The job was reaped (or never started): its cgroup goes now, or, while
 * processes it left live on, once they are gone. */
static void
proc_cgroup_release(Proc *p)
{
	if (!p->cgroup || p->cgroup_released)
		return;
	p->cgroup_released = TRUE;
	if (proc_cgroup_remove(p->cgroup))
		return;
	ProcPlugin *pl = p->plugin;
	g_ptr_array_add(pl->lingering, g_strdup(p->cgroup));
	if (!pl->linger_timer)
		pl->linger_timer =
		        circuit_watch_timer(pl->host, PROC_LINGER_INTERVAL, PROC_LINGER_INTERVAL,
		                            proc_on_linger_timer, pl, NULL);
}

/* @sig to the job's process group and, with a cgroup, to every process in
 * it (also those that left the group, e.g. with setsid). */
static void
proc_signal_all(Proc *p, int sig)
{
	kill(-p->pid, sig);
	if (p->cgroup)
		proc_cgroup_signal(p->cgroup, sig);
}

/* Nothing of the job is left: its group is gone, and its cgroup empty. */
static gboolean
proc_all_gone(Proc *p)
{
	return kill(-p->pid, 0) != 0 && (!p->cgroup || proc_cgroup_empty(p->cgroup));
}

/* ---- lifecycle ----------------------------------------------------------- */

/* circuit-guard forgets the job's group (once). */
static void
proc_unguard(Proc *p)
{
	if (!p->guarded)
		return;
	p->guarded = FALSE;
	circuit_host_unregister_process_group(p->host, p->pid);
}

static void
proc_release_done(Proc *p)
{
	if (!p->releasing)
		return;
	p->releasing = FALSE;
	g_clear_pointer(&p->kill_timer, circuit_watch_cancel);
	proc_unguard(p);
	circuit_element_unref(p->element);
}

static void
proc_on_kill_timer(CircuitWatch *w, gpointer data)
{
	Proc *p = data;
	g_clear_pointer(&p->kill_timer, circuit_watch_cancel);
	/* Grace is over: whatever is left of the group (and cgroup) dies now. */
	proc_signal_all(p, SIGKILL);
	if (p->exited)
		proc_release_done(p);
}

/* The job's process stopped, continued or ended. */
static void
proc_on_child(CircuitWatch *w, pid_t pid, int wstatus, gpointer data)
{
	Proc *p = data;
	if (WIFSTOPPED(wstatus) || WIFCONTINUED(wstatus)) {
		/* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU or SIGCONT, from anyone. */
		p->stop_phase = WIFSTOPPED(wstatus) ? "stopped" : "continued";
		circuit_oplog_event(p->element, WIFSTOPPED(wstatus) ? "stop" : "continue",
		                    WIFSTOPPED(wstatus) ? WSTOPSIG(wstatus) : SIGCONT);
		return;
	}
	/* Releasing below may drop the last reference: keep p alive until we return. */
	CircuitElement *element = circuit_element_ref(p->element);
	p->exited = TRUE;
	p->wstatus = wstatus;
	p->ended = g_date_time_new_now_utc();
	circuit_oplog_event(p->element, WIFEXITED(wstatus) ? "exit" : "signal",
	                    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
	GList *waiters = g_steal_pointer(&p->waiters);
	for (GList *l = waiters; l; l = l->next) {
		circuit_stream_done(l->data, proc_stat(p), proc_failed(p));
	}
	g_list_free(waiters);
	proc_cgroup_release(p);
	/* A job that ended with its whole group: the guard forgets the number
	 * now, before another process can be given it. */
	if (proc_all_gone(p))
		proc_unguard(p);
	/* Released when the whole group (and cgroup) is gone, or when it already
	 * had its SIGKILL (what is left are zombies for init to reap). */
	if (p->releasing && (!p->kill_timer || proc_all_gone(p)))
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

/* ---- spawning as another account, or into a cgroup ------------------------- */

/*
 * What the child of proc_clone() does, all of it prepared by the daemon: the
 * child shares the daemon's memory (CLONE_VM) until it execs, so it makes
 * system calls only, and writes nothing but @stage and @error.
 */
typedef enum {
	PROC_STAGE_NONE,
	PROC_STAGE_SETUP, /* process group, descriptors */
	PROC_STAGE_CGROUP,
	PROC_STAGE_GROUPS,
	PROC_STAGE_GID,
	PROC_STAGE_UID,
	PROC_STAGE_DIR,
	PROC_STAGE_EXEC,
} ProcStage;

typedef struct {
	char **paths;    /* the programs to try in turn (PATH searched here) */
	gboolean search; /* @paths come from PATH */
	char **argv;
	char **envp;
	int in, out, err; /* become 0, 1 and 2 */
	int cgroup_fd;    /* -1, or the cgroup.procs of the job's cgroup */
	int max_fd;       /* where closing descriptors one by one stops */
	const char *dir;  /* NULL: @home, else the daemon's */
	const char *home; /* another account's home: "/" if it cannot enter it */
	gboolean switch_account;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
	volatile ProcStage stage; /* set by the child if it fails before exec */
	volatile int error;
} ProcExec;

/* The child's stack: the daemon is single-threaded and waits (CLONE_VFORK)
 * while the child runs, so one static stack serves every spawn. */
#define PROC_CHILD_STACK (64u * 1024u)
static char proc_child_stack[PROC_CHILD_STACK] __attribute__((aligned(64)));

/* 32-bit ids where the kernel has both (i386, arm), as glibc does. */
#ifdef SYS_setresuid32
#define PROC_SYS_SETGROUPS SYS_setgroups32
#define PROC_SYS_SETRESGID SYS_setresgid32
#define PROC_SYS_SETRESUID SYS_setresuid32
#else
#define PROC_SYS_SETGROUPS SYS_setgroups
#define PROC_SYS_SETRESGID SYS_setresgid
#define PROC_SYS_SETRESUID SYS_setresuid
#endif

__attribute__((noreturn, no_sanitize("address", "undefined"))) static void
proc_child_fail(ProcExec *x, ProcStage stage, int error)
{
	x->error = error;
	x->stage = stage;
	_exit(127);
}

/*
 * The child: no handler of the daemon's may run here (they would run on the
 * daemon's memory), so every disposition goes back to the default while all
 * signals are still blocked, as POSIX_SPAWN_SETSIGDEF does. The ids change
 * with raw system calls, for this process alone: glibc's setuid() would
 * take the daemon's locks to change every thread of it.
 */
__attribute__((no_sanitize("address", "undefined"))) static int
proc_child(void *data)
{
	ProcExec *x = data;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	if (setpgid(0, 0) != 0)
		proc_child_fail(x, PROC_STAGE_SETUP, errno);
	/* Into the job's cgroup before anything of the job runs (as root, or as
	 * the cgroup's delegate, before the ids change). */
	if (x->cgroup_fd >= 0 && write(x->cgroup_fd, "0", 1) != 1)
		proc_child_fail(x, PROC_STAGE_CGROUP, errno);
	if (dup2(x->in, 0) < 0 || dup2(x->out, 1) < 0 || dup2(x->err, 2) < 0)
		proc_child_fail(x, PROC_STAGE_SETUP, errno);
	/* None of the daemon's descriptors reach the job, CLOEXEC or not. */
	if (close_range(3, ~0u, 0) != 0)
		for (int fd = 3; fd < x->max_fd; fd++)
			close(fd);
	if (x->switch_account) {
		if (syscall(PROC_SYS_SETGROUPS, x->n_groups, x->groups) != 0)
			proc_child_fail(x, PROC_STAGE_GROUPS, errno);
		if (syscall(PROC_SYS_SETRESGID, x->gid, x->gid, x->gid) != 0)
			proc_child_fail(x, PROC_STAGE_GID, errno);
		if (syscall(PROC_SYS_SETRESUID, x->uid, x->uid, x->uid) != 0)
			proc_child_fail(x, PROC_STAGE_UID, errno);
	}
	/* After the switch: the directory must be the account's to enter. Without
	 * Dir, another account starts at home, or at / as login(1) would. */
	if (x->dir && chdir(x->dir) != 0)
		proc_child_fail(x, PROC_STAGE_DIR, errno);
	if (!x->dir && x->home && chdir(x->home) != 0 && chdir("/") != 0)
		proc_child_fail(x, PROC_STAGE_DIR, errno);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The PATH search of execvp: errors that say "not here" go on to the next
	 * directory; EACCES for a program that is there but not the account's to
	 * run is reported if nothing else was found (a directory of PATH it may
	 * not search is only "not here"). A Path with a slash has its own errno. */
	int error = ENOENT;
	gboolean denied = FALSE;
	for (guint i = 0; x->paths[i]; i++) {
		execve(x->paths[i], x->argv, x->envp);
		error = errno;
		if (error == EACCES)
			denied = denied || access(x->paths[i], F_OK) == 0;
		else if (error != ENOENT && error != ENOTDIR && error != ESTALE &&
		         error != ENODEV && error != ETIMEDOUT)
			proc_child_fail(x, PROC_STAGE_EXEC, error);
	}
	proc_child_fail(x, PROC_STAGE_EXEC, denied ? EACCES : x->search ? ENOENT : error);
}

/* (transfer full) the programs to try for @path: it, if it has a slash, else
 * each directory of circuitd's PATH (as posix_spawnp looks). */
static char **
proc_exec_paths(const char *path)
{
	if (strchr(path, '/')) {
		char **one = g_new0(char *, 2);
		one[0] = g_strdup(path);
		return one;
	}
	const char *search = g_getenv("PATH");
	g_auto(GStrv) dirs = g_strsplit(search ? search : "/bin:/usr/bin", ":", -1);
	guint n = g_strv_length(dirs);
	char **paths = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++)
		paths[i] = g_build_filename(*dirs[i] ? dirs[i] : ".", path, NULL);
	return paths;
}

/* Runs @x's child; its PID, or -1 with @error set (the child reaped). */
static pid_t
proc_clone(Proc *p, ProcExec *x, GError **error)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = clone(proc_child, proc_child_stack + sizeof proc_child_stack,
	                  CLONE_VM | CLONE_VFORK | SIGCHLD, x);
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "cannot start a process: %s", g_strerror(e));
		return -1;
	}
	if (x->stage == PROC_STAGE_NONE)
		return pid;
	/* The child has exited: reaped here, before the loop sees it. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	const char *path = p->spec->path;
	const char *user = p->account ? p->account->name : NULL;
	g_autofree char *as = user ? g_strdup_printf(" as user %s", user) : g_strdup("");
	const char *why = g_strerror(x->error);
	switch (x->stage) {
	case PROC_STAGE_EXEC:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "cannot run \"%s\"%s: %s",
		            path, as, why);
		break;
	case PROC_STAGE_DIR:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: Dir \"%s\"%s: %s", x->dir ? x->dir : "/", as, why);
		break;
	case PROC_STAGE_GROUPS:
	case PROC_STAGE_UID:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "cannot run jobs as user %s: %s: %s", user,
		            x->stage == PROC_STAGE_UID ? "setresuid" : "setgroups", why);
		break;
	case PROC_STAGE_GID:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "cannot run jobs as group %s: setresgid: %s", p->account->group, why);
		break;
	case PROC_STAGE_CGROUP:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "cannot move the job into its cgroup %s: %s", p->cgroup, why);
		break;
	default:
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "cannot start \"%s\": %s",
		            path, why);
		break;
	}
	return -1;
}

/* posix_spawn, for jobs of circuitd's own account outside cgroups: the
 * common case, and the fastest. */
static pid_t
proc_posix_spawn(Proc *p, char **argv, char **envp, int in, int out, int err, GError **error)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
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
	pid_t pid = -1;
	int rc = strchr(p->spec->path, '/')
	                 ? posix_spawn(&pid, p->spec->path, &fa, &attr, argv, envp)
	                 : posix_spawnp(&pid, p->spec->path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "cannot run \"%s\": %s",
		            p->spec->path, g_strerror(rc));
		return -1;
	}
	return pid;
}

/* proc_clone() for a job of another account or in a cgroup of its own. */
static pid_t
proc_forked_spawn(Proc *p, char **argv, char **envp, int in, int out, int err, GError **error)
{
	ProcPlugin *pl = p->plugin;
	int cgroup_fd = -1;
	if (pl->cgroup) {
		g_autoptr(GError) e = NULL;
		p->cgroup = proc_cgroup_make(pl->cgroup, &pl->cgroup_seq, &cgroup_fd, &e);
		if (!p->cgroup)
			circuit_log(p->host, p->element, G_LOG_LEVEL_WARNING,
			            "%s; the job shares circuitd's cgroup", e->message);
	}
	g_auto(GStrv) paths = proc_exec_paths(p->spec->path);
	long max_fd = sysconf(_SC_OPEN_MAX);
	ProcExec x = {
	        .paths = paths,
	        .search = strchr(p->spec->path, '/') == NULL,
	        .argv = argv,
	        .envp = envp,
	        .in = in,
	        .out = out,
	        .err = err,
	        .cgroup_fd = cgroup_fd,
	        .max_fd = max_fd > 0 && max_fd < (1 << 20) ? (int)max_fd : 1 << 20,
	        .dir = p->spec->dir && *p->spec->dir ? p->spec->dir : NULL,
	        .home = p->account ? p->account->home : NULL,
	        .switch_account = p->account != NULL,
	        .uid = p->account ? p->account->uid : 0,
	        .gid = p->account ? p->account->gid : 0,
	        .groups = p->account ? p->account->groups : NULL,
	        .n_groups = p->account ? (size_t)p->account->n_groups : 0,
	};
	pid_t pid = proc_clone(p, &x, error);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	return pid;
}

static gboolean
proc_spawn(Proc *p, char **envp, GError **error)
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
	guint nargs = g_strv_length(p->spec->args);
	char **argv = g_new0(char *, nargs + 2);
	argv[0] = p->spec->path;
	for (guint i = 0; i < nargs; i++)
		argv[i + 1] = p->spec->args[i];
	pid_t pid = p->account || p->plugin->cgroup
	                    ? proc_forked_spawn(p, argv, envp, in[0], out[1], err[1], error)
	                    : proc_posix_spawn(p, argv, envp, in[0], out[1], err[1], error);
	g_free(argv);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		return FALSE;
	}
	p->pid = pid;
	circuit_host_register_process_group(p->host, p->pid);
	p->guarded = TRUE;
	p->started = g_date_time_new_now_utc();
	p->in_fd = in[1];
	p->out.fd = out[0];
	p->err.fd = err[0];
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err.fd, F_SETFL, O_NONBLOCK);
	/* Bigger pipes move more per wakeup; failure only costs speed. */
	fcntl(p->out.fd, F_SETPIPE_SZ, 1 << 20);
	p->child = circuit_watch_child_states(p->host, p->pid, proc_on_child, p, NULL);
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
		proc_signal_all(p, SIGKILL);
	}
	/* Members of an ended job that outlive circuitd stay the guard's. */
	if (p->guarded && proc_all_gone(p))
		proc_unguard(p);
	proc_cgroup_release(p);
	g_free(p->cgroup);
	proc_account_free(p->account);
	circuit_inlet_free(p->in);
	circuit_outlet_free(p->out.outlet);
	circuit_outlet_free(p->err.outlet);
	g_clear_pointer(&p->started, g_date_time_unref);
	g_clear_pointer(&p->ended, g_date_time_unref);
	proc_spec_free(p->spec);
	g_free(p);
}

/* ---- accounts ------------------------------------------------------------ */

/*
 * The account a job runs as, into *@out: NULL for circuitd's own (no switch),
 * the default account (proc.user) for a spec that names none, or the spec's
 * User and Group, which need circuitd to be root and the caller to be allowed
 * to use them (circuit_element_caller_permits()).
 */
static gboolean
proc_job_account(CircuitElement *element, ProcPlugin *pl, const ProcSpec *spec, ProcAccount **out,
                 GError **error)
{
	*out = NULL;
	if (!spec->user && !spec->group) {
		*out = pl->account ? proc_account_copy(pl->account) : NULL;
		return TRUE;
	}
	/* Not the spec's mistake: this server cannot (exit code 1, not 2). */
	if (geteuid() != 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "process spec: \"%s\": circuitd runs as %s, not root, so it cannot run "
		            "jobs as another user or group",
		            spec->user ? "User" : "Group", g_get_user_name());
		return FALSE;
	}
	g_autoptr(ProcAccount) a = NULL;
	if (spec->user) {
		a = proc_account_lookup(spec->user, error);
		if (!a) {
			g_prefix_error(error, "process spec: \"User\" \"%s\": ", spec->user);
			return FALSE;
		}
	} else if (pl->account) {
		a = proc_account_copy(pl->account);
	} else {
		g_autofree char *self = g_strdup_printf("%u", (guint)geteuid());
		a = proc_account_lookup(self, error);
		if (!a) {
			g_prefix_error(error, "process spec: \"Group\": circuitd's own account: ");
			return FALSE;
		}
	}
	if (spec->group && !proc_account_set_group(a, spec->group, error)) {
		g_prefix_error(error, "process spec: \"Group\" \"%s\": ", spec->group);
		return FALSE;
	}
	/* The host names the caller ("PATH: permission denied (<who>): ..."). */
	if (spec->user && !circuit_element_caller_permits(element, "user", a->name)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		            "may not run jobs as user %s", a->name);
		return FALSE;
	}
	if (spec->group && !circuit_element_caller_permits(element, "group", a->group)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		            "may not run jobs as group %s", a->group);
		return FALSE;
	}
	*out = g_steal_pointer(&a);
	return TRUE;
}

/* proc.user and proc.group: the account of jobs whose spec names none. */
static gboolean
proc_default_account(ProcPlugin *pl, const char *user, const char *group, GError **error)
{
	g_autoptr(ProcAccount) a = NULL;
	g_autofree char *self = g_strdup_printf("%u", (guint)geteuid());
	a = proc_account_lookup(user ? user : self, error);
	if (!a) {
		if (user)
			g_prefix_error(error, "proc.user \"%s\": ", user);
		return FALSE;
	}
	if (group && !proc_account_set_group(a, group, error)) {
		g_prefix_error(error, "proc.group \"%s\": ", group);
		return FALSE;
	}
	if (geteuid() != 0) {
		/* Its own account is no switch; any other needs root. */
		if (a->uid == geteuid() && a->gid == getegid())
			return TRUE;
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		            "%s \"%s\": circuitd runs as %s, not root, so it cannot run jobs as "
		            "another user or group",
		            user ? "proc.user" : "proc.group", user ? user : group,
		            g_get_user_name());
		return FALSE;
	}
	pl->account = g_steal_pointer(&a);
	return TRUE;
}

static void
proc_plugin_free(ProcPlugin *pl)
{
	g_clear_pointer(&pl->linger_timer, circuit_watch_cancel);
	/* A last try for cgroups whose processes have gone since. */
	for (guint i = 0; i < pl->lingering->len; i++)
		proc_cgroup_remove(g_ptr_array_index(pl->lingering, i));
	g_ptr_array_unref(pl->lingering);
	proc_account_free(pl->account);
	g_free(pl->cgroup);
	g_free(pl);
}

static gboolean
proc_check_user(const char *value, GError **error)
{
	if (getpwnam(value))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "no user \"%s\" on this host",
	            value);
	return FALSE;
}

static gboolean
proc_check_group(const char *value, GError **error)
{
	if (getgrnam(value))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "no group \"%s\" on this host",
	            value);
	return FALSE;
}

static const CircuitPluginOption proc_options[] = {
        {.key = "user",
         .value_usage = "NAME",
         .summary = "the account jobs that name no User run as (circuitd must be root)",
         .check = proc_check_user},
        {.key = "group",
         .value_usage = "NAME",
         .summary = "their group (default: the user's)",
         .check = proc_check_group},
        {NULL},
};

static gboolean
proc_init(CircuitHost *host, gpointer *plugin_ctx, GError **error)
{
	ProcPlugin *pl = g_new0(ProcPlugin, 1);
	pl->host = host;
	pl->lingering = g_ptr_array_new_with_free_func(g_free);
	const char *user = circuit_host_option(host, "proc.user");
	const char *group = circuit_host_option(host, "proc.group");
	if ((user || group) && !proc_default_account(pl, user, group, error)) {
		proc_plugin_free(pl);
		return FALSE;
	}
	if (pl->account)
		circuit_log(host, NULL, G_LOG_LEVEL_MESSAGE,
		            "jobs that name no User run as user %s, group %s", pl->account->name,
		            pl->account->group);
	g_autofree char *why = NULL;
	pl->cgroup = proc_cgroup_take(&why);
	if (pl->cgroup)
		circuit_log(host, NULL, G_LOG_LEVEL_INFO,
		            "each job runs in a cgroup of its own under %s (circuitd moved itself "
		            "into %s/daemon)",
		            pl->cgroup, pl->cgroup);
	else
		circuit_log(host, NULL, G_LOG_LEVEL_INFO, "jobs share circuitd's cgroup: %s", why);
	*plugin_ctx = pl;
	return TRUE;
}

static void
proc_fini(gpointer plugin_ctx)
{
	proc_plugin_free(plugin_ctx);
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
	CircuitHost *host = circuit_element_host(element);
	ProcPlugin *pl = circuit_host_plugin_ctx(host);
	ProcAccount *account = NULL;
	if (!proc_job_account(element, pl, spec, &account, error)) {
		proc_spec_free(spec);
		return FALSE;
	}
	/* A job of another account checks Dir as that account, in the child. */
	if (!account && spec->dir && *spec->dir && !g_file_test(spec->dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: Dir \"%s\" is not a directory", spec->dir);
		proc_spec_free(spec);
		return FALSE;
	}
	Proc *p = g_new0(Proc, 1);
	p->element = element;
	p->host = host;
	p->plugin = pl;
	p->spec = spec;
	p->account = account;
	p->in_fd = p->out.fd = p->err.fd = -1;
	p->out.proc = p->err.proc = p;
	p->out.name = "stdout";
	p->err.name = "stderr";
	p->in = circuit_inlet_new(element, "stdin", &proc_in_funcs, p, NULL);
	p->out.outlet = circuit_outlet_new(element, "stdout", &proc_out_funcs, &p->out, NULL);
	p->err.outlet = circuit_outlet_new(element, "stderr", &proc_out_funcs, &p->err, NULL);
	/* The server's environment (without CIRCUIT_*) unless the spec has one;
	 * another account's job sees its own HOME, USER and LOGNAME. */
	g_autofree char **inherited = spec->env ? NULL : proc_inherited_env();
	char **env = spec->env ? spec->env : inherited;
	g_auto(GStrv) account_env =
	        account ? proc_account_env(account, (const char *const *)env, !spec->env) : NULL;
	if (!proc_spawn(p, account_env ? account_env : env, error)) {
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
	if (p->exited && proc_all_gone(p)) {
		proc_unguard(p);
		return;
	}
	/* Keep the element alive until the group is gone. */
	p->releasing = TRUE;
	circuit_element_ref(element);
	proc_signal_all(p, SIGTERM);
	double grace = circuit_host_scrub_grace(p->host);
	p->kill_timer = circuit_watch_timer(p->host, grace, 0, proc_on_kill_timer, p, NULL);
}

/* status: the members of peek a person checks first, those that are set. */
static JsonNode *
proc_status(CircuitElement *element, gpointer ctx)
{
	static const char *const keys[] = {"Phase", "Pid", "ExitCode", "Signal", "CPU", "RSS"};
	g_autoptr(JsonNode) all = proc_stat(ctx);
	JsonObject *from = json_node_get_object(all);
	JsonObject *o = json_object_new();
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		JsonNode *v = json_object_get_member(from, keys[i]);
		if (v && !JSON_NODE_HOLDS_NULL(v))
			json_object_set_member(o, keys[i], json_node_copy(v));
	}
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
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
        CIRCUIT_OUTLET_TAIL_OP(proc_op_tail,
                               "print the last bytes of stdout (or stderr), 64 KiB at most: what "
                               "passed and what waits in the pipe; takes nothing from a reader"),
        {.name = "wait", .summary = "wait for the process to exit", .run = proc_op_wait},
        {.name = "signal",
         .args_usage = "SIGNAL",
         .summary = "send a signal to the process group",
         .min_args = 1,
         .max_args = 1,
         .run = proc_op_signal},
};

CIRCUIT_PLUGIN_DEFINE(proc, .version = "0.1.0", .summary = "OS processes", .init = proc_init,
                      .fini = proc_fini, .make_args_usage = "[-scrub]", .make_min_args = 0,
                      .make_max_args = 1, .make_flags = CIRCUIT_OP_BODY, .create = proc_create,
                      .peek = proc_peek, .status = proc_status, .scrub = proc_scrub,
                      .destroy = proc_destroy, .ops = proc_ops, .n_ops = G_N_ELEMENTS(proc_ops),
                      .options = proc_options);
