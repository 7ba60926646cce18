// SPDX-License-Identifier: Apache-2.0
//
// host.c - the core's implementation of the SDK: hosts, elements, watches
// (over libev), logging and the process-group guard.
#include "plugin_host.h"

#include "cluster/cluster.h"
#include "oplog/oplog.h"
#include "transport/transport.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

HostConfig host_config = {.grace = 3.0, .guard_fd = -1};

struct CircuitHost {
	Plugin *plugin;
};

/* ---- hosts --------------------------------------------------------------- */

CircuitHost *
host_new(Plugin *plugin)
{
	CircuitHost *host = g_new0(CircuitHost, 1);
	host->plugin = plugin;
	return host;
}

gpointer
circuit_host_plugin_ctx(CircuitHost *host)
{
	return host->plugin->ctx;
}

const char *
circuit_host_server_id(CircuitHost *host)
{
	return host_config.server_id;
}

const char *
circuit_host_server_addr(CircuitHost *host)
{
	return host_config.server_addr;
}

const char *
circuit_host_option(CircuitHost *host, const char *name)
{
	return host_config.options ? g_hash_table_lookup(host_config.options, name) : NULL;
}

guint
circuit_host_abi_minor(CircuitHost *host)
{
	return CIRCUIT_PLUGIN_ABI_MINOR;
}

void
circuit_host_set_unavailable(CircuitHost *host, const char *why)
{
	Plugin *p = host->plugin;
	if (g_strcmp0(p->unavailable, why) == 0)
		return;
	if (why)
		g_warning("plugin %s: %s (mk%s fails until this changes)", p->kind, why, p->kind);
	else
		g_message("plugin %s: available again (it was: %s)", p->kind, p->unavailable);
	g_free(p->unavailable);
	p->unavailable = g_strdup(why);
}

double
circuit_host_scrub_grace(CircuitHost *host)
{
	return host_config.grace;
}

/* ---- membership (ABI 1.2) ------------------------------------------------ */

/*
 * One circuit_host_watch_members() registration. With a cluster it rides on
 * a member_watch() of the engine (member_id > 0), which owns it: the
 * engine's destroy notify (on member_unwatch() or member_free() at
 * shutdown) frees it. A server running alone has no engine; its one member
 * is itself, which can neither join nor leave, so the watch is only kept
 * (member_id == 0) until it is removed and never fires.
 */
typedef struct {
	guint id;
	guint member_id;
	CircuitMemberFunc fn;
	gpointer user_data;
	GDestroyNotify destroy;
} HostMemberWatch;

static GHashTable *host_member_watches; /* id -> HostMemberWatch */
static guint host_member_next_id;

static void
host_member_path(guint64 id, char out[20])
{
	char buf[18];
	member_id_format(id, buf);
	out[0] = '/';
	memcpy(out + 1, buf, sizeof buf);
}

static void
host_member_on_event(Member *m, MemberEventType type, const MemberInfo *info, gpointer user_data)
{
	HostMemberWatch *w = user_data;
	CircuitMemberEvent event;
	switch (type) {
	case MEMBER_EVENT_JOIN:
		event = CIRCUIT_MEMBER_JOIN;
		break;
	case MEMBER_EVENT_LEAVE:
		event = CIRCUIT_MEMBER_LEAVE;
		break;
	default:
		return; /* suspicion and address changes are no joins or departures */
	}
	char path[20];
	host_member_path(info->id, path);
	w->fn(event, path, w->user_data);
}

/* Frees @data (a HostMemberWatch): the engine's destroy notify, or called
 * directly for the watches of a lone server. */
static void
host_member_watch_free(gpointer data)
{
	HostMemberWatch *w = data;
	g_hash_table_steal(host_member_watches, GUINT_TO_POINTER(w->id));
	if (w->destroy)
		w->destroy(w->user_data);
	g_free(w);
}

typedef struct {
	GPtrArray *paths;
} HostMembersCollect;

