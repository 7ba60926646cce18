// SPDX-License-Identifier: Apache-2.0
//
// subscription.c - the subscription plugin: the element kinds "@join" and
// "@leave" (descriptor aliases, plugin SDK ABI 1.2), receive-only feeds of
// cluster membership. See docs/subscription.md.
//
// Each element holds a queue of events, each the anchor path of one server
// ("/X<16 hex>"), filled by a membership watch (circuit_host_watch_members)
// for as long as the element lives: no re-arming. An @join first gets every
// current member, this server included, then each server that joins; an
// @leave gets each departure, exactly once per departure.
//
// recv delivers the oldest event with chan's acknowledgement rule: the
// event leaves the queue only when the client's EOF follows the server's
// (the client has the whole line). A receiver that goes away before that
// puts its event back at its place (events keep their sequence number), so
// a dead client swallows nothing, and a waiting receiver that goes away
// leaves nothing behind that could swallow a later event.
//
// The queue is bounded (SUB_QUEUE_MAX events, in flight included): while it
// is full, new events are dropped and counted ("Dropped" in peek), since
// membership cannot be paused for a slow reader.
//
// The stream side of recv (waiting, writing with back-pressure, telling an
// acknowledgement from a client gone away) is the SDK's acknowledged
// delivery (circuit_delivery_*, ABI 1.2), shared with chan.
//
// Everything runs on the core's loop thread; waiting receivers are streams
// parked in a queue, woken by sub_dispatch() whenever something changes.

#include <circuit/plugin.h>

#include <string.h>

/* Events a subscription keeps, queued and in flight, before it drops. */
#define SUB_QUEUE_MAX 10000

typedef struct SubCtx SubCtx;
typedef struct SubRecv SubRecv;

/* SubEvent: one event, its text as printed by recv ("/X...\n"). */
typedef struct {
	GBytes *text;
	guint64 seq;
} SubEvent;

/* SubRecv: one "recv" operation, freed by its delivery once the stream is
 * gone. In ctx->waiting until it gets an event, then in ctx->inflight
 * until its delivery ends. */
struct SubRecv {
	SubCtx *ctx;
	CircuitDelivery *delivery;
	SubEvent *ev; /* once handed an event, until its delivery ends */
	GList link;   /* in ctx->waiting or ctx->inflight */
};

/* SubCtx: the element context. */
struct SubCtx {
	CircuitElement *element; /* not referenced: the context dies with it */
	CircuitHost *host;
	CircuitMemberEvent source;
	const char *source_name; /* "@join" or "@leave" */
	guint watch;             /* membership watch, 0 once removed */
	gboolean closed;         /* no more events will come */
	gboolean scrubbed;
	guint64 seq;       /* events produced, dropped ones included */
	guint64 dropped;   /* events lost to a full queue */
	guint64 num_recv;  /* events acknowledged by a receiver */
	gboolean dropping; /* the queue is full (log once per episode) */

	GQueue queue;    /* SubEvent*, sorted by seq */
	GQueue waiting;  /* SubRecv* waiting for an event (embedded links) */
	GQueue inflight; /* SubRecv* writing or waiting for an ack */

	gboolean dispatching;
	gboolean dispatch_again;
};

static void sub_dispatch(SubCtx *ctx);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

static void
sub_event_free(SubEvent *ev)
{
	if (!ev)
		return;
	g_bytes_unref(ev->text);
	g_free(ev);
}

static guint
sub_pending(SubCtx *ctx)
{
	return ctx->queue.length + ctx->inflight.length;
}

/* A membership event for this subscription: queued, or counted as dropped
 * when the queue is full. */
static void
sub_push(SubCtx *ctx, const char *server_path)
{
	ctx->seq++;
	if (sub_pending(ctx) >= SUB_QUEUE_MAX) {
		ctx->dropped++;
		if (!ctx->dropping)
			circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_WARNING,
			            "%u events wait for a receiver: dropping new ones (%s %s "
			            "dropped)",
			            SUB_QUEUE_MAX, ctx->source_name, server_path);
		ctx->dropping = TRUE;
		return;
	}
	ctx->dropping = FALSE;
	SubEvent *ev = g_new0(SubEvent, 1);
	char *text = g_strconcat(server_path, "\n", NULL);
	ev->text = g_bytes_new_take(text, strlen(text));
	ev->seq = ctx->seq;
	g_queue_push_tail(&ctx->queue, ev);
}

