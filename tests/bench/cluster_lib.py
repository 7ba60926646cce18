#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers of cluster_scale.sh and cluster_idle.sh (real circuitd clusters).

  cluster_lib.py ports COUNT
      COUNT ports below the kernel's ephemeral range that are free on
      127.0.0.1 for both TCP and UDP (circuitd's membership UDP socket uses
      the TCP listener's port number), one per line.
  cluster_lib.py converge CLI SERVERS TARGET T0_NS TIMEOUT_S OUT_JSON [--kill PIDS]
      Waits until every server whose -v log is listed in SERVERS.logs (its
      URL in the .url file next to the log) sees TARGET members, two ways:
      the logs (1 + "joined" - "left" lines, read every 100 ms) and the CLI
      (`circuit -d URL ls /`, 4 at a time; see cmd_converge). Times are from
      T0_NS (CLOCK_REALTIME ns). Bounded by TIMEOUT_S. Exit 0 when converged
      (JSON written either way). Started before the launch for a cold start;
      with --kill, it kills -9 the PIDs in file PIDS itself (T0 is then the
      time of the first kill).
  cluster_lib.py ppcap PORTS_FILE OUT_JSON
      Until SIGTERM: push-pull connections to the ports (see cmd_ppcap).
  cluster_lib.py flat JSON
      The JSON as "key<TAB>value" lines, for the scripts.
  cluster_lib.py idle CLI SERVERS SECONDS OUT_JSON [--capture] [--peek] [--settle=S]
      (after a settling pause of S seconds, which the peeks and the TCP
      capture cover too) The idle window: CPU (utime+stime of /proc/PID/stat, and schedstat ns)
      of every circuitd over SECONDS, RSS (VmRSS, RssAnon) at the end; with
      --peek, the DatagramsIn/Out and PushPulls counters of every server
      (peek before and after); with --capture, every packet on lo to or
      from the servers' ports (AF_PACKET, needs root): UDP datagrams and
      bytes per server, TCP segments, payload bytes and connections.
"""
import json
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def now_ns():
    return time.time_ns()


def read_servers(path):
    servers = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                servers.append({"pid": int(parts[0]), "url": parts[1], "log": parts[2]})
    return servers


def port_of(url):
    # circuit://127.0.0.1:PORT/PID/XID
    return int(url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


# ---- ports -------------------------------------------------------------------


def cmd_ports(count):
    lo, _hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    # Below the ephemeral range, so no outgoing connection takes one meanwhile.
    first, last = 12000, min(lo - 1, 32767)
    cands = list(range(first, last + 1))
    random.shuffle(cands)
    out = []
    for p in cands:
        if len(out) == count:
            break
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", p))
            u.bind(("127.0.0.1", p))
            out.append(p)
        except OSError:
            pass
        finally:
            t.close()
            u.close()
    if len(out) < count:
        sys.exit("cluster_lib: only %d free ports" % len(out))
    print("\n".join(str(p) for p in out))


# ---- convergence ------------------------------------------------------------


def cli_count(cli, url):
    """Members listed by `circuit ls /` (None if the CLI failed)."""
    try:
        r = subprocess.run([cli, "-d", url, "ls", "/"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["rc %d" % r.returncode])[-1]
    return sum(1 for l in r.stdout.splitlines() if l.startswith("/X")), None


class LogWatch(threading.Thread):
    """Members per server from its -v log: 1 + joined - left."""

    def __init__(self, servers, target, t0, deadline, base):
        super().__init__(daemon=True)
        self.servers, self.target, self.t0, self.deadline = servers, target, t0, deadline
        self.offsets = [0] * len(servers)
        self.partial = [b""] * len(servers)
        self.joined = [0] * len(servers)
        self.left = [0] * len(servers)
        # Kill phase: the lines before T0 count for the view, not for the
        # figures of this phase.
        if base:
            self.scan()
        self.base_joined, self.base_left = list(self.joined), list(self.left)
        self.first = [None] * len(servers)  # first time at target (ms)
        self.all_ms = None                  # first sample with all at target
        self.drops = 0                      # a server fell below target after reaching it
        self.stop = False

    def scan(self):
        for i, s in enumerate(self.servers):
            try:
                with open(s["log"], "rb") as f:
                    f.seek(self.offsets[i])
                    data = f.read()
            except OSError:
                continue
            self.offsets[i] += len(data)
            data = self.partial[i] + data
            lines = data.split(b"\n")
            self.partial[i] = lines.pop()
            for l in lines:
                if b"[cluster]" not in l and b"[member]" not in l:
                    continue
                if b" joined at " in l:
                    self.joined[i] += 1
                elif b" left at " in l:
                    self.left[i] += 1

    def view(self, i):
        return 1 + self.joined[i] - self.left[i]

    def run(self):
        while not self.stop and time.time_ns() < self.deadline:
            self.scan()
            t = (time.time_ns() - self.t0) / 1e6
            n_at = 0
            for i in range(len(self.servers)):
                if self.view(i) == self.target:
                    n_at += 1
                    if self.first[i] is None:
                        self.first[i] = t
                elif self.first[i] is not None and self.all_ms is None:
                    self.drops += 1
                    self.first[i] = None
            if n_at == len(self.servers) and self.all_ms is None:
                self.all_ms = t
            time.sleep(0.1)


def read_url(path):
    try:
        with open(path) as f:
            line = f.readline().strip()
        return line if line.startswith("circuit://") else None
    except OSError:
        return None


def cmd_converge(cli, servers_path, target, t0, timeout_s, out_path, kill_path=None):
    """Cold start (no KILL_PATH): started before the servers are launched,
    it watches the logs listed in SERVERS.logs from the start (each
    server's URL is in the .url file next to its log). Kill phase: the logs
    listed are the survivors'; it reads them, then takes T0 itself and kills
    -9 the PIDs of KILL_PATH.

    The CLI checks a server once its log shows TARGET members (so polling
    does not take CPU from a cluster still converging): `ls /` must list
    TARGET, else the server is checked again. When every server has
    listed TARGET, all are checked once more, in one sweep, and all must
    list TARGET; the servers that do not are checked again until they do.
    Past half the time limit every server is polled, whatever its log."""
    deadline = t0 + int(timeout_s * 1e9)
    logs = [l.strip() for l in open(servers_path + ".logs") if l.strip()]
    n = len(logs)
    watch = LogWatch([{"log": l} for l in logs], target, t0, deadline, base=kill_path is not None)
    if kill_path:
        victims = [int(x) for x in open(kill_path).read().split()]
        t0 = time.time_ns()
        deadline = t0 + int(timeout_s * 1e9)
        watch.t0, watch.deadline = t0, deadline
        for pid in victims:
            os.kill(pid, 9)
    half = t0 + int(timeout_s * 1e9 / 2)
    watch.start()
    urls = [None] * n
    first = [None] * n        # CLI: first time (ms) the server listed target
    last_count = [None] * n
    errors = {}
    polls = 0
    mismatches = 0            # the log said TARGET, the CLI did not
    sweeps = []               # (start ms, end ms, servers not at target)
    confirmed = False
    pool = ThreadPoolExecutor(max_workers=4)

    def poll(i):
        c, err = cli_count(cli, urls[i])
        return i, c, err, (time.time_ns() - t0) / 1e6

    def record(results):
        bad = []
        for i, c, err, t in results:
            last_count[i] = c
            if err:
                errors[err] = errors.get(err, 0) + 1
            if c == target:
                if first[i] is None:
                    first[i] = t
            else:
                bad.append(i)
        return bad

    while time.time_ns() < deadline and polls < 100000:
        for i in range(n):
            if urls[i] is None:
                urls[i] = read_url(logs[i][:-4] + ".url")
        todo = [i for i in range(n) if first[i] is None and urls[i] is not None and
                (watch.view(i) == target or time.time_ns() > half)]
        if todo:
            polls += len(todo)
            bad = record(pool.map(poll, todo))
            mismatches += sum(1 for i in bad if watch.view(i) == target)
            if len(bad) == len(todo):
                time.sleep(0.1)
            continue
        if all(f is not None for f in first):
            # The confirmation sweep: every server, at once.
            s0 = (time.time_ns() - t0) / 1e6
            polls += n
            bad = record(pool.map(poll, range(n)))
            sweeps.append((s0, (time.time_ns() - t0) / 1e6, len(bad)))
            if not bad:
                confirmed = True
                break
            for i in bad:
                first[i] = None
            continue
        time.sleep(0.1)
    pool.shutdown()
    end = time.time() + 3  # let the log watcher see the last lines
    while watch.all_ms is None and time.time() < end:
        time.sleep(0.1)
    watch.stop = True
    watch.join(timeout=2)
    done = [t for t in first if t is not None]
    wfirst = [t for t in watch.first if t is not None]
    res = {
        "target": target,
        "servers": n,
        "t0_ns": t0,
        "converged": confirmed,
        "cli_ms": max(done) if confirmed else None,
        "cli_median_ms": statistics.median(done) if done else None,
        "sweeps": sweeps,
        "sweep_s": (sweeps[-1][1] - sweeps[-1][0]) / 1000 if sweeps else None,
        "polls": polls,
        "mismatches": mismatches,
        "cli_errors": errors,
        "counts": sorted(set(c for c in last_count if c is not None)),
        "short": sum(1 for c in last_count if c != target),
        "log_ms": watch.all_ms,
        "log_median_ms": statistics.median(wfirst) if wfirst else None,
        "log_views": sorted(set(watch.view(i) for i in range(n))),
        "log_drops": watch.drops,
        "log_joined": sum(watch.joined) - sum(watch.base_joined),
        "log_left": sum(watch.left) - sum(watch.base_left),
    }
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))
    return 0 if confirmed else 1


def cmd_flat(path):
    """The JSON of PATH as lines "key<TAB>value" (nested keys joined by '.')."""
    def walk(prefix, v):
        if isinstance(v, dict) and not v and prefix:
            print("%s\tnone" % prefix)
            return
        if isinstance(v, dict):
            for k, x in v.items():
                walk(prefix + "." + k if prefix else k, x)
            return
        if v is None:
            v = "-"
        elif isinstance(v, float):
            v = int(v) if v.is_integer() and abs(v) >= 100 else \
                ("%.3f" % v if abs(v) < 1 else "%.2f" % v)
        elif isinstance(v, list):
            v = json.dumps(v)
        elif isinstance(v, bool):
            v = "yes" if v else "no"
        print("%s\t%s" % (prefix, v))
    walk("", json.load(open(path)))


# ---- idle window ---------------------------------------------------------------


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    with open("/proc/%d/schedstat" % pid) as f:
        ns = int(f.read().split()[0])
    return ticks, ns


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            k, _, v = l.partition(":")
            if k in ("VmRSS", "RssAnon"):
                out[k] = int(v.split()[0])
    return out


PEEK_KEYS = ("Members", "Suspects", "Health", "DatagramsIn", "DatagramsOut",
             "DatagramsRejected", "PushPulls", "PushPullFailures", "Refusals")


def peek(cli, url):
    xid = url.rsplit("/", 1)[1]
    try:
        r = subprocess.run([cli, "-d", url, "peek", "/" + xid], capture_output=True, text=True,
                           timeout=15)
        d = json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        d = None
    t = time.time_ns()
    return (t, {k: d.get(k) for k in PEEK_KEYS}) if d else (t, None)


def peek_all(cli, servers):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda s: peek(cli, s["url"]), servers))


class Capture(threading.Thread):
    """Packets on lo to or from the servers' ports (each packet once)."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports = set(ports)
        self.udp_out = {p: [0, 0] for p in ports}  # port -> [datagrams, payload bytes]
        self.udp_in = {p: [0, 0] for p in ports}
        self.tcp = [0, 0]           # segments, payload bytes (to or from a server port)
        self.tcp_syn = 0            # connections opened to a server port
        self.conns = {}             # (client port, server port) -> [payload bytes, push-pull?]
        self.icmp = 0
        self.stop = False
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self._attach_filter(sorted(self.ports))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.bind(("lo", 0))
        self.s.settimeout(0.2)
        self.drops = 0

    def _attach_filter(self, ports):
        """A classic BPF filter: IPv4 UDP or TCP with a source or destination
        port among ours, not the outgoing copy (lo shows each packet twice),
        first 160 bytes only; the rest of lo's traffic never reaches Python."""
        prog = []
        op = lambda code, jt, jf, k: prog.append((code, jt, jf, k & 0xFFFFFFFF))
        op(0x20, 0, 0, -0x1000 + 4)  # ld pkttype (SKF_AD_OFF + SKF_AD_PKTTYPE)
        op(0x15, 0, 1, 4)            # PACKET_OUTGOING: drop
        op(0x06, 0, 0, 0)
        op(0x28, 0, 0, 12)           # ldh ethertype
        op(0x15, 1, 0, 0x0800)
        op(0x06, 0, 0, 0)
        op(0x30, 0, 0, 23)           # ldb protocol
        op(0x15, 2, 0, 17)
        op(0x15, 1, 0, 6)
        op(0x06, 0, 0, 0)
        op(0xB1, 0, 0, 14)           # x = IP header length
        for off in (14, 16):         # source port, then destination port
            op(0x48, 0, 0, off)
            for p in ports:
                op(0x15, 0, 1, p)
                op(0x06, 0, 0, 160)
        op(0x06, 0, 0, 0)
        import ctypes
        buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
        self._bpf = buf  # must outlive the setsockopt
        fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
        self.s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER

    def run(self):
        s = self.s
        while not self.stop:
            try:
                data, addr = s.recvfrom(65600)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                continue  # lo: the same packet comes back as PACKET_HOST
            ip = data[14:]
            if len(ip) < 20 or ip[0] >> 4 != 4:
                continue
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            proto = ip[9]
            l4 = ip[ihl:]  # truncated at 160 bytes by the filter: lengths from headers
            if proto == 17 and len(l4) >= 8:
                sp, dp, ul = struct.unpack("!HHH", l4[:6])
                if sp in self.ports:
                    c = self.udp_out[sp]
                    c[0] += 1
                    c[1] += ul - 8
                if dp in self.ports:
                    c = self.udp_in[dp]
                    c[0] += 1
                    c[1] += ul - 8
            elif proto == 6 and len(l4) >= 20:
                sp, dp = struct.unpack("!HH", l4[:4])
                if sp in self.ports or dp in self.ports:
                    off = (l4[12] >> 4) * 4
                    self.tcp[0] += 1
                    self.tcp[1] += total - ihl - off
                    key = (dp, sp) if sp in self.ports else (sp, dp)
                    c = self.conns.setdefault(key, [0, False, None])
                    c[0] += total - ihl - off
                    if dp in self.ports:
                        pl = l4[off:]
                        if b'"op":"member.sync"' in pl:
                            c[1] = True
                        i = pl.find(b"CP\x01")
                        if c[1] and c[2] is None and 0 <= i < len(pl) - 3:
                            c[2] = pl[i + 3]  # push-pull document flags (bit 0: join)
                    if l4[13] & 0x12 == 0x02 and dp in self.ports:  # SYN, not SYN-ACK
                        self.tcp_syn += 1
            elif proto == 1:
                self.icmp += 1

    def snapshot(self):
        return ({p: list(c) for p, c in self.udp_out.items()},
                {p: list(c) for p, c in self.udp_in.items()})

    def finish(self):
        self.stop = True
        self.join(timeout=2)
        try:
            # struct tpacket_stats { unsigned tp_packets, tp_drops; } (PACKET_STATISTICS = 6)
            st = self.s.getsockopt(263, 6, 8)
            self.drops = struct.unpack("II", st)[1]
        except OSError:
            self.drops = -1
        self.s.close()


def med_max(xs):
    return {"median": statistics.median(xs), "max": max(xs), "min": min(xs)} if xs else None


def cmd_idle(cli, servers_path, secs, out_path, capture, with_peek, settle=0.0):
    servers = read_servers(servers_path)
    pids = [s["pid"] for s in servers]
    hz = os.sysconf("SC_CLK_TCK")
    res = {"servers": len(servers), "seconds": secs, "hz": hz}
    p0 = peek_all(cli, servers) if with_peek else None
    cap = Capture([port_of(s["url"]) for s in servers]) if capture else None
    if cap:
        cap.start()
    # The settling pause, captured too (TCP: the first push-pull exchanges
    # come 30 to 37.5 s after each server started, whenever that falls).
    time.sleep(settle)
    if cap:
        snap = cap.snapshot()
    c0 = [proc_cpu(p) for p in pids]
    t0 = time.time_ns()
    time.sleep(secs)
    t1 = time.time_ns()
    c1 = [proc_cpu(p) for p in pids]
    if cap:
        cap.finish()
    st = [proc_status(p) for p in pids]
    win = (t1 - t0) / 1e9
    p1 = peek_all(cli, servers) if with_peek else None
    ticks = [b[0] - a[0] for a, b in zip(c0, c1)]
    ns = [b[1] - a[1] for a, b in zip(c0, c1)]
    res["window_s"] = win
    res["cpu_ticks_total"] = sum(ticks)
    res["cpu_pct_total_stat"] = 100.0 * sum(ticks) / hz / win
    res["cpu_pct_total_sched"] = 100.0 * sum(ns) / 1e9 / win
    res["cpu_pct_per_server_stat"] = res["cpu_pct_total_stat"] / len(pids)
    res["cpu_pct_per_server_sched"] = med_max([100.0 * x / 1e9 / win for x in ns])
    res["vmrss_kib"] = med_max([s["VmRSS"] for s in st])
    res["rssanon_kib"] = med_max([s["RssAnon"] for s in st])
    anon = [s["RssAnon"] for s in st]
    res["rssanon_max_server"] = anon.index(max(anon))  # 0: the seed
    res["rssanon_seed_kib"] = anon[0]
    if with_peek:
        ok = [(a, b) for a, b in zip(p0, p1) if a[1] and b[1]]
        res["peek_ok"] = len(ok)
        rate = lambda k: [(b[1][k] - a[1][k]) / ((b[0] - a[0]) / 1e9) for a, b in ok]
        res["peek_dgrams_in_per_s"] = med_max(rate("DatagramsIn"))
        res["peek_dgrams_out_per_s"] = med_max(rate("DatagramsOut"))
        res["peek_pushpulls"] = sum(b[1]["PushPulls"] - a[1]["PushPulls"] for a, b in ok)
        res["peek_pushpull_failures"] = sum(
            b[1]["PushPullFailures"] - a[1]["PushPullFailures"] for a, b in ok)
        res["peek_rejected"] = sum(
            b[1]["DatagramsRejected"] - a[1]["DatagramsRejected"] for a, b in ok)
        res["peek_members"] = sorted(set(b[1]["Members"] for a, b in ok))
        res["peek_suspects_max"] = max(b[1]["Suspects"] for a, b in ok)
        res["peek_health_max"] = max(b[1]["Health"] for a, b in ok)
        res["peek_window_s"] = statistics.median([(b[0] - a[0]) / 1e9 for a, b in ok])
    if cap:
        ports = [port_of(s["url"]) for s in servers]
        res["cap_drops"] = cap.drops
        res["cap_tcp_s"] = settle + win
        # UDP: the window only (minus what the settling pause saw).
        for d, d0 in ((cap.udp_out, snap[0]), (cap.udp_in, snap[1])):
            for p in ports:
                d[p] = [d[p][0] - d0[p][0], d[p][1] - d0[p][1]]
        res["cap_udp_out_pkts_per_s"] = med_max([cap.udp_out[p][0] / win for p in ports])
        res["cap_udp_in_pkts_per_s"] = med_max([cap.udp_in[p][0] / win for p in ports])
        res["cap_udp_out_bytes_per_s"] = med_max([cap.udp_out[p][1] / win for p in ports])
        res["cap_udp_in_bytes_per_s"] = med_max([cap.udp_in[p][1] / win for p in ports])
        res["cap_udp_pkts_total"] = sum(cap.udp_out[p][0] for p in ports)
        res["cap_udp_bytes_total"] = sum(cap.udp_out[p][1] for p in ports)
        res["cap_udp_mean_out_pkts_per_s"] = res["cap_udp_pkts_total"] / len(ports) / win
        res["cap_udp_mean_out_bytes_per_s"] = res["cap_udp_bytes_total"] / len(ports) / win
        res["cap_tcp_segments"] = cap.tcp[0]
        res["cap_tcp_payload_bytes"] = cap.tcp[1]
        res["cap_tcp_connections"] = cap.tcp_syn
        # TCP: settling pause and window together (no CLI call meanwhile).
        res["cap_tcp_bytes_per_server_s"] = cap.tcp[1] / len(ports) / (settle + win)
        res["cap_tcp_segments_per_server_s"] = cap.tcp[0] / len(ports) / (settle + win)
    alive = [p for p in pids if os.path.exists("/proc/%d" % p)]
    res["alive"] = len(alive)
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))
    return 0 if len(alive) == len(pids) else 1