static void
host_members_add(const MemberInfo *info, gpointer user_data)
{
	HostMembersCollect *c = user_data;
	if (info->state != MEMBER_ALIVE && info->state != MEMBER_SUSPECT)
		return;
	char path[20];
	host_member_path(info->id, path);
	g_ptr_array_add(c->paths, g_strdup(path));
}

char **
circuit_host_members(CircuitHost *host)
{
	HostMembersCollect c = {g_ptr_array_new()};
	Member *m = cluster_member();
	if (m)
		member_foreach(m, host_members_add, &c); /* this server first */
	else if (host_config.server_id)
		g_ptr_array_add(c.paths, g_strconcat("/", host_config.server_id, NULL));
	g_ptr_array_add(c.paths, NULL);
	return (char **)g_ptr_array_free(c.paths, FALSE);
}

guint
circuit_host_watch_members(CircuitHost *host, CircuitMemberFunc fn, gpointer user_data,
                           GDestroyNotify destroy)
{
	g_return_val_if_fail(fn != NULL, 0);
	Member *m = cluster_member();
	if (!m && !host_config.server_id)
		return 0; /* not a server (yet): no membership at all */
	if (!host_member_watches)
		host_member_watches = g_hash_table_new(NULL, NULL);
	HostMemberWatch *w = g_new0(HostMemberWatch, 1);
	do
		w->id = ++host_member_next_id;
	while (w->id == 0 || g_hash_table_contains(host_member_watches, GUINT_TO_POINTER(w->id)));
	w->fn = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	g_hash_table_insert(host_member_watches, GUINT_TO_POINTER(w->id), w);
	if (m)
		w->member_id = member_watch(m, host_member_on_event, w, host_member_watch_free);
	return w->id;
}

void
circuit_host_unwatch_members(CircuitHost *host, guint id)
{
	HostMemberWatch *w = host_member_watches && id ? g_hash_table_lookup(host_member_watches,
	                                                                     GUINT_TO_POINTER(id))
	                                               : NULL;
	if (!w)
		return;
	Member *m = cluster_member();
	if (w->member_id && m)
		member_unwatch(m, w->member_id); /* runs host_member_watch_free */
	else
		host_member_watch_free(w);
}

static GString *host_guard_buf;
static ev_prepare host_guard_prepare;

/* Runs before the loop sleeps: by then replies of this turn are written, so
 * waking circuit-guard does not delay them. */
static void
host_guard_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
	ev_prepare_stop(loop, w);
	const char *p = host_guard_buf->str;
	gsize left = host_guard_buf->len;
	while (left > 0) {
		ssize_t n = write(host_config.guard_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* the guard is gone; nothing better to do */
		p += n;
		left -= (gsize)n;
	}
	g_string_truncate(host_guard_buf, 0);
}

static void
host_guard_buf_init(void)
{
	if (!host_guard_buf) {
		host_guard_buf = g_string_new(NULL);
		ev_prepare_init(&host_guard_prepare, host_guard_flush);
	}
}

/* The groups circuit-guard was told of: pgid -> how many times (a number
 * registered again before its "-" went out counts twice, as in the guard). */
static GHashTable *host_guarded;

static void
host_guard_write(char sign, pid_t pgid)
{
	if (!host_guarded)
		host_guarded = g_hash_table_new(g_direct_hash, g_direct_equal);
	gpointer key = GINT_TO_POINTER((int)pgid);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(host_guarded, key));
	if (sign == '+')
		g_hash_table_insert(host_guarded, key, GUINT_TO_POINTER(n + 1));
	else if (n > 1)
		g_hash_table_insert(host_guarded, key, GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(host_guarded, key);
	if (host_config.guard_fd < 0)
		return;
	host_guard_buf_init();
	g_string_append_printf(host_guard_buf, "%c%ld\n", sign, (long)pgid);
	if (!ev_is_active(&host_guard_prepare))
		ev_prepare_start(EV_DEFAULT, &host_guard_prepare);
}

