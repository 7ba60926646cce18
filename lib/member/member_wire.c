// SPDX-License-Identifier: Apache-2.0
#include "member/member_wire.h"

#include <string.h>

/* States a push-pull entry may carry (MemberState in member.h). */
#define MEMBER_WIRE_STATE_MAX_VALUE 3u

static const char *const member_wire_error_names[MEMBER_WIRE_N_ERRORS] = {
        [MEMBER_WIRE_OK] = "ok",
        [MEMBER_WIRE_TRUNCATED] = "truncated",
        [MEMBER_WIRE_OVERSIZE] = "oversize",
        [MEMBER_WIRE_BAD_MAGIC] = "bad-magic",
        [MEMBER_WIRE_BAD_VERSION] = "bad-version",
        [MEMBER_WIRE_MALFORMED] = "malformed",
};

const char *
member_wire_error_name(MemberWireError e)
{
	if ((guint)e >= MEMBER_WIRE_N_ERRORS)
		return "?";
	return member_wire_error_names[e];
}

static void
put16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

static void
put32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

static void
put64(guint8 *p, guint64 v)
{
	put32(p, (guint32)(v >> 32));
	put32(p + 4, (guint32)v);
}

static guint16
get16(const guint8 *p)
{
	return (guint16)(((guint)p[0] << 8) | p[1]);
}

static guint32
get32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static guint64
get64(const guint8 *p)
{
	return ((guint64)get32(p) << 32) | get32(p + 4);
}