/* Puts back an event a receiver did not acknowledge, at its place. */
static void
sub_put_back(SubCtx *ctx, SubEvent *ev)
{
	if (ctx->scrubbed) {
		sub_event_free(ev);
		return;
	}
	GList *l = ctx->queue.tail;
	while (l && ((SubEvent *)l->data)->seq > ev->seq)
		l = l->prev;
	if (l)
		g_queue_insert_after(&ctx->queue, l, ev);
	else
		g_queue_push_head(&ctx->queue, ev);
}

/* ------------------------------------------------------------------------ */
/* Membership                                                                */

static void
sub_on_member(CircuitMemberEvent event, const char *server_path, gpointer user_data)
{
	SubCtx *ctx = user_data;
	if (event != ctx->source || ctx->closed)
		return;
	sub_push(ctx, server_path);
	sub_dispatch(ctx);
}

/* The watch's destroy notify. When we removed it ourselves, ctx->watch is
 * already 0; otherwise the server stopped its membership (shutdown) and no
 * event will come any more: the feed is closed, drained as a closed channel. */
static void
sub_watch_gone(gpointer user_data)
{
	SubCtx *ctx = user_data;
	if (!ctx->watch)
		return;
	ctx->watch = 0;
	ctx->closed = TRUE;
	circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_INFO,
	            "membership stopped: the subscription is closed");
	sub_dispatch(ctx);
}

static void
sub_unwatch(SubCtx *ctx)
{
	guint id = ctx->watch;
	ctx->watch = 0;
	if (id)
		circuit_host_unwatch_members(ctx->host, id);
}

/* ------------------------------------------------------------------------ */
/* Receivers                                                                 */

static void
sub_recv_free(gpointer data)
{
	SubRecv *recv = data;
	sub_event_free(recv->ev);
	CircuitElement *element = recv->ctx->element;
	g_free(recv);
	/* May run destroy(), which frees the context: nothing may follow. */
	circuit_element_unref(element);
}

/* Hands @ev (transfer full) to the waiting receiver @recv (detached). Its
 * delivery may end before this returns. */
static void
sub_recv_start(SubCtx *ctx, SubRecv *recv, SubEvent *ev)
{
	recv->ev = ev;
	g_queue_push_tail_link(&ctx->inflight, &recv->link);
	circuit_delivery_start(recv->delivery, NULL, ev->text);
}

/* Fails every waiting receiver once the feed is closed and holds nothing
 * that could still be delivered (events in flight could come back). */
static void
sub_end_waiting(SubCtx *ctx)
{
	if (!ctx->closed || ctx->queue.length || ctx->inflight.length)
		return;
	GList *l;
	while ((l = g_queue_pop_head_link(&ctx->waiting)))
		circuit_delivery_abort(((SubRecv *)l->data)->delivery, CIRCUIT_ERROR_CLOSED,
		                       "subscription closed");
}

/* Hands events to waiting receivers, oldest first, and ends the receivers
 * of a drained closed feed. Re-entrant calls only ask the running loop to
 * go round once more. */
static void
sub_dispatch(SubCtx *ctx)
{
	if (ctx->scrubbed)
		return;
	if (ctx->dispatching) {
		ctx->dispatch_again = TRUE;
		return;
	}
	ctx->dispatching = TRUE;
	do {
		ctx->dispatch_again = FALSE;
		while (ctx->waiting.length && ctx->queue.length) {
			SubEvent *ev = g_queue_pop_head(&ctx->queue);
			GList *l = g_queue_pop_head_link(&ctx->waiting);
			sub_recv_start(ctx, l->data, ev);
		}
		sub_end_waiting(ctx);
	} while (ctx->dispatch_again && !ctx->scrubbed);
	ctx->dispatching = FALSE;
}

/* The delivery of @recv ended: an event acknowledged leaves the
 * subscription; one that was not goes back to its place. */