void
host_guard_replay(void)
{
	if (host_guard_buf)
		g_string_truncate(host_guard_buf, 0); /* they are in the table */
	if (host_config.guard_fd < 0 || !host_guarded || g_hash_table_size(host_guarded) == 0)
		return;
	host_guard_buf_init();
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, host_guarded);
	while (g_hash_table_iter_next(&it, &key, &value))
		for (guint i = 0; i < GPOINTER_TO_UINT(value); i++)
			g_string_append_printf(host_guard_buf, "+%d\n", GPOINTER_TO_INT(key));
	/* Now, not at the end of the turn: the new guard knows every group
	 * before circuitd does anything else. */
	host_guard_flush(EV_DEFAULT, &host_guard_prepare, 0);
}

void
circuit_host_register_process_group(CircuitHost *host, pid_t pgid)
{
	host_guard_write('+', pgid);
}

void
circuit_host_unregister_process_group(CircuitHost *host, pid_t pgid)
{
	host_guard_write('-', pgid);
}

/* ---- elements ------------------------------------------------------------ */

struct CircuitElement {
	guint refcount;
	Plugin *plugin;
	char *kind; /* what it was made as: the plugin's kind or an alias */
	char *path;
	Anchor *anchor;
	gpointer ctx;
	gboolean created;
	gboolean scrubbed;
	CircuitStream *pending_make; /* CIRCUIT_MAKE_ASYNC: the mk waiting for us */
	Caller *creator;             /* (nullable) who asked for it, while create() runs */
};

static guint element_live;
static GHashTable *element_all; /* every live element, for shutdown reports */

CircuitElement *
element_new(Plugin *plugin, const char *kind, const char *path)
{
	CircuitElement *e = g_new0(CircuitElement, 1);
	e->refcount = 1;
	e->plugin = plugin;
	e->kind = g_strdup(kind ? kind : plugin->kind);
	e->path = g_strdup(path);
	element_live++;
	if (!element_all)
		element_all = g_hash_table_new(NULL, NULL);
	g_hash_table_add(element_all, e);
	return e;
}

Plugin *
element_plugin(CircuitElement *element)
{
	return element->plugin;
}

const char *
element_kind(CircuitElement *element)
{
	return element->kind;
}

const char *
circuit_element_kind(CircuitElement *element)
{
	return element->kind;
}

gpointer
element_ctx(CircuitElement *element)
{
	return element->ctx;
}

void
element_set_ctx(CircuitElement *element, gpointer ctx)
{
	element->ctx = ctx;
	element->created = TRUE;
}

void
element_set_pending_make(CircuitElement *element, CircuitStream *stream)
{
	element->pending_make = stream_ref(stream);
}

void
circuit_element_created(CircuitElement *element, const GError *error)
{
	CircuitStream *s = element->pending_make;
	element->pending_make = NULL;
	if (s) {
		if (error) {
			circuit_stream_fail(s, error);
		} else {
			circuit_stream_reply(s, NULL, FALSE);
			circuit_stream_finish(s);
		}
		stream_unref(s);
	}
	if (error)
		circuit_element_scrub(element);
}

void
element_attach(CircuitElement *element, Anchor *anchor)
{
	element->anchor = anchor;
	anchor_set_element(anchor, element);
}

guint
element_live_count(void)
{
	return element_live;
}

void
element_report_live(void)
{
	GHashTableIter it;
	gpointer key;
	if (!element_all)
		return;
	g_hash_table_iter_init(&it, element_all);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		CircuitElement *e = key;
		g_warning("%s (%s) was still releasing at exit (%u references)", e->path, e->kind,
		          e->refcount);
	}
}

CircuitHost *
circuit_element_host(CircuitElement *element)
{
	return element->plugin->host;
}

const char *
circuit_element_path(CircuitElement *element)
{
	return element->path;
}

CircuitElement *
circuit_element_ref(CircuitElement *element)
{
	element->refcount++;
	return element;
}

void
circuit_element_unref(CircuitElement *element)
{
	if (!element || --element->refcount > 0)
		return;
	if (element->created && element->plugin->desc->destroy)
		element->plugin->desc->destroy(element->ctx);
	g_hash_table_remove(element_all, element);
	g_free(element->kind);
	g_free(element->path);
	g_free(element);
	element_live--;
}

