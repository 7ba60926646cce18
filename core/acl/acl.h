// SPDX-License-Identifier: Apache-2.0
//
// acl.h - who is calling (Caller) and what they may do (the --acl file).
//
// Every connection has a caller: a local account (unix socket, SO_PEERCRED;
// unkeyed loopback TCP, the kernel's owner of the peer socket), a key
// (keyed connections: the name of the key message 1 was made with), or a
// bare address (unkeyed TCP from another host, only with --insecure). An
// operation relayed by another server carries the caller that server
// vouched for; only servers may vouch (acl_is_server()).
//
// Without an ACL file, every admitted caller may do everything (the
// behaviour before access rules existed); admitted locally are root, the
// server's own account and members of the local group (circuit). With one,
// callers may do what its rules give them, and nothing else; root and the
// server's own account, calling directly, may always do everything.
// docs/security.md describes the file.
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

#define ACL_ERROR (acl_error_quark())
GQuark acl_error_quark(void);

typedef enum {
	ACL_ERROR_IO = 1,     /* the file cannot be read */
	ACL_ERROR_SYNTAX = 2, /* a line does not parse */
} AclErrorCode;

typedef enum {
	CALLER_LOCAL = 1,   /* an account of this host (or of the vouching server's) */
	CALLER_KEY = 2,     /* a key holder */
	CALLER_ADDRESS = 3, /* unkeyed, from another host (--insecure) */
} CallerKind;

typedef struct Caller Caller;

/* A local account by uid (names looked up; unknown uids keep numbers). */
Caller *caller_new_local(uid_t uid, gid_t gid, const char *addr);
/* The holder of the key named @key, connected from @addr. */
Caller *caller_new_key(const char *key, const char *addr);
/* An unauthenticated caller at @addr. */
Caller *caller_new_address(const char *addr);
/* The caller a server vouches for in a relayed request's "caller" member;
 * @via names the vouching server. NULL with @error when malformed. */
Caller *caller_from_json(JsonObject *o, const char *via, GError **error);
/* (transfer full) the "caller" member a relay adds for @c. */
JsonObject *caller_to_json(const Caller *c, const char *via);
Caller *caller_ref(Caller *c);
void caller_unref(Caller *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Caller, caller_unref)

CallerKind caller_kind(const Caller *c);
/* (transfer none) e.g. "uid 1000 (alice)", "key ci", "address 10.0.0.7". */
const char *caller_label(const Caller *c);
/* (transfer none) (nullable) the server that vouched for it, if relayed. */
const char *caller_via(const Caller *c);
/* Local callers: uid, -1 otherwise. */
gint64 caller_uid(const Caller *c);

typedef struct Acl Acl;

/* Parses the ACL file at @path (docs/security.md). */
Acl *acl_load(const char *path, GError **error);
/* Parses ACL text (for tests); @origin names it in errors. */
Acl *acl_parse(const char *text, const char *origin, GError **error);
void acl_free(Acl *acl);
/* Number of rules. */
guint acl_n_rules(const Acl *acl);

/* The rules in force (NULL: none, every admitted caller may do all);
 * takes @acl. */
void acl_set(Acl *acl);
/* Puts *@acl in force and hands back the rules it replaces in *@acl. */
void acl_swap(Acl **acl);
/* The group whose members are admitted locally without rules ("circuit"). */
void acl_set_local_group(const char *group);

/*
 * Whether @c may connect at all. Local callers without an ACL: root, the
 * server's account, members of the local group. With an ACL: those two,
 * and whoever a rule names. Key holders and addresses without an ACL:
 * everyone who got this far. The error is one line naming the rule.
 */
gboolean acl_admit(const Caller *c, GError **error);
/*
 * Whether @c may run @verb (an op name: "ls", "peek", "mk", "stdin"...)
 * on @path; for "mk", @kind is the kind asked for. The error reads
 * "permission denied: key ci may not mkproc under /X.../prod".
 */
gboolean acl_check(const Caller *c, const char *verb, const char *path, const char *kind,
                   GError **error);
/* Whether @c may use @right ("user", "group") with @value (e.g. run a job
 * as that account). Without an ACL: root, the server's account, keys. */
gboolean acl_permits(const Caller *c, const char *right, const char *value);
/* Whether @c is a server: may vouch for callers and run member.sync.
 * Without an ACL every admitted caller is (key holders are the cluster). */
gboolean acl_is_server(const Caller *c);