bool
member_wire_addr_valid(const char *addr, gsize len)
{
	if (addr == NULL || len == 0 || len > MEMBER_ADDR_MAX)
		return false;
	for (gsize i = 0; i < len; i++) {
		guint8 c = (guint8)addr[i];
		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

/* Body length of a message of @type with an address of @addr_len bytes; 0 if unknown. */
static gsize
member_wire_body_size(guint8 type, gsize addr_len)
{
	switch (type) {
	case MEMBER_MSG_PING:
		return 4 + 8;
	case MEMBER_MSG_ACK:
		return 4 + 4;
	case MEMBER_MSG_NACK:
		return 4;
	case MEMBER_MSG_PING_REQ:
		return 4 + 8 + 1 + 1 + addr_len;
	case MEMBER_MSG_NOT_ME:
		return 4 + 8 + 8;
	case MEMBER_MSG_ALIVE:
		return 8 + 4 + 1 + addr_len;
	case MEMBER_MSG_SUSPECT:
	case MEMBER_MSG_DEAD:
		return 8 + 4 + 8;
	default:
		return 0;
	}
}

static bool
member_wire_has_addr(guint8 type)
{
	return type == MEMBER_MSG_PING_REQ || type == MEMBER_MSG_ALIVE;
}

gsize
member_wire_msg_size(const MemberMsg *msg)
{
	gsize body = member_wire_body_size(msg->type, msg->addr_len);
	return body == 0 ? 0 : MEMBER_WIRE_MSG_HEADER + body;
}

gsize
member_wire_msg_encode(const MemberMsg *msg, guint8 *out, gsize cap)
{
	gsize size = member_wire_msg_size(msg);
	if (size == 0 || size > cap)
		return 0;
	if (member_wire_has_addr(msg->type) && !member_wire_addr_valid(msg->addr, msg->addr_len))
		return 0;
	guint8 *p = out;
	p[0] = msg->type;
	put16(p + 1, (guint16)(size - MEMBER_WIRE_MSG_HEADER));
	p += MEMBER_WIRE_MSG_HEADER;
	switch (msg->type) {
	case MEMBER_MSG_PING:
		put32(p, msg->seq);
		put64(p + 4, msg->id);
		break;
	case MEMBER_MSG_ACK:
		put32(p, msg->seq);
		put32(p + 4, msg->inc);
		break;
	case MEMBER_MSG_NACK:
		put32(p, msg->seq);
		break;
	case MEMBER_MSG_PING_REQ:
		put32(p, msg->seq);
		put64(p + 4, msg->id);
		p[12] = msg->flags & MEMBER_PING_REQ_NACK;
		p[13] = msg->addr_len;
		memcpy(p + 14, msg->addr, msg->addr_len);
		break;
	case MEMBER_MSG_NOT_ME:
		put32(p, msg->seq);
		put64(p + 4, msg->id);
		put64(p + 12, msg->from);
		break;
	case MEMBER_MSG_ALIVE:
		put64(p, msg->id);
		put32(p + 8, msg->inc);
		p[12] = msg->addr_len;
		memcpy(p + 13, msg->addr, msg->addr_len);
		break;
	case MEMBER_MSG_SUSPECT:
	case MEMBER_MSG_DEAD:
		put64(p, msg->id);
		put32(p + 8, msg->inc);
		put64(p + 12, msg->from);
		break;
	default:
		return 0;
	}
	return size;
}

void
member_wire_header_encode(guint8 out[MEMBER_WIRE_HEADER], guint count)
{
	out[0] = 'C';
	out[1] = 'M';
	out[2] = MEMBER_WIRE_VERSION;
	out[3] = (guint8)count;
}

/* Decodes one known message body of @blen bytes at @b; false if malformed. */
static bool
member_wire_body_decode(guint8 type, const guint8 *b, gsize blen, MemberMsg *m)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	switch (type) {
	case MEMBER_MSG_PING:
		if (blen != 12)
			return false;
		m->seq = get32(b);
		m->id = get64(b + 4);
		return true;
	case MEMBER_MSG_ACK:
		if (blen != 8)
			return false;
		m->seq = get32(b);
		m->inc = get32(b + 4);
		return true;
	case MEMBER_MSG_NACK:
		if (blen != 4)
			return false;
		m->seq = get32(b);
		return true;
	case MEMBER_MSG_PING_REQ:
		if (blen < 14 || blen != 14u + b[13])
			return false;
		m->seq = get32(b);
		m->id = get64(b + 4);
		m->flags = b[12];
		m->addr_len = b[13];
		m->addr = (const char *)b + 14;
		return (m->flags & ~MEMBER_PING_REQ_NACK) == 0 &&
		       member_wire_addr_valid(m->addr, m->addr_len);
	case MEMBER_MSG_NOT_ME:
		if (blen != 20)
			return false;
		m->seq = get32(b);
		m->id = get64(b + 4);
		m->from = get64(b + 12);
		return true;
	case MEMBER_MSG_ALIVE:
		if (blen < 13 || blen != 13u + b[12])
			return false;
		m->id = get64(b);
		m->inc = get32(b + 8);
		m->addr_len = b[12];
		m->addr = (const char *)b + 13;
		return member_wire_addr_valid(m->addr, m->addr_len);
	case MEMBER_MSG_SUSPECT:
	case MEMBER_MSG_DEAD:
		if (blen != 20)
			return false;
		m->id = get64(b);
		m->inc = get32(b + 8);
		m->from = get64(b + 12);
		return true;
	default:
		return false;
	}
}

MemberWireError
member_wire_decode(const guint8 *buf, gsize len, gsize max, MemberMsg *out, guint cap, guint *n,
                   guint *unknown)
{
	*n = 0;
	*unknown = 0;
	if (max > MEMBER_WIRE_DATAGRAM_MAX)
		max = MEMBER_WIRE_DATAGRAM_MAX;
	if (len > max)
		return MEMBER_WIRE_OVERSIZE;
	if (len < 2)
		return MEMBER_WIRE_TRUNCATED;
	if (buf[0] != 'C' || buf[1] != 'M')
		return MEMBER_WIRE_BAD_MAGIC;
	if (len < MEMBER_WIRE_HEADER)
		return MEMBER_WIRE_TRUNCATED;
	if (buf[2] != MEMBER_WIRE_VERSION)
		return MEMBER_WIRE_BAD_VERSION;
	guint count = buf[3];
	if (count == 0)
		return MEMBER_WIRE_MALFORMED;
	gsize off = MEMBER_WIRE_HEADER;
	guint got = 0;
	for (guint i = 0; i < count; i++) {
		if (len - off < MEMBER_WIRE_MSG_HEADER)
			return MEMBER_WIRE_TRUNCATED;
		guint8 type = buf[off];
		gsize blen = get16(buf + off + 1);
		off += MEMBER_WIRE_MSG_HEADER;
		if (len - off < blen)
			return MEMBER_WIRE_TRUNCATED;
		if (type == 0)
			return MEMBER_WIRE_MALFORMED;
		if (type > MEMBER_MSG_DEAD) {
			/* A later minor revision's message: skip it, keep the rest. */
			(*unknown)++;
			off += blen;
			continue;
		}
		if (got >= cap)
			return MEMBER_WIRE_OVERSIZE;
		if (!member_wire_body_decode(type, buf + off, blen, &out[got]))
			return MEMBER_WIRE_MALFORMED;
		got++;
		off += blen;
	}
	if (off != len)
		return MEMBER_WIRE_MALFORMED;
	*n = got;
	return MEMBER_WIRE_OK;
}

gsize
member_wire_entry_size(const MemberWireEntry *e)
{
	return 8 + 4 + 1 + 1 + (gsize)e->addr_len;
}

void
member_wire_state_begin(GByteArray *out, guint8 flags, guint64 sender)
{
	guint8 h[MEMBER_WIRE_STATE_HEADER];
	h[0] = 'C';
	h[1] = 'P';
	h[2] = MEMBER_WIRE_VERSION;
	h[3] = flags;
	put64(h + 4, sender);
	put32(h + 12, 0);
	g_byte_array_set_size(out, 0);
	g_byte_array_append(out, h, sizeof h);
}

void
member_wire_state_add(GByteArray *out, const MemberWireEntry *e)
{
	guint8 h[14];
	put64(h, e->id);
	put32(h + 8, e->inc);
	h[12] = e->state;
	h[13] = e->addr_len;
	g_byte_array_append(out, h, sizeof h);
	g_byte_array_append(out, (const guint8 *)e->addr, e->addr_len);
}

void
member_wire_state_end(GByteArray *out, guint32 count)
{
	g_return_if_fail(out->len >= MEMBER_WIRE_STATE_HEADER);
	put32(out->data + 12, count);
}

MemberWireError
member_wire_state_decode(const guint8 *buf, gsize len, guint8 *flags, guint64 *sender,
                         GArray *entries)
{
	if (len > MEMBER_WIRE_STATE_MAX_BYTES)
		return MEMBER_WIRE_OVERSIZE;
	if (len < 2)
		return MEMBER_WIRE_TRUNCATED;
	if (buf[0] != 'C' || buf[1] != 'P')
		return MEMBER_WIRE_BAD_MAGIC;
	if (len < MEMBER_WIRE_STATE_HEADER)
		return MEMBER_WIRE_TRUNCATED;
	if (buf[2] != MEMBER_WIRE_VERSION)
		return MEMBER_WIRE_BAD_VERSION;
	if ((buf[3] & ~(MEMBER_WIRE_STATE_JOIN | MEMBER_WIRE_STATE_REPLY)) != 0)
		return MEMBER_WIRE_MALFORMED;
	guint32 count = get32(buf + 12);
	if (count > MEMBER_WIRE_STATE_MAX_ENTRIES)
		return MEMBER_WIRE_OVERSIZE;
	guint base = entries->len;
	gsize off = MEMBER_WIRE_STATE_HEADER;
	MemberWireError err = MEMBER_WIRE_OK;
	for (guint32 i = 0; i < count; i++) {
		if (len - off < 14) {
			err = MEMBER_WIRE_TRUNCATED;
			break;
		}
		MemberWireEntry e;
		e.id = get64(buf + off);
		e.inc = get32(buf + off + 8);
		e.state = buf[off + 12];
		e.addr_len = buf[off + 13];
		off += 14;
		if (len - off < e.addr_len) {
			err = MEMBER_WIRE_TRUNCATED;
			break;
		}
		e.addr = (const char *)buf + off;
		off += e.addr_len;
		if (e.state > MEMBER_WIRE_STATE_MAX_VALUE ||
		    !member_wire_addr_valid(e.addr, e.addr_len)) {
			err = MEMBER_WIRE_MALFORMED;
			break;
		}
		g_array_append_val(entries, e);
	}
	if (err == MEMBER_WIRE_OK && off != len)
		err = MEMBER_WIRE_MALFORMED;
	if (err != MEMBER_WIRE_OK) {
		g_array_set_size(entries, base);
		return err;
	}
	*flags = buf[3];
	*sender = get64(buf + 4);
	return MEMBER_WIRE_OK;
}
