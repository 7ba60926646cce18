// SPDX-License-Identifier: Apache-2.0
//
// docker_plugin.h - the docker kind's state across its elements (private to
// the plugin): the engine, what specs may use, and the removals the engine
// has yet to do. docker_plugin.c keeps it: the engine's arrival and
// departures, the sweep of containers an earlier circuitd left, and those
// pending removals; docker.c is the element.
#pragma once

#include "docker_engine.h"
#include "docker_spec.h"

#define DOCKER_CALL_TIMEOUT 60.0
#define DOCKER_PING_TIMEOUT 10.0
/* A loaded engine may take seconds to list containers. */
#define DOCKER_INIT_TIMEOUT 30.0

#define DOCKER_LABEL_SERVER "io.circuit.server"
#define DOCKER_LABEL_ANCHOR "io.circuit.anchor"
#define DOCKER_LABEL_OWNER  "io.circuit.owner"
#define DOCKER_LABEL_HOST   "io.circuit.host"

typedef struct {
	CircuitHost *host;
	DockerEngine *engine;
	DockerBinds *binds; /* the host paths specs may bind (--docker-allow-bind) */
	/* docker.allow-network: the modes that leave the container's own
	 * network namespace ("Network": "host", "container:..."). */
	gboolean allow_host_network;
	gboolean allow_container_network;
	char *owner; /* "<boot id>/<pid>/<start time>" of this circuitd */
	char *hostname;
	char *boot_id;
	guint64 seq;

	gboolean engine_up;  /* negotiated: the kind is available */
	CircuitWatch *probe; /* looking for the engine (see DOCKER_PROBE_*) */
	double probe_delay;
	DockerCall *probe_call; /* the unversioned /version, asked in the background */
	DockerCall *sweep_call; /* the orphan sweep's list, in the background */
	GList *pending;         /* DockerPending: removals the engine has yet to do */
} DockerPlugin;

/* (transfer full) the kind's state for @host, its options read, the engine
 * asked and the containers an earlier circuitd left swept (an engine that
 * does not answer makes the kind unavailable and is looked for in the
 * background); NULL only when the options cannot be used. */
DockerPlugin *docker_plugin_new(CircuitHost *host, GError **error);
void docker_plugin_free(DockerPlugin *plugin);

/* The engine could not remove container @ref of the element at @anchor:
 * it is removed once the engine answers (see docker_plugin.c). */
void docker_plugin_pending_add(DockerPlugin *plugin, const char *ref, const char *anchor,
                               gboolean by_name, const char *why);

/* Adds "Engine" (which engine answers, in which API version) to @o, once. */
void docker_plugin_peek_engine(DockerPlugin *plugin, JsonObject *o);

/* (transfer full) the server's peek of the kind: Engine and PendingRemovals. */
JsonNode *docker_plugin_peek(DockerPlugin *plugin);