def cmd_ppcap(ports_path, out_path):
    """Push-pull connections on lo, from now until SIGTERM: a TCP connection
    to a server's port whose client opens a `member.sync` stream (the
    transport is plaintext when unkeyed); CLI connections are told apart."""
    import signal
    ports = [int(x) for x in open(ports_path).read().split()]
    cap = Capture(ports)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    cap.start()
    done.wait(3600)
    cap.finish()
    # Periodic push-pulls only: a join's exchange (flags bit 0) is not one.
    pp = [c[0] for c in cap.conns.values() if c[1] and c[2] is not None and not c[2] & 1]
    res = {"pushpull_connections": len(pp), "pushpull_bytes": sum(pp),
           "pushpull_bytes_per_connection": statistics.mean(pp) if pp else None,
           "join_connections": sum(1 for c in cap.conns.values()
                                   if c[1] and c[2] is not None and c[2] & 1),
           "unparsed_sync_connections": sum(1 for c in cap.conns.values()
                                            if c[1] and c[2] is None),
           "other_connections": sum(1 for c in cap.conns.values() if not c[1]),
           "drops": cap.drops}
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "ports":
        cmd_ports(int(argv[2]))
        return 0
    if len(argv) == 4 and argv[1] == "ppcap":
        return cmd_ppcap(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "flat":
        cmd_flat(argv[2])
        return 0
    if len(argv) in (8, 10) and argv[1] == "converge":
        kill = argv[9] if len(argv) == 10 and argv[8] == "--kill" else None
        return cmd_converge(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]), argv[7],
                            kill)
    if len(argv) >= 6 and argv[1] == "idle":
        settle = [float(a.split("=", 1)[1]) for a in argv[6:] if a.startswith("--settle=")]
        return cmd_idle(argv[2], argv[3], float(argv[4]), argv[5], "--capture" in argv[6:],
                        "--peek" in argv[6:], settle[0] if settle else 0.0)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