static void
sub_recv_delivered(CircuitDelivery *delivery, gboolean acked, const GError *error,
                   gpointer user_data)
{
	SubRecv *recv = user_data;
	SubCtx *ctx = recv->ctx;
	SubEvent *ev = recv->ev;
	recv->ev = NULL;
	if (!ev) {
		/* Nothing was handed to it: it leaves nothing behind. */
		g_queue_unlink(&ctx->waiting, &recv->link);
	} else if (acked) {
		g_queue_unlink(&ctx->inflight, &recv->link);
		sub_event_free(ev);
		ctx->num_recv++;
	} else {
		g_queue_unlink(&ctx->inflight, &recv->link);
		circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_INFO,
		            "receiver went away (%s) before acknowledging; event %" G_GUINT64_FORMAT
		            " goes back to its place",
		            error ? error->message : "no acknowledgement", ev->seq);
		sub_put_back(ctx, ev);
	}
	sub_dispatch(ctx);
}

static void
sub_op_recv(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
            const char *const *args)
{
	SubCtx *ctx = element_ctx;
	if (ctx->scrubbed || (ctx->closed && !sub_pending(ctx))) {
		GError *error = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED,
		                                    "subscription closed");
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	SubRecv *recv = g_new0(SubRecv, 1);
	recv->ctx = ctx;
	recv->link.data = recv;
	circuit_element_ref(element);
	recv->delivery = circuit_stream_deliver(stream, sub_recv_delivered, recv, sub_recv_free);
	g_queue_push_tail_link(&ctx->waiting, &recv->link);
	sub_dispatch(ctx);
}

/* ------------------------------------------------------------------------ */
/* Element lifecycle                                                         */

static gboolean
sub_create(CircuitElement *element, const char *const *args, GBytes *body, gpointer *element_ctx,
           GError **error)
{
	const char *kind = circuit_element_kind(element);
	CircuitMemberEvent source;
	if (g_strcmp0(kind, "@join") == 0) {
		source = CIRCUIT_MEMBER_JOIN;
	} else if (g_strcmp0(kind, "@leave") == 0) {
		source = CIRCUIT_MEMBER_LEAVE;
	} else {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "\"%s\" is the plugin; make its elements with mk@join or mk@leave",
		            kind ? kind : "");
		return FALSE;
	}
	SubCtx *ctx = g_new0(SubCtx, 1);
	ctx->element = element;
	ctx->host = circuit_element_host(element);
	ctx->source = source;
	ctx->source_name = source == CIRCUIT_MEMBER_JOIN ? "@join" : "@leave";
	g_queue_init(&ctx->queue);
	g_queue_init(&ctx->waiting);
	g_queue_init(&ctx->inflight);
	ctx->watch = circuit_host_watch_members(ctx->host, sub_on_member, ctx, sub_watch_gone);
	if (!ctx->watch) {
		g_free(ctx);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "this server has no membership to subscribe to");
		return FALSE;
	}
	if (source == CIRCUIT_MEMBER_JOIN) {
		/* The watch and this list are taken in the same turn of the
		 * loop, so no join falls between them or is reported twice. */
		g_auto(GStrv) members = circuit_host_members(ctx->host);
		for (guint i = 0; members && members[i]; i++)
			sub_push(ctx, members[i]);
	}
	*element_ctx = ctx;
	circuit_log(ctx->host, element, G_LOG_LEVEL_DEBUG,
	            "%s subscription made, %u event(s) queued", ctx->source_name,
	            ctx->queue.length);
	return TRUE;
}

/* status: events waiting, and whether more will come. */
static JsonNode *
sub_status(CircuitElement *element, gpointer element_ctx)
{
	SubCtx *ctx = element_ctx;
	JsonObject *o = json_object_new();
	json_object_set_int_member(o, "Pending", sub_pending(ctx));
	json_object_set_boolean_member(o, "Closed", ctx->closed);
	if (ctx->dropped)
		json_object_set_int_member(o, "Dropped", (gint64)ctx->dropped);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static JsonNode *
sub_peek(CircuitElement *element, gpointer element_ctx)
{
	SubCtx *ctx = element_ctx;
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "Source");
	json_builder_add_string_value(b, ctx->source_name);
	json_builder_set_member_name(b, "Pending");
	json_builder_add_int_value(b, sub_pending(ctx));
	json_builder_set_member_name(b, "Closed");
	json_builder_add_boolean_value(b, ctx->closed);
	json_builder_set_member_name(b, "Seq");
	json_builder_add_int_value(b, (gint64)ctx->seq);
	json_builder_set_member_name(b, "Dropped");
	json_builder_add_int_value(b, (gint64)ctx->dropped);
	json_builder_set_member_name(b, "NumRecv");
	json_builder_add_int_value(b, (gint64)ctx->num_recv);
	json_builder_set_member_name(b, "WaitingReceivers");
	json_builder_add_int_value(b, ctx->waiting.length);
	json_builder_set_member_name(b, "Limit");
	json_builder_add_int_value(b, SUB_QUEUE_MAX);
	json_builder_end_object(b);
	JsonNode *node = json_builder_get_root(b);
	g_object_unref(b);
	return node;
}

