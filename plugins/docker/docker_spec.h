// SPDX-License-Identifier: Apache-2.0
//
// docker_spec.h - the pure parts of the docker element, unit-tested on their
// own: the container spec of `circuit mkdkr`, the host paths it may bind
// (--docker-allow-bind), signal names, container names and the decoder of
// the engine's multiplexed attach stream.
#pragma once

#include <circuit/plugin.h>

/** DockerPort: one entry of "Ports", "[IP:][HOSTPORT:]PORT[/PROTO]". */
typedef struct {
	char *host_ip;     /* "": every address of the host; IPv6 without brackets */
	guint host_port;   /* 0: the engine picks one */
	guint port;        /* in the container, 1-65535 */
	const char *proto; /* "tcp", "udp" or "sctp" (static) */
} DockerPort;

/** DockerTmpfs: one entry of "Tmpfs". */
typedef struct {
	char *path;    /* absolute, cleaned, never "/" */
	char *options; /* "" for the engine's defaults */
} DockerTmpfs;

/** DockerUlimit: one entry of "Ulimits"; -1 is unlimited. */
typedef struct {
	const char *name; /* lower case, as Docker names it (static) */
	gint64 soft;
	gint64 hard;
} DockerUlimit;

/** DockerSpec: the original's container spec, checked. */
typedef struct {
	char *image;   /* never NULL */
	gint64 memory; /* bytes; 0: no limit */
	gint64 cpu_shares;
	char **lxc;          /* accepted for compatibility, ignored; never NULL */
	char **volumes;      /* "/path", "host:/path" or "host:/path:ro"; never NULL */
	char *dir;           /* NULL: the image's */
	char *entry;         /* NULL or "": the image's entrypoint */
	char **env;          /* never NULL */
	char *path;          /* NULL or "": the image's command (unless Args) */
	char **args;         /* never NULL */
	gboolean scrub;      /* remove the element (and container) once it exits */
	gboolean pull;       /* pull the image when the engine lacks it */
	GArray *ports;       /* DockerPort, in the spec's order; never NULL */
	char *network;       /* NULL: the engine's default (HostConfig.NetworkMode) */
	char *user;          /* NULL: the image's */
	char *hostname;      /* NULL: the engine's (the container ID's start) */
	char **label_keys;   /* user labels, never NULL, none under io.circuit. */
	char **label_values; /* as many as label_keys */
	int init;            /* -1: the engine's default; 0 or 1: HostConfig.Init */
	int read_only;       /* -1: the engine's default; 0 or 1: ReadonlyRootfs */
	GArray *tmpfs;       /* DockerTmpfs; never NULL */
	GArray *ulimits;     /* DockerUlimit, sorted by name; never NULL */
} DockerSpec;

/**
 * docker_spec_parse: (transfer full) the spec in @text (JSON; a trailing
 * comma before a closing brace or bracket, as in the original's README, is
 * tolerated), or NULL with a CIRCUIT_ERROR_INVALID error naming the key.
 */
DockerSpec *docker_spec_parse(const char *text, gsize len, GError **error);
void docker_spec_free(DockerSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DockerSpec, docker_spec_free)

/**
 * DockerBinds: which host paths a spec may bind: those under the directories
 * allowed with circuitd's --docker-allow-bind (none without it), but never /,
 * the engine's socket or a directory holding it, whatever is allowed.
 * Paths are compared as the kernel finds them: ".", ".." and "//" cleaned
 * away, symbolic links resolved (realpath) as far as the path exists.
 */
typedef struct DockerBinds DockerBinds;

/**
 * docker_binds_new: (transfer full) the policy for the directories in
 * @allowed (nullable: the flag was not given; one path per line) and the
 * engine socket at @socket. With @private_tmp (circuitd's /tmp and /var/tmp
 * are not the engine's: systemd's PrivateTmp=), nothing under /tmp or
 * /var/tmp is bound either, since circuitd would check other files than the
 * engine mounts. *@warnings (transfer full, never NULL) gets one line per
 * listed path that is ignored (/, the socket, its directory, a private
 * /tmp, a path that cannot be resolved) or allowed only in part (a directory
 * above the socket's), for the server's log.
 */
DockerBinds *docker_binds_new(const char *allowed, const char *socket, gboolean private_tmp,
                              char ***warnings);
void docker_binds_free(DockerBinds *binds);

/**
 * docker_binds_check: whether every bind in @spec's volumes is allowed; the
 * host path of each is replaced by its resolved form (what the engine then
 * mounts). Anonymous and named volumes are no host paths and pass. FALSE
 * with CIRCUIT_ERROR_PERMISSION, one line naming the volume, the path and
 * the flag, at the first that is not.
 */
gboolean docker_binds_check(const DockerBinds *binds, DockerSpec *spec, GError **error);

/**
 * docker_spec_to_create: (transfer full) the body of POST /containers/create
 * for @spec: stdin open (once), no TTY, the spec's labels and @labels
 * (transfer none, string -> string: the element's io.circuit.* labels,
 * which win) attached.
 */
JsonNode *docker_spec_to_create(const DockerSpec *spec, GHashTable *labels);

/**
 * docker_image_split: splits "repo[:tag]" or "repo@digest" for
 * POST /images/create. (transfer full) *repo, *tag ("" for a digest,
 * "latest" when absent).
 */
void docker_image_split(const char *image, char **repo, char **tag);

/**
 * docker_signal_parse: (transfer full) (nullable) "TERM", "sigterm",
 * "SIGTERM" or "15" -> "SIGTERM" (numbers without a known name stay
 * numbers: "40" -> "40"); NULL for anything else, 0 included.
 */
char *docker_signal_parse(const char *text);

/**
 * docker_name_for: (transfer full) the container name for the element at
 * @path: "circuit-" + the path with '/' as '.', other characters outside
 * [A-Za-z0-9_.-] as '_', truncated, + "-" + @seq (names stay unique while a
 * scrubbed container with the same path is still being removed).
 */
char *docker_name_for(const char *path, guint64 seq);

/** DockerDemux: state of the decoder of the 8-byte-header stream framing. */
typedef struct {
	guint8 header[8];
	guint have; /* header bytes gathered */
	guint32 left;
	guint8 stream;
} DockerDemux;

/** DockerDemuxFunc: @stream is 0 (stdin), 1 (stdout), 2 (stderr) or 3
 *  (the engine's own errors). */
typedef void (*DockerDemuxFunc)(guint8 stream, const guint8 *data, gsize len, gpointer user_data);

/** docker_demux_feed: decodes @len bytes, calling @func for each payload run. */
void docker_demux_feed(DockerDemux *demux, const guint8 *data, gsize len, DockerDemuxFunc func,
                       gpointer user_data);
