# SPDX-License-Identifier: Apache-2.0
# member_forge.py - forges membership input for tests/integration/hostile_member.sh
# (python3, stdlib only; traffic to 127.0.0.1 only; every loop bounded).
# The encoding is lib/member/member_wire.c's (docs/membership.md, version 1).
#
#   member_forge.py send PORT MSG...       one unkeyed datagram with MSG... to 127.0.0.1:PORT
#   member_forge.py repoint PORT ID INC SECONDS
#                                          from a socket of our own, ALIVE(ID, INC + i, that
#                                          socket's address) to PORT every 20 ms for SECONDS,
#                                          never answering; prints the PINGs received
#   member_forge.py pingreq PORT TARGET SECONDS
#                                          PING_REQ(TARGET, our own socket's address) to PORT;
#                                          prints how many datagrams reached that socket
#   member_forge.py flood PORT COUNT SECONDS
#                                          COUNT invented members (ALIVE), all at the address of
#                                          a sink socket of ours that reads and drops for SECONDS
#   member_forge.py icmp FROM_PORT TO_PORT COUNT INTERVAL
#                                          COUNT forged ICMP port-unreachable errors (root: raw
#                                          socket) telling the socket at FROM_PORT that its
#                                          datagram to TO_PORT was refused; exit 77 without root
# MSG is TYPE:ARG,ARG...: suspect:ID,INC,FROM  dead:ID,INC,FROM  alive:ID,INC,ADDR
# (IDs as X<16 hex> or integers, INC an integer).
import socket
import struct
import sys
import time

LOCAL = "127.0.0.1"


def num(s):
    if s.startswith("X") or s.startswith("Q"):
        return int(s[1:], 16)
    return int(s, 0)


def msg(mtype, body):
    return struct.pack(">BH", mtype, len(body)) + body


def alive(mid, inc, addr):
    a = addr.encode()
    return msg(6, struct.pack(">QIB", mid, inc, len(a)) + a)


def verdict(mtype, mid, inc, frm):
    return msg(mtype, struct.pack(">QIQ", mid, inc, frm))


def datagram(msgs):
    return b"CM\x01" + bytes([len(msgs)]) + b"".join(msgs)


def parse(spec):
    kind, _, args = spec.partition(":")
    a = args.split(",")
    if kind == "suspect":
        return verdict(7, num(a[0]), num(a[1]), num(a[2]))
    if kind == "dead":
        return verdict(8, num(a[0]), num(a[1]), num(a[2]))
    if kind == "alive":
        return alive(num(a[0]), num(a[1]), a[2])
    raise SystemExit("unknown message " + spec)


def own_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOCAL, 0))
    return s, "%s:%d" % s.getsockname()


def listen(s, seconds):
    """Datagrams received within SECONDS (bounded in time and count)."""
    got = []
    end = time.monotonic() + seconds
    while len(got) < 100000:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        got.append(data)
    return got


def types_in(data):
    """Message types of one datagram (best effort)."""
    out = []
    if len(data) < 4 or data[:3] != b"CM\x01":
        return out
    off = 4
    for _ in range(data[3]):
        if off + 3 > len(data):
            break
        t, ln = struct.unpack_from(">BH", data, off)
        out.append(t)
        off += 3 + ln
    return out


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    cmd = sys.argv[1]
    if cmd == "send":
        port = int(sys.argv[2])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(datagram([parse(x) for x in sys.argv[3:]]), (LOCAL, port))
    elif cmd == "repoint":
        port, mid, inc, secs = int(sys.argv[2]), num(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        s, addr = own_socket()
        # A claim every 20 ms, each one incarnation higher (as a refutation
        # race would need), never answering what comes back.
        pings = 0
        for i in range(min(int(secs / 0.02), 5000)):
            s.sendto(datagram([alive(mid, inc + i, addr)]), (LOCAL, port))
            pings += sum(types_in(d).count(1) for d in listen(s, 0.02))
        print(pings)
    elif cmd == "pingreq":
        port, target, secs = int(sys.argv[2]), num(sys.argv[3]), float(sys.argv[4])
        s, addr = own_socket()
        a = addr.encode()
        body = struct.pack(">IQBB", 1, target, 1, len(a)) + a
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(datagram([msg(3, body)]), (LOCAL, port))
        print(len(listen(s, secs)))
    elif cmd == "flood":
        port, count, secs = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        sink, addr = own_socket()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        batch = []
        for i in range(count):
            batch.append(alive(0x7E57000000000000 + i, 0, addr))
            if len(batch) == 40 or i == count - 1:
                s.sendto(datagram(batch), (LOCAL, port))
                batch = []
                time.sleep(0.002)
        listen(sink, secs)
    elif cmd == "icmp":
        from_port, to_port, count, interval = (int(sys.argv[2]), int(sys.argv[3]),
                                               int(sys.argv[4]), float(sys.argv[5]))
        try:
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        except PermissionError:
            sys.exit(77)
        lo = socket.inet_aton(LOCAL)
        # The datagram the error is about: from the victim's socket to TO_PORT.
        udp = struct.pack(">HHHH", from_port, to_port, 8 + 40, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 40, 0, 0x4000, 64, 17, 0, lo, lo)
        ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
        payload = ip + udp
        hdr = struct.pack(">BBHI", 3, 3, 0, 0)
        pkt = hdr[:2] + struct.pack(">H", checksum(hdr + payload)) + hdr[4:] + payload
        for _ in range(min(count, 10000)):
            raw.sendto(pkt, (LOCAL, 0))
            time.sleep(interval)
    else:
        raise SystemExit("unknown command " + cmd)


main()