/* scrub: the feed is closed at once. Waiting receivers fail with "closed",
 * queued events are dropped. A receiver that already has its whole event
 * (only its acknowledgement is missing) is left to finish. */
static void
sub_scrub(CircuitElement *element, gpointer element_ctx)
{
	SubCtx *ctx = element_ctx;
	if (ctx->scrubbed)
		return;
	ctx->scrubbed = TRUE;
	ctx->closed = TRUE;
	sub_unwatch(ctx);
	guint failed = 0, discarded = 0;
	GList *l;
	while ((l = g_queue_pop_head_link(&ctx->waiting))) {
		circuit_delivery_abort(((SubRecv *)l->data)->delivery, CIRCUIT_ERROR_CLOSED,
		                       "subscription closed (scrubbed)");
		failed++;
	}
	GQueue delivered = G_QUEUE_INIT;
	while ((l = g_queue_pop_head_link(&ctx->inflight))) {
		SubRecv *recv = l->data;
		SubEvent *ev = recv->ev;
		recv->ev = NULL; /* @recv may be gone once its delivery is aborted */
		if (!circuit_delivery_abort(recv->delivery, CIRCUIT_ERROR_CLOSED,
		                            "subscription closed (scrubbed)")) {
			recv->ev = ev; /* it has the whole event: left to finish */
			g_queue_push_tail_link(&delivered, l);
			continue;
		}
		sub_event_free(ev);
		discarded++;
		failed++;
	}
	ctx->inflight = delivered;
	SubEvent *ev;
	while ((ev = g_queue_pop_head(&ctx->queue))) {
		sub_event_free(ev);
		discarded++;
	}
	circuit_log(ctx->host, element, G_LOG_LEVEL_INFO,
	            "closed: %u undelivered event(s) discarded, %u receiver(s) woken", discarded,
	            failed);
	if (discarded > 0)
		circuit_oplog_event(element, "drop", discarded);
}

static void
sub_destroy(gpointer element_ctx)
{
	SubCtx *ctx = element_ctx;
	if (!ctx)
		return;
	/* Every receiver held a reference to the element, so only queued
	 * events can remain here (a server shutting down without scrub). */
	sub_unwatch(ctx);
	SubEvent *ev;
	while ((ev = g_queue_pop_head(&ctx->queue)))
		sub_event_free(ev);
	g_free(ctx);
}

static const CircuitOp sub_ops[] = {
        {
                .name = "recv",
                .args_usage = "",
                .summary = "wait for the next event; prints the server's anchor path",
                .flags = CIRCUIT_OP_OUTPUT,
                .run = sub_op_recv,
        },
};

static const char *const sub_aliases[] = {"@join", "@leave", NULL};

/* No --plugin-option subscription.KEY: every one is refused. */
static const CircuitPluginOption sub_options[] = {{NULL}};

CIRCUIT_PLUGIN_DEFINE(subscription, .version = "0.1.0",
                      .summary = "@join and @leave: feeds of servers joining and leaving",
                      .make_args_usage = "", .make_min_args = 0, .make_max_args = 0,
                      .make_flags = CIRCUIT_MAKE_ALIASES_ONLY, .create = sub_create,
                      .peek = sub_peek, .status = sub_status, .scrub = sub_scrub,
                      .destroy = sub_destroy, .ops = sub_ops, .n_ops = G_N_ELEMENTS(sub_ops),
                      .options = sub_options, .aliases = sub_aliases);