gboolean
circuit_element_is_scrubbed(CircuitElement *element)
{
	return element->scrubbed;
}

void
element_set_creator(CircuitElement *element, Caller *caller)
{
	if (element->creator)
		caller_unref(element->creator);
	element->creator = caller ? caller_ref(caller) : NULL;
}

gboolean
circuit_element_caller_permits(CircuitElement *element, const char *right, const char *value)
{
	g_return_val_if_fail(element != NULL && right != NULL && value != NULL, FALSE);
	return element->creator && acl_permits(element->creator, right, value);
}

void
circuit_element_scrub(CircuitElement *element)
{
	if (element->scrubbed)
		return;
	element->scrubbed = TRUE;
	circuit_element_ref(element);
	if (element->anchor) {
		Anchor *a = element->anchor;
		element->anchor = NULL;
		anchor_set_element(a, NULL);
		anchor_prune(a);
		/* The anchor's reference. */
		circuit_element_unref(element);
	}
	if (element->created && element->plugin->desc->scrub)
		element->plugin->desc->scrub(element, element->ctx);
	if (element->pending_make) {
		/* Scrubbed before its creation finished: the mk learns so. */
		g_autoptr(GError) e =
		        g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
		                    "%s was scrubbed before it was made", element->path);
		circuit_element_created(element, e);
	}
	circuit_element_unref(element);
}

/* ---- logging ------------------------------------------------------------- */

void
circuit_log(CircuitHost *host, CircuitElement *element, GLogLevelFlags level, const char *format,
            ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	const char *domain = host && host->plugin ? host->plugin->log_domain : "circuit";
	if (element)
		g_log(domain, level, "%s: %s", element->path, msg);
	else
		g_log(domain, level, "%s", msg);
}

void
circuit_oplog_event(CircuitElement *element, const char *what, gint64 value)
{
	oplog_event(element->path, element->kind, what, value);
}

/* ---- watches ------------------------------------------------------------- */

typedef enum { WATCH_FD, WATCH_TIMER, WATCH_CHILD } WatchType;

struct CircuitWatch {
	WatchType type;
	union {
		ev_io io;
		ev_timer timer;
		ev_child child;
	} w;
	union {
		CircuitFdFunc fd;
		CircuitTimerFunc timer;
		CircuitChildFunc child;
	} func;
	gpointer user_data;
	GDestroyNotify notify;
	int in_callback;
	gboolean cancelled;
};

static void
watch_free(CircuitWatch *watch)
{
	if (watch->notify && watch->user_data)
		watch->notify(watch->user_data);
	g_free(watch);
}

static void
watch_on_io(struct ev_loop *loop, ev_io *io, int revents)
{
	CircuitWatch *watch = io->data;
	guint flags = ((revents & EV_READ) ? CIRCUIT_IO_READ : 0) |
	              ((revents & EV_WRITE) ? CIRCUIT_IO_WRITE : 0);
	watch->in_callback++;
	watch->func.fd(watch, io->fd, flags, watch->user_data);
	if (--watch->in_callback == 0 && watch->cancelled)
		watch_free(watch);
}

static void
watch_on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	CircuitWatch *watch = t->data;
	watch->in_callback++;
	watch->func.timer(watch, watch->user_data);
	if (--watch->in_callback == 0 && watch->cancelled)
		watch_free(watch);
}

static void
watch_on_child(struct ev_loop *loop, ev_child *c, int revents)
{
	CircuitWatch *watch = c->data;
	/* A stop or continue (reported only to circuit_watch_child_states()'s
	 * watches) is not the end: the watch goes on. */
	if (!WIFSTOPPED(c->rstatus) && !WIFCONTINUED(c->rstatus))
		ev_child_stop(loop, c);
	watch->in_callback++;
	watch->func.child(watch, c->rpid, c->rstatus, watch->user_data);
	if (--watch->in_callback == 0 && watch->cancelled)
		watch_free(watch);
}

