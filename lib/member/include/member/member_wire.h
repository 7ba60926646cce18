// SPDX-License-Identifier: Apache-2.0
//
// member_wire.h - the membership wire format (docs/membership.md): gossip
// datagrams and push-pull state documents. Pure functions: no I/O, no
// allocation in the datagram path. Every decoder takes untrusted bytes and
// either accepts the whole input or rejects it with a reason (the engine
// counts the reasons); it never reads past @len.
#pragma once

#include <glib.h>
#include <stdbool.h>

#define MEMBER_WIRE_VERSION 1u
/* Longest address string ("host:port"), in bytes. */
#define MEMBER_ADDR_MAX 255u
/* Datagram header: 'C' 'M' version count. */
#define MEMBER_WIRE_HEADER 4u
/* Per-message header: type u8, body length u16. */
#define MEMBER_WIRE_MSG_HEADER 3u
/* Hard cap on a datagram, whatever the configured payload size. */
#define MEMBER_WIRE_DATAGRAM_MAX 65507u
/* Smallest payload size a configuration may ask for. */
#define MEMBER_WIRE_DATAGRAM_MIN 512u
/* At most this many messages in one datagram. */
#define MEMBER_WIRE_MSGS_MAX 255u
/* Push-pull document header: 'C' 'P' version flags sender(u64) count(u32). */
#define MEMBER_WIRE_STATE_HEADER 16u
/* Hard caps on a push-pull document. */
#define MEMBER_WIRE_STATE_MAX_ENTRIES 65536u
#define MEMBER_WIRE_STATE_MAX_BYTES   (4u << 20)

/* Push-pull flags. */
#define MEMBER_WIRE_STATE_JOIN  0x01u /* the sender is joining through us */
#define MEMBER_WIRE_STATE_REPLY 0x02u /* an answer to a request */

typedef enum {
	MEMBER_MSG_PING = 1,     /* seq, target: "are you @target? ack @seq" */
	MEMBER_MSG_ACK = 2,      /* seq, inc: "I am alive at incarnation @inc" */
	MEMBER_MSG_PING_REQ = 3, /* seq, target, addr, flags: probe @target for me */
	MEMBER_MSG_NACK = 4,     /* seq: "I asked, @target did not answer me" */
	MEMBER_MSG_NOT_ME = 5,   /* seq, target, from: "this address is @from, not @target" */
	MEMBER_MSG_ALIVE = 6,    /* id, inc, addr */
	MEMBER_MSG_SUSPECT = 7,  /* id, inc, from */
	MEMBER_MSG_DEAD = 8,     /* id, inc, from (from == id: left gracefully) */
} MemberMsgType;

/* PING_REQ flags. */
#define MEMBER_PING_REQ_NACK 0x01u /* the requester wants a NACK when no ACK comes */

/*
 * One decoded message. Fields a type does not carry are zero. @addr points
 * into the decoded buffer and is not NUL-terminated.
 */
typedef struct {
	guint8 type;
	guint8 flags;
	guint8 addr_len;
	guint32 seq;
	guint32 inc;
	guint64 id;   /* PING, PING_REQ, NOT_ME: the target; gossip: the subject */
	guint64 from; /* SUSPECT, DEAD: who says so; NOT_ME: who answered */
	const char *addr;
} MemberMsg;

/* Why a decoder rejected its input. */
typedef enum {
	MEMBER_WIRE_OK = 0,
	MEMBER_WIRE_TRUNCATED,   /* ends before a length it announced */
	MEMBER_WIRE_OVERSIZE,    /* over a hard cap */
	MEMBER_WIRE_BAD_MAGIC,   /* not ours at all */
	MEMBER_WIRE_BAD_VERSION, /* ours, another version */
	MEMBER_WIRE_MALFORMED,   /* wrong body length, bad field, trailing bytes */
	MEMBER_WIRE_N_ERRORS
} MemberWireError;

/* Human name of a decode error ("truncated"). */
const char *member_wire_error_name(MemberWireError e);

/* True when @len bytes at @addr form an acceptable address (printable ASCII, no space). */
bool member_wire_addr_valid(const char *addr, gsize len);

/* Size of @msg once encoded, message header included. */
gsize member_wire_msg_size(const MemberMsg *msg);

/*
 * Encodes @msg (header included) into @out, which has @cap bytes. Returns
 * the number of bytes written, or 0 when it does not fit or @msg is invalid.
 */
gsize member_wire_msg_encode(const MemberMsg *msg, guint8 *out, gsize cap);

/* Writes the datagram header for @count messages into @out. */
void member_wire_header_encode(guint8 out[MEMBER_WIRE_HEADER], guint count);

/*
 * Decodes a whole datagram. At most @cap messages go to @out (more is
 * MEMBER_WIRE_OVERSIZE); their count goes to *@n. Messages of unknown type
 * with a well-formed header are skipped (forward compatibility) and counted
 * in *@unknown. A datagram longer than @max is rejected unread.
 */
MemberWireError member_wire_decode(const guint8 *buf, gsize len, gsize max, MemberMsg *out,
                                   guint cap, guint *n, guint *unknown);

/* One member in a push-pull document. @addr points into the decoded buffer. */
typedef struct {
	guint64 id;
	guint32 inc;
	guint8 state; /* MemberState */
	guint8 addr_len;
	const char *addr;
} MemberWireEntry;

/* Size of @e once encoded in a push-pull document. */
gsize member_wire_entry_size(const MemberWireEntry *e);

/* Starts a push-pull document in @out (header with a zero count). */
void member_wire_state_begin(GByteArray *out, guint8 flags, guint64 sender);
/* Appends one entry (valid address and state are the caller's duty). */
void member_wire_state_add(GByteArray *out, const MemberWireEntry *e);
/* Fixes the entry count in the header. */
void member_wire_state_end(GByteArray *out, guint32 count);

/*
 * Decodes a push-pull document: flags, sender and entries (appended to
 * @entries, a GArray of MemberWireEntry pointing into @buf).
 */
MemberWireError member_wire_state_decode(const guint8 *buf, gsize len, guint8 *flags,
                                         guint64 *sender, GArray *entries);