static int
watch_ev_events(guint events)
{
	return ((events & CIRCUIT_IO_READ) ? EV_READ : 0) |
	       ((events & CIRCUIT_IO_WRITE) ? EV_WRITE : 0);
}

CircuitWatch *
circuit_watch_fd(CircuitHost *host, int fd, guint events, CircuitFdFunc func, gpointer user_data,
                 GDestroyNotify notify)
{
	g_return_val_if_fail(fd >= 0 && func != NULL, NULL);
	CircuitWatch *watch = g_new0(CircuitWatch, 1);
	watch->type = WATCH_FD;
	watch->func.fd = func;
	watch->user_data = user_data;
	watch->notify = notify;
	ev_io_init(&watch->w.io, watch_on_io, fd, watch_ev_events(events));
	watch->w.io.data = watch;
	if (events)
		ev_io_start(EV_DEFAULT, &watch->w.io);
	return watch;
}

void
circuit_watch_fd_set_events(CircuitWatch *watch, guint events)
{
	g_return_if_fail(watch != NULL && watch->type == WATCH_FD);
	if (watch->cancelled)
		return;
	int ev = watch_ev_events(events);
	if (ev_is_active(&watch->w.io) && (watch->w.io.events & (EV_READ | EV_WRITE)) == ev)
		return;
	ev_io_stop(EV_DEFAULT, &watch->w.io);
	ev_io_set(&watch->w.io, watch->w.io.fd, ev);
	if (ev)
		ev_io_start(EV_DEFAULT, &watch->w.io);
}

CircuitWatch *
circuit_watch_timer(CircuitHost *host, double after, double repeat, CircuitTimerFunc func,
                    gpointer user_data, GDestroyNotify notify)
{
	g_return_val_if_fail(func != NULL, NULL);
	CircuitWatch *watch = g_new0(CircuitWatch, 1);
	watch->type = WATCH_TIMER;
	watch->func.timer = func;
	watch->user_data = user_data;
	watch->notify = notify;
	ev_timer_init(&watch->w.timer, watch_on_timer, after, repeat > 0 ? repeat : 0.);
	watch->w.timer.data = watch;
	ev_timer_start(EV_DEFAULT, &watch->w.timer);
	return watch;
}

/* @trace: also report stops and continues (libev reaps with WUNTRACED and
 * WCONTINUED either way; it tells only watches that asked). */
static CircuitWatch *
watch_child(pid_t pid, int trace, CircuitChildFunc func, gpointer user_data, GDestroyNotify notify)
{
	g_return_val_if_fail(pid > 0 && func != NULL, NULL);
	CircuitWatch *watch = g_new0(CircuitWatch, 1);
	watch->type = WATCH_CHILD;
	watch->func.child = func;
	watch->user_data = user_data;
	watch->notify = notify;
	ev_child_init(&watch->w.child, watch_on_child, pid, trace);
	watch->w.child.data = watch;
	ev_child_start(EV_DEFAULT, &watch->w.child);
	return watch;
}

CircuitWatch *
circuit_watch_child(CircuitHost *host, pid_t pid, CircuitChildFunc func, gpointer user_data,
                    GDestroyNotify notify)
{
	return watch_child(pid, 0, func, user_data, notify);
}

CircuitWatch *
circuit_watch_child_states(CircuitHost *host, pid_t pid, CircuitChildFunc func, gpointer user_data,
                           GDestroyNotify notify)
{
	return watch_child(pid, 1, func, user_data, notify);
}

void
circuit_watch_cancel(CircuitWatch *watch)
{
	if (!watch || watch->cancelled)
		return;
	watch->cancelled = TRUE;
	switch (watch->type) {
	case WATCH_FD:
		ev_io_stop(EV_DEFAULT, &watch->w.io);
		break;
	case WATCH_TIMER:
		ev_timer_stop(EV_DEFAULT, &watch->w.timer);
		break;
	case WATCH_CHILD:
		ev_child_stop(EV_DEFAULT, &watch->w.child);
		break;
	}
	if (watch->in_callback == 0)
		watch_free(watch);
}
