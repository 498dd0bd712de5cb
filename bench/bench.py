#!/usr/bin/env python3
"""Benchmark of dhcpc against dhclient, udhcpc and dhcpcd (issue 4). Run it through bench/run.

Two roles in one file (python3 standard library only):

  bench.py orchestrate ...  builds the namespace labs (a server namespace with dnsmasq, a client
                            namespace with 1 or N veth interfaces), runs every client the same way,
                            collects the figures and writes the report.
  bench.py measure ...      runs inside the client namespace (via `ip netns exec`): subscribes to
                            RTM_NEWADDR on a NETLINK_ROUTE socket, takes t0, spawns the client,
                            blocks until every interface has its lab address, then optionally
                            lets the daemon settle and measures its memory and idle cost, and
                            finally stops every process of the client.

Nothing here touches the host's interfaces: every client runs in a namespace created for the run,
with its own /etc/netns/NS/resolv.conf, its own UTS namespace (no client can set the host name)
and tmpfs over dhcpcd's state directories.
"""

import argparse
import ctypes
import hashlib
import ipaddress
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NET = "198.51.100"          # documentation range (RFC 5737); the host uses other addresses
SERVER_IP = NET + ".1"
POOL = (NET + ".10", NET + ".250")
# DHCPv6 (issue 20): the link's /64 (server 2001:db8:1::1, addresses from the pool) and the
# prefixes Kea delegates (/56s out of 2001:db8:100::/40); documentation range (RFC 3849).
NET6 = ipaddress.ip_network("2001:db8:1::/64")
SERVER6 = "2001:db8:1::1"
POOL6 = ("2001:db8:1::100", "2001:db8:1::ffff")
PD_POOL = ipaddress.ip_network("2001:db8:100::/40")
PD_LEN = 56

# ---------------------------------------------------------------------------------------------
# measure: runs inside the client namespace
# ---------------------------------------------------------------------------------------------

NETLINK_ROUTE = 0
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
RTM_NEWADDR = 20
NLMSG_ERROR = 2
NLMSG_OVERRUN = 4
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_FLAGS = 8
IFA_F_DADFAILED = 0x08
IFA_F_TENTATIVE = 0x40
RTA_DST = 1
RTN_BLACKHOLE = 6
RTN_UNREACHABLE = 7
RTN_PROHIBIT = 8
SO_RCVBUFFORCE = 33
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWUTS = 0x04000000


def mac(i):
    """Fixed, locally administered MAC address of client interface i."""
    return f"02:b0:00:00:{i >> 8:02x}:{i & 0xff:02x}"


def addr6(i):
    """The DHCPv6 address reserved for client interface i (inside the pool)."""
    return str(ipaddress.ip_address(POOL6[0]) + 0x1000 + i)


def libc():
    return ctypes.CDLL(None, use_errno=True)


def parse_newaddr(data):
    """Yields (ifindex, dotted address) for every IPv4 RTM_NEWADDR in a netlink datagram."""
    off = 0
    while off + 16 <= len(data):
        length, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
        if length < 16:
            break
        if mtype == NLMSG_OVERRUN:
            raise RuntimeError("netlink overrun")
        if mtype == RTM_NEWADDR and length >= 24:
            family, _plen, _fl, _scope, index = struct.unpack_from("=BBBBI", data, off + 16)
            if family == socket.AF_INET:
                addr = None
                a = off + 24
                end = off + length
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if atype in (IFA_LOCAL, IFA_ADDRESS) and alen >= 8:
                        val = socket.inet_ntoa(data[a + 4:a + 8])
                        if atype == IFA_LOCAL or addr is None:
                            addr = val
                    a += (alen + 3) & ~3
                if addr:
                    yield index, addr
        off += (length + 3) & ~3


def parse_events6(data):
    """Yields what a DHCPv6 client does to the kernel, from a netlink datagram of RTM_NEWADDR
    and RTM_NEWROUTE messages: ("addr", ifindex, address) for an IPv6 address that is usable
    (neither tentative nor failed DAD), ("reject", 0, "prefix/len") for an IPv6 route that
    drops a prefix (unreachable, blackhole or prohibit: what a requesting router puts in for
    its delegated prefix, RFC 7084 WPD-5)."""
    for mtype, d, off, end in nl_messages(data):
        if mtype == NLMSG_OVERRUN:
            raise RuntimeError("netlink overrun")
        if mtype == RTM_NEWADDR and end - off >= 8:
            family, _plen, flags, _scope, index = struct.unpack_from("=BBBBI", d, off)
            if family != socket.AF_INET6:
                continue
            addr = None
            for t, v in nl_attrs(d, off + 8, end):
                if t in (IFA_LOCAL, IFA_ADDRESS) and len(v) >= 16:
                    if t == IFA_LOCAL or addr is None:
                        addr = socket.inet_ntop(socket.AF_INET6, v[:16])
                elif t == IFA_FLAGS and len(v) >= 4:
                    flags = struct.unpack_from("=I", v)[0]
            if addr and not flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED):
                yield "addr", index, addr
        elif mtype == RTM_NEWROUTE and end - off >= 12:
            family, dst_len, _sl, _tos, _table, _pr, _sc, rtype, _f = \
                struct.unpack_from("=BBBBBBBBI", d, off)
            if family != socket.AF_INET6 or \
                    rtype not in (RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT):
                continue
            for t, v in nl_attrs(d, off + 12, end):
                if t == RTA_DST and len(v) >= 16:
                    yield "reject", 0, \
                        f"{socket.inet_ntop(socket.AF_INET6, v[:16])}/{dst_len}"


def wanted6(kind, what):
    """Whether an event of parse_events6 is the lab's: an address from the link's /64 (not the
    server's), or a reject route for a prefix out of the delegating server's pool."""
    if kind == "addr":
        a = ipaddress.ip_address(what)
        return a in NET6 and str(a) != SERVER6
    net = ipaddress.ip_network(what, strict=False)
    return net.subnet_of(PD_POOL) and PD_POOL.prefixlen < net.prefixlen <= 64


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def descendants(root):
    """PIDs of every process below root (root is a child subreaper, so daemons that double-fork
    stay below it)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = read(f"/proc/{name}/stat")
        if not stat:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return sorted(out)


def status_fields(text, *keys):
    vals = {}
    for line in (text or "").splitlines():
        k, _, v = line.partition(":")
        if k in keys:
            vals[k] = int(v.split()[0])
    return vals


def proc_memory(pids):
    procs = []
    for pid in pids:
        st = read(f"/proc/{pid}/status")
        if st is None:
            continue
        f = status_fields(st, "VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads")
        roll = status_fields(read(f"/proc/{pid}/smaps_rollup"), "Pss")
        comm = (read(f"/proc/{pid}/comm") or "?").strip()
        procs.append({"pid": pid, "comm": comm, "rss_kb": f.get("VmRSS", 0),
                      "anon_kb": f.get("RssAnon", 0), "file_kb": f.get("RssFile", 0),
                      "pss_kb": roll.get("Pss", 0), "threads": f.get("Threads", 1)})
    return procs


def task_snapshot(pids):
    """Per thread: context switches (voluntary, involuntary), CPU time in ns (schedstat) and in
    clock ticks (utime+stime)."""
    snap = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            base = f"/proc/{pid}/task/{tid}"
            st = read(base + "/status")
            stat = read(base + "/stat")
            sched = read(base + "/schedstat")
            if st is None or stat is None:
                continue
            f = status_fields(st, "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
            fields = stat[stat.rindex(")") + 2:].split()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            snap[f"{pid}/{tid}"] = {
                "comm": comm,
                "vol": f.get("voluntary_ctxt_switches", 0),
                "invol": f.get("nonvoluntary_ctxt_switches", 0),
                "ticks": int(fields[11]) + int(fields[12]),
                "cpu_ns": int(sched.split()[0]) if sched else 0,
            }
    return snap


def idle_delta(before, after):
    tot = {"vol": 0, "invol": 0, "ticks": 0, "cpu_ns": 0}
    per = {}
    for key, a in after.items():
        b = before.get(key, {"vol": 0, "invol": 0, "ticks": 0, "cpu_ns": 0})
        d = {k: a[k] - b[k] for k in tot}
        for k in tot:
            tot[k] += d[k]
        if d["vol"] or d["invol"]:
            per[f"{key} {a['comm']}"] = d
    tot["wakeups"] = tot["vol"] + tot["invol"]
    tot["tasks_gone"] = sorted(set(before) - set(after))
    tot["tasks_new"] = sorted(set(after) - set(before))
    tot["per_task"] = per
    return tot


def stop_all(me, grace=3.0):
    pids = descendants(me)
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace
    while time.monotonic() < end:
        reap()
        if not descendants(me):
            return
        time.sleep(0.05)
    for p in descendants(me):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.1)
    reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def confine(a):
    """What every helper does first, inside the client namespace, before it starts a client."""
    c = libc()
    # Own UTS namespace: a client's hook can never change the host name.
    if c.unshare(CLONE_NEWUTS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUTS)")
    # Fresh, private state directories (dhcpcd keeps leases and its DUID there): a tmpfs in
    # this mount namespace only (`ip netns exec` made one; / is not shared with the host).
    for d in filter(None, a.private_dirs.split(",")):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=16m", "bench", d],
                       check=True)
    if c.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def measure(a):
    confine(a)
    ifaces = a.ifaces.split(",")
    want = {socket.if_nametoindex(n): n for n in ifaces}
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    nl.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    # What the figure waits for (--match): addr4, an IPv4 address from the pool on each
    # interface; addr6, an IPv6 address from the link's /64 on each (DHCPv6 IA_NA); prefix6,
    # a reject route for a delegated prefix per interface (DHCPv6 IA_PD).
    nl.bind((0, {"addr4": RTMGRP_IPV4_IFADDR, "addr6": RTMGRP_IPV6_IFADDR,
                 "prefix6": RTMGRP_IPV6_ROUTE}[a.match]))
    me = os.getpid()
    res = {"ifaces": len(ifaces), "argv": a.argv, "match": a.match}
    got = {}
    seen = {}
    log = open(a.log, "wb")
    env = dict(os.environ)
    env.pop("DHCPC_LOG", None)

    t0 = time.monotonic_ns()
    proc = subprocess.Popen(a.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            close_fds=True, env=env)
    deadline = t0 + int(a.timeout * 1e9)
    err = None
    timed_out = False
    while len(got) < len(want):
        now = time.monotonic_ns()
        if now >= deadline:
            what = "a delegated prefix" if a.match == "prefix6" else "an address"
            err = f"timeout after {a.timeout:g} s: {len(got)}/{len(want)} interfaces have {what}"
            timed_out = True
            break
        # Blocks until an address event; wakes at most twice a second to notice a dead client.
        r, _, _ = select.select([nl], [], [], min(0.5, (deadline - now) / 1e9))
        if not r:
            if proc.poll() is not None:
                err = f"client exited with status {proc.returncode} before binding " \
                      f"({len(got)}/{len(want)} interfaces)"
                break
            continue
        data = nl.recv(1 << 20)
        t = time.monotonic_ns()
        if a.match == "addr4":
            for index, addr in parse_newaddr(data):
                if index in want and index not in got and addr.startswith(NET + "."):
                    got[index] = (t - t0) / 1e6
            continue
        for kind, index, what in parse_events6(data):
            if not wanted6(kind, what):
                continue
            # An address counts for its interface; a delegated prefix's route (on lo, as
            # the kernel puts reject routes) for whichever interface asked: one each.
            key = index if kind == "addr" else what
            if (kind == "addr") != (a.match == "addr6") or key in got or \
                    (kind == "addr" and index not in want):
                continue
            got[key] = (t - t0) / 1e6
            seen[want.get(index, what)] = what
    if seen:
        res["seen"] = dict(sorted(seen.items())[:3])
    res["ttl_ms"] = sorted(got.values())
    if got:
        res["ttl_all_ms"] = max(got.values())
        res["ttl_first_ms"] = min(got.values())
    res["bound"] = len(got)
    if err:
        res["error"] = err
    # --partial: a client still running that bound only some interfaces by the timeout has
    # its memory measured as it is (the report says how many were bound).
    if (not err or (a.partial and timed_out and got)) and (a.settle > 0 or a.idle > 0):
        time.sleep(a.settle)
        pids = descendants(me)
        mem = proc_memory(pids)
        res["procs"] = mem
        res["rss_kb"] = sum(p["rss_kb"] for p in mem)
        res["pss_kb"] = sum(p["pss_kb"] for p in mem)
        if a.idle > 0:
            before = task_snapshot(pids)
            t1 = time.monotonic()
            time.sleep(a.idle)
            pids2 = descendants(me)
            after = task_snapshot(pids2)
            res["idle"] = idle_delta(before, after)
            res["idle"]["secs"] = round(time.monotonic() - t1, 3)
            res["idle"]["procs_after"] = len(pids2)
    nl.close()
    stop_all(me)
    log.close()
    with open(a.out, "w") as f:
        json.dump(res, f)


# --- reconnect: link flaps under a bound client ----------------------------------------------

RTMGRP_LINK = 0x1
RTMGRP_IPV4_ROUTE = 0x40
RTM_NEWLINK = 16
RTM_DELADDR = 21
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTM_GETROUTE = 26
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
IFF_RUNNING = 0x40
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_TABLE = 15
RT_TABLE_MAIN = 254
RTN_UNICAST = 1


def nl_messages(data):
    """Yields (type, data, start of the payload, end of the message) for every message."""
    off = 0
    while off + 16 <= len(data):
        length, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
        if length < 16 or off + length > len(data):
            break
        yield mtype, data, off + 16, off + length
        off += (length + 3) & ~3


def nl_attrs(data, off, end):
    while off + 4 <= end:
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4 or off + alen > end:
            break
        yield atype & 0x3fff, data[off + 4:off + alen]
        off += (alen + 3) & ~3


class LinkView:
    """What the kernel says about one interface: its IPv4 addresses, the IPv4 default routes
    through it in the main table (gateway, metric) and its link flags, from rtnetlink."""

    def __init__(self, index):
        self.index = index
        self.addrs = set()
        self.defaults = set()
        self.flags = None

    def apply(self, mtype, data, off, end):
        if mtype in (RTM_NEWADDR, RTM_DELADDR) and end - off >= 8:
            family, _plen, _fl, _scope, index = struct.unpack_from("=BBBBI", data, off)
            if family != socket.AF_INET or index != self.index:
                return
            addr = None
            for t, v in nl_attrs(data, off + 8, end):
                if t in (IFA_LOCAL, IFA_ADDRESS) and len(v) >= 4:
                    if t == IFA_LOCAL or addr is None:
                        addr = socket.inet_ntoa(v[:4])
            if addr:
                if mtype == RTM_NEWADDR:
                    self.addrs.add(addr)
                else:
                    self.addrs.discard(addr)
        elif mtype in (RTM_NEWROUTE, RTM_DELROUTE) and end - off >= 12:
            family, dst_len, _sl, _tos, table, _pr, _sc, rtype, _f = \
                struct.unpack_from("=BBBBBBBBI", data, off)
            if family != socket.AF_INET or dst_len != 0 or rtype != RTN_UNICAST:
                return
            gw = oif = None
            metric = 0
            for t, v in nl_attrs(data, off + 12, end):
                if t == RTA_TABLE and len(v) >= 4:
                    table = struct.unpack_from("=I", v)[0]
                elif t == RTA_OIF and len(v) >= 4:
                    oif = struct.unpack_from("=i", v)[0]
                elif t == RTA_GATEWAY and len(v) >= 4:
                    gw = socket.inet_ntoa(v[:4])
                elif t == RTA_PRIORITY and len(v) >= 4:
                    metric = struct.unpack_from("=I", v)[0]
            if table == RT_TABLE_MAIN and oif == self.index and gw:
                if mtype == RTM_NEWROUTE:
                    self.defaults.add((gw, metric))
                else:
                    self.defaults.discard((gw, metric))
        elif mtype == RTM_NEWLINK and end - off >= 16:
            _fam, _pad, _type, index, flags, _change = struct.unpack_from("=BBHiII", data, off)
            if index == self.index:
                self.flags = flags

    def carrier(self):
        return self.flags is not None and self.flags & (IFF_UP | IFF_LOWER_UP) == \
            (IFF_UP | IFF_LOWER_UP)

    def has_route(self, router):
        return any(g == router for g, _ in self.defaults)

    def usable(self, addr, router):
        return addr in self.addrs and self.has_route(router)


class Watch:
    """The client namespace as the reconnect helper sees it: rtnetlink events about one
    interface, a control socket to set it down and up and to dump its addresses and routes,
    and the client's output, each line stamped with the time it arrived."""

    def __init__(self, iface, logpath):
        self.index = socket.if_nametoindex(iface)
        self.view = LinkView(self.index)
        self.ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.ev.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        self.ev.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE))
        self.ctl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.ctl.bind((0, 0))
        self.seq = 0
        self.out = None
        self.buf = b""
        self.lines = []
        self.log = open(logpath, "wb")
        self.running_at = None
        self.want_running = False

    def request(self, mtype, flags, body):
        self.seq += 1
        self.ctl.send(struct.pack("=IHHII", 16 + len(body), mtype, flags, self.seq, 0) + body)
        return self.seq

    def set_up(self, up):
        """Sets the interface up or down (RTM_NEWLINK, IFF_UP) and waits for the kernel's
        answer: when it comes, the kernel has done what the change does (a down has flushed
        the interface's routes)."""
        seq = self.request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK,
                           struct.pack("=BBHiII", socket.AF_UNSPEC, 0, 0, self.index,
                                       IFF_UP if up else 0, IFF_UP))
        while True:
            data = self.ctl.recv(1 << 16)
            for mtype, d, off, _end in nl_messages(data):
                if mtype == NLMSG_ERROR and struct.unpack_from("=I", d, off - 8)[0] == seq:
                    err = struct.unpack_from("=i", d, off)[0]
                    if err:
                        raise OSError(-err, f"setting link {'up' if up else 'down'}")
                    return

    def resync(self):
        """Addresses and default routes from a dump: the kernel does not say when it flushes
        IPv4 routes of an interface that goes down (no RTM_DELROUTE), so events alone would
        still show them."""
        fresh = LinkView(self.index)
        for mtype, body in ((RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)),
                            (RTM_GETROUTE, struct.pack("=BBBBBBBBI", socket.AF_INET,
                                                       0, 0, 0, 0, 0, 0, 0, 0))):
            seq = self.request(mtype, NLM_F_REQUEST | NLM_F_DUMP, body)
            done = False
            while not done:
                data = self.ctl.recv(1 << 20)
                for t, d, off, end in nl_messages(data):
                    if struct.unpack_from("=I", d, off - 8)[0] != seq:
                        continue
                    if t == NLMSG_DONE:
                        done = True
                    elif t == NLMSG_ERROR:
                        raise OSError(-struct.unpack_from("=i", d, off)[0], "netlink dump")
                    else:
                        fresh.apply(t, d, off, end)
        self.view.addrs, self.view.defaults = fresh.addrs, fresh.defaults

    def spawn(self, argv):
        env = dict(os.environ)
        env.pop("DHCPC_LOG", None)
        self.t_start = time.monotonic_ns()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, close_fds=True, env=env)
        self.out = self.proc.stdout
        os.set_blocking(self.out.fileno(), False)

    def _read_out(self, t):
        try:
            chunk = os.read(self.out.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self.out = None
            chunk = b"\n" if self.buf else b""
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace")
            self.lines.append((t, text))
            self.log.write(f"[{(t - self.t_start) / 1e6:10.1f} ms] {text}\n".encode())
        self.log.flush()

    def pump(self, until_ns, done=None):
        """Takes in events and output until done() holds (returns the time of the message
        that made it hold) or until_ns passes (returns None)."""
        while True:
            now = time.monotonic_ns()
            if now >= until_ns:
                return None
            fds = [self.ev] + ([self.out] if self.out else [])
            r, _, _ = select.select(fds, [], [], max(0, until_ns - now) / 1e9)
            t = time.monotonic_ns()
            if self.out in r:
                self._read_out(t)
            if self.ev in r:
                data = self.ev.recv(1 << 20)
                for mtype, d, off, end in nl_messages(data):
                    if mtype == NLMSG_OVERRUN:
                        raise RuntimeError("netlink overrun")
                    self.view.apply(mtype, d, off, end)
                if self.want_running and self.view.flags and self.view.flags & IFF_RUNNING:
                    self.running_at, self.want_running = t, False
                if done is not None and done():
                    return t

    def lines_between(self, t0, t1, ref):
        """The client's lines that arrived from t0 to t1, each with its time after ref (ms)."""
        return [(round((t - ref) / 1e6, 1), text) for t, text in self.lines if t0 <= t <= t1]


def stop_server(pid, grace=5.0):
    """Stops the lab's DHCP server (a process of the server namespace, visible here) and waits
    until it is gone (or a zombie its parent, the orchestrator, will reap)."""
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        st = read(f"/proc/{pid}/stat")
        if st is None or st[st.rindex(")") + 2] == "Z":
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)


def reconnect(a):
    """Starts the client, waits until it has a lease (an address from the pool and a default
    route via the router), then flaps the interface (down for --down s, then up) again and
    again and times each return of the lease's address and default route from the moment the
    kernel reports carrier. Phases: "answer" (the server is up) and "silent" (the server is
    stopped before the phase's first flap). A flap after which the client does not get both
    back within --limit s ends the helper: later flaps would start from a broken state."""
    confine(a)
    me = os.getpid()
    w = Watch(a.iface, a.log)
    w.resync()
    res = {"argv": a.argv, "phases": {}}
    router = SERVER_IP
    leased = lambda: [x for x in w.view.addrs if x.startswith(NET + ".") and x != router]
    try:
        w.spawn(a.argv)
        t = w.pump(w.t_start + int(a.timeout * 1e9),
                   lambda: leased() and w.view.has_route(router))
        if t is None:
            res["error"] = (f"no lease within {a.timeout} s (addresses {sorted(w.view.addrs)}, "
                            f"default routes {sorted(w.view.defaults)})")
            return res
        res["bound_ms"] = (t - w.t_start) / 1e6
        addr = leased()[0]
        res["address"] = addr
        w.pump(time.monotonic_ns() + int(a.settle * 1e9))
        for phase in a.phases.split(","):
            name, _, count = phase.partition(":")
            flaps = res["phases"].setdefault(name, [])
            if name == "silent":
                stop_server(a.server_pid)
                w.pump(time.monotonic_ns() + int(0.2 * 1e9))
            for _ in range(int(count)):
                if not w.view.usable(addr, router):
                    res["error"] = (f"{name}: the lease's address or default route was gone "
                                    f"before a flap ({sorted(w.view.addrs)}, "
                                    f"{sorted(w.view.defaults)})")
                    return res
                f = flap(w, a, addr, router)
                flaps.append(f)
                if not f["ok"]:
                    res["ended"] = name
                    return res
        return res
    finally:
        if getattr(w, "proc", None) and w.proc.poll() is not None:
            res.setdefault("warnings", []).append(f"client exited with status {w.proc.returncode}")
        stop_all(me)
        if w.out:
            w.pump(time.monotonic_ns() + int(0.2 * 1e9))
        w.log.close()
        with open(a.out, "w") as f:
            json.dump(res, f)


def flap(w, a, addr, router):
    v = w.view
    t_down = time.monotonic_ns()
    w.set_up(False)
    w.resync()
    w.pump(t_down + int(a.down * 1e9))
    f = {"addr_kept": addr in v.addrs, "route_after_down": v.has_route(router)}
    t_up = time.monotonic_ns()
    w.running_at, w.want_running = None, True
    w.set_up(True)
    w.resync()
    limit = t_up + int(a.limit * 1e9)
    t_car = t_up if v.carrier() else w.pump(limit, v.carrier)
    f["carrier_ms"] = None if t_car is None else (t_car - t_up) / 1e6
    t0 = t_car or t_up
    t_addr = t0 if addr in v.addrs else w.pump(limit, lambda: addr in v.addrs)
    f["addr_ms"] = None if t_addr is None else max(0.0, (t_addr - t0) / 1e6)
    t_ok = None
    if t_addr is not None:
        t_ok = t0 if v.usable(addr, router) else w.pump(limit, lambda: v.usable(addr, router))
    f["usable_ms"] = None if t_ok is None else max(0.0, (t_ok - t0) / 1e6)
    if t_ok is None:
        if w.running_at is not None:
            f["running_ms"] = (w.running_at - t0) / 1e6
        f["left"] = {"addrs": sorted(v.addrs), "defaults": sorted(v.defaults)}
        f["lines"] = w.lines_between(t_down, time.monotonic_ns(), t0)[-30:]
        f["ok"] = False
        return f
    # After it: the pause before the next flap, watching whether the lease stays in place. A
    # client that put it back and took it away again is noted; unless it is back once more a
    # pause later, the flap counts as a failure (the lease did not survive it).
    lost = w.pump(time.monotonic_ns() + int(a.pause * 1e9), lambda: not v.usable(addr, router))
    if lost is not None:
        f["lost_ms"] = (lost - t0) / 1e6
        w.pump(time.monotonic_ns() + int(a.pause * 1e9))
        if not v.usable(addr, router):
            f["left"] = {"addrs": sorted(v.addrs), "defaults": sorted(v.defaults)}
    f["ok"] = v.usable(addr, router)
    if w.running_at is not None:
        f["running_ms"] = (w.running_at - t0) / 1e6
    f["lines"] = w.lines_between(t_down, time.monotonic_ns(), t0)[:30]
    return f


# ---------------------------------------------------------------------------------------------
# orchestrate: runs on the host, builds labs and runs the clients in them
# ---------------------------------------------------------------------------------------------

PY = sys.executable or "/usr/bin/python3"


def sh(*argv, check=True, inp=None, capture=True):
    r = subprocess.run(argv, input=inp, text=True, capture_output=capture)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {(r.stderr or '').strip()}")
    return r.stdout if capture else ""


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Bench:
    def __init__(self, a):
        self.a = a
        self.seq = 0
        self.labs = []
        self.resolv_sha = a.resolv_sha or sha256("/etc/resolv.conf")
        self.private_dirs = ["/run/dhcpcd", "/var/lib/dhcpcd"]
        self.created_dirs = []

    # -- safety ---------------------------------------------------------------------------------
    def check_resolv(self):
        now = sha256("/etc/resolv.conf")
        if now != self.resolv_sha:
            raise SystemExit("bench: ABORT: the host's /etc/resolv.conf changed during the "
                             "benchmark (sha256 %s, was %s)" % (now, self.resolv_sha))

    def ns_pids(self, ns):
        out = sh("ip", "netns", "pids", ns, check=False)
        return [int(p) for p in out.split()]

    def destroy(self, lab):
        for ns in (lab["cli"], lab["srv"]):
            for _ in range(3):
                pids = self.ns_pids(ns)
                if not pids:
                    break
                for p in pids:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.1)
            sh("ip", "netns", "del", ns, check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        shutil.rmtree(lab["dir"], ignore_errors=True)
        if lab in self.labs:
            self.labs.remove(lab)

    def cleanup(self):
        for lab in list(self.labs):
            self.destroy(lab)
        for d in reversed(self.created_dirs):
            try:
                os.rmdir(d)
            except OSError:
                pass

    # -- lab --------------------------------------------------------------------------------------
    def lab(self, n, v6=None):
        """Server namespace (dnsmasq) and client namespace joined by n veth pairs: one pair
        directly when n == 1, otherwise n pairs on one bridge in the server namespace.
        v6 "dnsmasq" or "kea": a DHCPv6 lab instead (IPv6 on, no DAD, no IPv4 server), served
        by dnsmasq (addresses) or Kea (addresses and delegated prefixes)."""
        self.seq += 1
        p = f"{self.a.prefix}{self.seq}"
        lab = {"srv": p + "s", "cli": p + "c", "n": n, "dir": os.path.join(self.a.work, p),
               "ifaces": [f"bc{i}" for i in range(n)], "server": None}
        self.labs.append(lab)
        os.makedirs(lab["dir"])
        for ns in (lab["srv"], lab["cli"]):
            sh("ip", "netns", "add", ns)
            os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
            with open(f"/etc/netns/{ns}/resolv.conf", "w") as f:
                f.write(f"# bench lab {ns}: the host's resolv.conf is never written\n")
            if v6:
                # IPv6 on, and no duplicate address detection on any interface made from now
                # on (the defaults are copied into each new interface): the link-local
                # addresses are usable as soon as the link is up and the DHCPv6 address as
                # soon as it is added, so DAD's second (or more) is not in any figure.
                sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
                   "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
            else:
                sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        srv, cli = lab["srv"], lab["cli"]
        # Client interfaces get fixed MAC addresses and dnsmasq a reservation for each (unless
        # --dynamic-pool): with --no-ping, dnsmasq does not hold an offered address, so
        # clients starting together are often offered the same one, and all but one get a NAK
        # and start over; how long each client waits then would dominate the scale figures.
        # Distinct interface indexes at the two ends: in fresh namespaces both would be 2, and
        # the kernel's link watch takes a veth whose index equals its peer's for a device of
        # its own (not urgent), so it would set RUNNING (operstate UP) up to a second after
        # carrier (LOWER_UP). On a real NIC userspace hears of carrier and RUNNING together;
        # distinct indexes make the lab behave so (it matters to the reconnect row: dhcpcd
        # waits for RUNNING, dhcpc for LOWER_UP).
        sh("ip", "-batch", "-", inp="".join(
            f"link add bc{i} index {10 + i} address {mac(i)} netns {cli} type veth "
            f"peer name bs{i} netns {srv} index {1000 + i}\n" for i in range(n)))
        hosts = os.path.join(lab["dir"], "dnsmasq.hosts")
        with open(hosts, "w") as f:
            if self.a.dynamic_pool:
                pass
            elif v6:
                # dnsmasq finds a DHCPv6 client's MAC address from its link-local address
                # (EUI-64) or its neighbour table: a reservation per MAC works in v6 too.
                f.write("".join(f"{mac(i)},[{addr6(i)}]\n" for i in range(n)))
            else:
                f.write("".join(f"{mac(i)},{NET}.{10 + i}\n" for i in range(n)))
        cmds = ["link set lo up"]
        if n == 1:
            sif = "bs0"
            cmds += ["link set bs0 up"]
        else:
            sif = "br0"
            cmds += ["link add br0 type bridge forward_delay 0 stp_state 0"]
            cmds += [f"link set bs{i} master br0" for i in range(n)]
            cmds += [f"link set bs{i} up" for i in range(n)]
            cmds += ["link set br0 up"]
        if v6:
            cmds += [f"addr add {SERVER6}/{NET6.prefixlen} dev {sif} nodad"]
        else:
            cmds += [f"addr add {SERVER_IP}/24 dev {sif}"]
        sh("ip", "-n", srv, "-batch", "-", inp="\n".join(cmds) + "\n")
        sh("ip", "-n", cli, "-batch", "-",
           inp="link set lo up\n" + "".join(f"link set bc{i} up\n" for i in range(n)))
        # Every client starts on an interface that is up and running: carrier (LOWER_UP) is
        # immediate on a veth, but the kernel's link watch sets RUNNING and operstate UP up to
        # a second later, and dhcpcd waits for that ("waiting for carrier").
        end = time.monotonic() + 20
        while True:
            ready = 0
            for ns, pre, want in ((cli, ": bc", n), (srv, ": b", n + (n > 1))):
                out = sh("ip", "-n", ns, "-o", "link", "show", "up")
                ok = sum(1 for line in out.splitlines()
                         if pre in line and "LOWER_UP" in line and "state UP" in line)
                ready += ok == want
            if v6:
                # DHCPv6 runs between link-local addresses: every client interface and the
                # server's have theirs before anything starts.
                for ns, pre, want in ((cli, ": bc", n), (srv, f": {sif}", 1)):
                    out = sh("ip", "-n", ns, "-6", "-o", "addr", "show", "scope", "link")
                    ok = sum(1 for line in out.splitlines()
                             if pre in line and "tentative" not in line)
                    ready += ok == want
            if ready == (4 if v6 else 2):
                break
            if time.monotonic() > end:
                raise RuntimeError(f"lab {p}: the interfaces did not all come up running")
            time.sleep(0.05)
        if v6:
            self.neighbours6(lab, sif)
        if v6 == "kea":
            lab["server"] = self.kea(lab, sif)
            return lab
        # dnsmasq, as the issue says with --no-ping (no ICMP check before offering).
        logf = os.path.join(lab["dir"], "dnsmasq.log")
        if v6:
            # Stateful DHCPv6 from the /64 (no router advertisements: no SLAAC address to
            # confuse with the DHCPv6 one, and dhcpcd is told not to wait for any), 1 h
            # leases as in IPv4 so that no renewal falls inside a measurement.
            opts = [f"--dhcp-range={POOL6[0]},{POOL6[1]},{NET6.prefixlen},1h",
                    f"--dhcp-option=option6:dns-server,[{SERVER6}]",
                    "--dhcp-option=option6:domain-search,lab.test", "--quiet-dhcp6"]
            started = "DHCPv6, IP range"
        else:
            opts = [f"--dhcp-range={POOL[0]},{POOL[1]},255.255.255.0,1h",
                    f"--dhcp-option=option:router,{SERVER_IP}",
                    f"--dhcp-option=option:dns-server,{SERVER_IP}",
                    "--dhcp-option=option:domain-name,lab.test"]
            started = "DHCP, IP range"
        lab["server"] = subprocess.Popen(
            ["ip", "netns", "exec", srv, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
             "--port=0", "--no-resolv", "--no-hosts", "--no-ping", "--quiet-dhcp",
             "--bind-interfaces", f"--interface={sif}", "--except-interface=lo"] + opts + [
             "--dhcp-lease-max=1000",
             "--dhcp-hostsfile=" + hosts,
             "--dhcp-leasefile=" + os.path.join(lab["dir"], "dnsmasq.leases"),
             "--pid-file=" + os.path.join(lab["dir"], "dnsmasq.pid")],
            stdin=subprocess.DEVNULL, stdout=open(logf, "wb"), stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while started not in (read(logf) or ""):
            if lab["server"].poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"dnsmasq did not start: {read(logf)}")
            time.sleep(0.02)
        return lab

    def neighbours6(self, lab, sif):
        """Puts every client interface's link-local address, with its MAC address, in the
        server namespace's neighbour table. dnsmasq looks up a DHCPv6 client's MAC address
        there for every message, and when it is missing sends a neighbour solicitation and
        sleeps 100 ms (up to five times), one message after another: with 100 clients that
        alone made everyone wait about 10 s, whichever the client. A router that has the
        client in its neighbour cache answers at once; so does the lab's server."""
        out = sh("ip", "-n", lab["cli"], "-6", "-o", "addr", "show", "scope", "link")
        cmds = []
        for line in out.splitlines():
            f = line.split()
            name = f[1].split("@")[0]
            if name in lab["ifaces"] and "inet6" in f:
                ll = f[f.index("inet6") + 1].split("/")[0]
                i = int(name[2:])
                cmds.append(f"neigh replace {ll} lladdr {mac(i)} dev {sif} nud permanent")
        if len(cmds) != lab["n"]:
            raise RuntimeError(f"lab {lab['cli']}: {len(cmds)} link-local addresses for "
                               f"{lab['n']} interfaces")
        sh("ip", "-n", lab["srv"], "-batch", "-", inp="\n".join(cmds) + "\n")

    def kea(self, lab, sif):
        """Kea's DHCPv6 server in the lab's server namespace: addresses from the same pool as
        dnsmasq's and prefixes (/56 out of 2001:db8:100::/40), 1 h lifetimes, rapid commit
        granted to a client that asks (as dnsmasq grants it). Every file it
        writes (lease file, lock file, pid file, log) is in the lab's directory, its server
        DUID is not stored, and it runs in the foreground as the orchestrator's child."""
        d = lab["dir"]
        conf = os.path.join(d, "kea-dhcp6.json")
        logf = os.path.join(d, "kea.log")
        with open(conf, "w") as f:
            json.dump({"Dhcp6": {
                "interfaces-config": {"interfaces": [sif]},
                "data-directory": d,
                "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                                   "name": os.path.join(d, "kea-leases6.csv")},
                "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102030405",
                              "persist": False},
                "renew-timer": 1800, "rebind-timer": 2880, "preferred-lifetime": 3600,
                "valid-lifetime": 3600,
                "option-data": [{"name": "dns-servers", "data": SERVER6},
                                {"name": "domain-search", "data": "lab.test"}],
                "subnet6": [{"subnet": str(NET6), "interface": sif, "rapid-commit": True,
                             "pools": [{"pool": f"{POOL6[0]}-{POOL6[1]}"}],
                             "pd-pools": [{"prefix": str(PD_POOL.network_address),
                                           "prefix-len": PD_POOL.prefixlen,
                                           "delegated-len": PD_LEN}]}],
                "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                             "output_options": [{"output": logf}]}],
            }}, f, indent=1)
        env = dict(os.environ, KEA_LOCKFILE_DIR=d, KEA_PIDFILE_DIR=d)
        proc = subprocess.Popen(["ip", "netns", "exec", lab["srv"], "kea-dhcp6", "-c", conf],
                                stdin=subprocess.DEVNULL, env=env, stderr=subprocess.STDOUT,
                                stdout=open(os.path.join(d, "kea.out"), "wb"))
        end = time.monotonic() + 15
        while "DHCP6_STARTED" not in (read(logf) or ""):
            if proc.poll() is not None or time.monotonic() > end:
                proc.kill()
                raise RuntimeError(f"kea-dhcp6 did not start: {read(logf)} "
                                   f"{read(os.path.join(d, 'kea.out'))}")
            time.sleep(0.02)
        return proc

    # -- clients ----------------------------------------------------------------------------------
    def argv(self, cfg, lab, v6=None):
        d, ifs = lab["dir"], lab["ifaces"]
        if v6:
            return self.argv6(cfg, lab, v6)
        if cfg in ("dhcpc", "dhcpc-noarp"):
            cmd = [self.a.bin, "-d", "--run-dir", d + "/run", "--lease-dir", d + "/lease",
                   "--resolv-conf", d + "/resolv.conf"]
            with open(d + "/resolv.conf", "w") as f:
                f.write("# lab\n")
            if cfg == "dhcpc-noarp":
                cmd += ["--arp-probe", "0"]
            return cmd + ifs
        if cfg == "dhclient":
            return ["dhclient", "-d", "-4", "-cf", "/etc/dhcp/dhclient.conf",
                    "-lf", d + "/dhclient.leases", "-pf", d + "/run/dhclient.pid",
                    "-sf", os.path.join(HERE, "scripts", "dhclient-script")] + ifs
        if cfg == "udhcpc":
            assert len(ifs) == 1
            return ["udhcpc", "-f", "-i", ifs[0],
                    "-s", os.path.join(HERE, "scripts", "udhcpc-script")]
        if cfg.startswith("dhcpcd"):
            # Distribution configuration (/etc/dhcpcd.conf), IPv4 only like the other clients,
            # in the foreground; hooks that would write resolv.conf, the host name or NTP
            # configuration are off.
            cmd = ["dhcpcd", "-B", "-4", "-f", "/etc/dhcpcd.conf"]
            for hook in ("resolv.conf", "hostname", "ntp-common.conf", "chrony.conf",
                         "timesyncd.conf", "openntpd.conf"):
                cmd += ["--nohook", hook]
            if cfg == "dhcpcd-A":
                cmd += ["-A"]
            return cmd + ifs
        raise ValueError(cfg)

    def argv6(self, cfg, lab, mode):
        """DHCPv6, mode "na" (an address, IA_NA) or "pd" (a delegated prefix alone, IA_PD with
        a /56 hint): each client as a foreground daemon, as in IPv4."""
        d, ifs = lab["dir"], lab["ifaces"]
        if cfg == "dhcpc":
            cmd = [self.a.bin, "-6", "-d", "--run-dir", d + "/run", "--lease-dir", d + "/lease",
                   "--resolv-conf", d + "/resolv.conf"]
            with open(d + "/resolv.conf", "w") as f:
                f.write("# lab\n")
            if mode == "pd":
                cmd += ["--no-ia-na", "--ia-pd", "--prefix-len-hint", str(PD_LEN)]
            return cmd + ifs
        if cfg == "dhclient":
            # The hook adds the address (a /128) or, for a prefix, the unreachable route a
            # requesting router puts in for it (RFC 7084 WPD-5), as dhcpc and dhcpcd do.
            cmd = ["dhclient", "-6", "-d", "-cf", "/etc/dhcp/dhclient.conf",
                   "-lf", d + "/dhclient6.leases", "-pf", d + "/run/dhclient6.pid",
                   "-sf", os.path.join(HERE, "scripts", "dhclient6-script")]
            if mode == "pd":
                cmd += ["-P", "--prefix-len-hint", str(PD_LEN)]
            return cmd + ifs
        if cfg == "dhcpcd":
            # The distribution's configuration, and: no router solicitation (there are no
            # router advertisements in the lab; without an RA with the M flag dhcpcd starts
            # DHCPv6 only for an IA it is told to ask for), and per interface the IA to ask
            # for: ia_na, or ia_pd with the /56 hint delegated to no interface ("-"), for
            # which dhcpcd puts in a reject (unreachable) route itself.
            conf = os.path.join(d, "dhcpcd6.conf")
            ia = "ia_na" if mode == "na" else f"ia_pd 1/::/{PD_LEN} -"
            with open(conf, "w") as f:
                f.write((read("/etc/dhcpcd.conf") or "") +
                        "\n# bench/run: DHCPv6 without router advertisements\nnoipv6rs\n" +
                        "".join(f"interface {i}\n  {ia}\n" for i in ifs))
            cmd = ["dhcpcd", "-B", "-6", "-f", conf]
            for hook in ("resolv.conf", "hostname", "ntp-common.conf", "chrony.conf",
                         "timesyncd.conf", "openntpd.conf"):
                cmd += ["--nohook", hook]
            return cmd + ifs
        raise ValueError(cfg)

    def run(self, cfg, n, settle=0.0, idle=0.0, timeout=60.0, v6=None, partial=False):
        """Time to lease on n interfaces (and, with settle/idle, the bound daemon's cost).
        v6 "na": time to a DHCPv6 address on each (dnsmasq); "pd": time to a delegated
        prefix's reject route (Kea). partial: at the timeout, the memory of a client that
        bound only some of them is measured all the same."""
        match = {None: "addr4", "na": "addr6", "pd": "prefix6"}[v6]
        return self.helper(cfg, n, f"{v6 or ''}{n}", lambda lab, out, log: [
            "measure", "--ifaces", ",".join(lab["ifaces"]), "--timeout", str(timeout),
            "--settle", str(settle), "--idle", str(idle), "--match", match,
            "--out", out, "--log", log] + (["--partial"] if partial else []), v6=v6)

    def reconnect_run(self, cfg, phases):
        """Link flaps under one bound client: phases is a list of (name, flaps)."""
        a = self.a
        return self.helper(cfg, 1, "reconnect", lambda lab, out, log: [
            "reconnect", "--iface", lab["ifaces"][0], "--timeout", str(a.timeout),
            "--settle", str(a.reconnect_settle), "--down", str(a.reconnect_down),
            "--pause", str(a.reconnect_pause), "--limit", str(a.reconnect_limit),
            "--server-pid", str(lab["server"].pid),
            "--phases", ",".join(f"{p}:{k}" for p, k in phases), "--out", out, "--log", log])

    def helper(self, cfg, n, tag, args, v6=None):
        # Mount points for the per-run tmpfs over dhcpcd's state directories (removed at the
        # end if they did not exist): without them dhcpcd would write to the host's /run.
        for d in self.private_dirs:
            if not os.path.isdir(d):
                os.makedirs(d)
                self.created_dirs.append(d)
        lab = self.lab(n, v6={None: None, "na": "dnsmasq", "pd": "kea"}[v6])
        try:
            # The client's run directory (dhcpc's control sockets and pid files, dhclient's pid
            # file) is a tmpfs, as /run is on a running system; lease files stay on disk.
            rundir = os.path.join(lab["dir"], "run")
            os.makedirs(rundir, exist_ok=True)
            out = os.path.join(lab["dir"], "measure.json")
            log = os.path.join(lab["dir"], "client.log")
            argv = self.argv(cfg, lab, v6)
            r = subprocess.run(
                ["ip", "netns", "exec", lab["cli"], PY, os.path.abspath(__file__)] +
                args(lab, out, log) +
                ["--private-dirs", ",".join(self.private_dirs + [rundir]), "--"] + argv,
                capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(out):
                res = {"error": f"measure helper failed ({r.returncode}): {r.stderr.strip()[-800:]}"}
            else:
                with open(out) as f:
                    res = json.load(f)
            text = read(log) or ""
            res["log_tail"] = text[-1500:]
            # dhcpcd 9.4.1 reads /proc/net/if_inet6 with one read(), which returns at most a
            # page (4 KiB, about 75 addresses): past that, it cannot find an interface's
            # link-local address (nor the one it then adds itself) and that interface never
            # starts DHCPv6. Counted here so that the report can say so.
            lost = {line.split("%")[-1].split(":")[0] for line in text.splitlines()
                    if "if_addrflags6:" in line and "No such process" in line}
            if lost:
                res["ll_unseen"] = len(lost)
                res["never_solicited"] = sum(1 for i in lab["ifaces"]
                                             if f"{i}: soliciting" not in text)
            if self.a.keep_logs:
                os.makedirs(self.a.keep_logs, exist_ok=True)
                shutil.copy(log, os.path.join(self.a.keep_logs, f"{cfg}-{tag}-{self.seq}.log"))
            # Nothing of the client may survive its run.
            left = [p for p in self.ns_pids(lab["cli"])]
            if left:
                res.setdefault("warnings", []).append(f"processes left in the client namespace: {left}")
            lab["server"].terminate()
            try:
                lab["server"].wait(5)
            except subprocess.TimeoutExpired:
                lab["server"].kill()
                lab["server"].wait()
            return res
        finally:
            self.destroy(lab)
            self.check_resolv()

    # -- the benchmark ----------------------------------------------------------------------------
    def main(self):
        a = self.a
        cfgs = [c for c in CONFIGS if c in a.clients.split(",")]
        multi = [c for c in cfgs if c != "udhcpc"]
        only = set(a.only.split(","))
        phases = [p for p in RECONNECT_PHASES if p in a.reconnect_phases.split(",")]
        data = {"ttl": {c: [] for c in cfgs}, "scale": {c: [] for c in multi},
                "daemon1": {}, "daemon100": {}, "errors": [], "scale_detail": {},
                "only": sorted(only),
                "reconnect": {p: {c: {"flaps": [], "never": None, "error": None} for c in cfgs}
                              for p in phases}}
        started = time.monotonic()

        def record(kind, cfg, res, where):
            if "error" in res:
                data["errors"].append({"what": f"{kind} {cfg}", "error": res["error"],
                                       "log": res.get("log_tail", "")})
                print(f"  {cfg:12} {kind}: ERROR {res['error']}", flush=True)
                return False
            for w in res.get("warnings", []):
                data["errors"].append({"what": f"{kind} {cfg}", "error": w})
            if where is not None:
                where.append(res["ttl_all_ms"])
                if kind == "scale":
                    t = res["ttl_ms"]
                    data["scale_detail"].setdefault(cfg, []).append(
                        (t[0], statistics.median(t), t[-1]))
            return True

        # 1. time to lease, one interface (the last round also measures the bound daemon)
        rounds = (a.warmup + a.runs) if "ttl" in only else 0
        if rounds:
            print(f"== time to lease, 1 interface: {a.warmup} warm-up + {a.runs} runs per "
                  f"client", flush=True)
        for r in range(rounds):
            order = cfgs[r % len(cfgs):] + cfgs[:r % len(cfgs)]
            last = r == rounds - 1
            for cfg in order:
                res = self.run(cfg, 1, settle=a.settle if last else 0,
                               idle=a.idle if last else 0, timeout=a.timeout)
                ok = record("ttl", cfg, res, data["ttl"][cfg] if r >= a.warmup else None)
                if ok:
                    tag = "warm-up" if r < a.warmup else f"run {r - a.warmup + 1}"
                    extra = ""
                    if last:
                        data["daemon1"][cfg] = res
                        extra = f"  rss {res.get('rss_kb', 0) / 1024:.2f} MiB"
                        if "idle" in res:
                            extra += f"  idle {res['idle']['wakeups']} wake-ups " \
                                     f"{res['idle']['cpu_ns'] / 1e6:.2f} ms CPU"
                    print(f"  {cfg:12} {tag:8} {res['ttl_all_ms']:9.1f} ms{extra}", flush=True)

        # 2. scale: n interfaces in one process (the last round measures the bound daemon)
        if "scale" in only and a.scale_runs > 0 and a.ifaces > 1:
            print(f"== scale: {a.ifaces} interfaces in one process, {a.scale_runs} runs per client",
                  flush=True)
            for r in range(a.scale_runs):
                last = r == a.scale_runs - 1
                for cfg in multi:
                    res = self.run(cfg, a.ifaces, settle=a.settle if last else 0,
                                   idle=a.idle if (last and a.idle_scale) else 0,
                                   timeout=a.scale_timeout)
                    if record("scale", cfg, res, data["scale"][cfg]):
                        extra = ""
                        if last:
                            data["daemon100"][cfg] = res
                            extra = f"  rss {res.get('rss_kb', 0) / 1024:.2f} MiB"
                            if "idle" in res:
                                extra += f"  idle {res['idle']['wakeups']} wake-ups " \
                                         f"{res['idle']['cpu_ns'] / 1e6:.2f} ms CPU"
                        print(f"  {cfg:12} run {r + 1}  all {res['ttl_all_ms']:9.1f} ms "
                              f"(first {res['ttl_first_ms']:.1f} ms){extra}", flush=True)

        # 3. reconnect: link flaps under a bound client, the server answering, then stopped
        if "reconnect" in only and a.reconnect_runs > 0 and phases:
            print(f"== reconnect: {a.reconnect_runs} link flaps per client and server phase "
                  f"({', '.join(phases)}), down {a.reconnect_down:g} s, limit "
                  f"{a.reconnect_limit:g} s", flush=True)
            for cfg in cfgs:
                todo = list(phases)
                while todo:
                    res = self.reconnect_run(cfg, [(p, a.reconnect_runs) for p in todo])
                    for p, flaps in res.get("phases", {}).items():
                        rec = data["reconnect"][p][cfg]
                        for f in flaps:
                            rec["flaps"].append(f)
                            i = len(rec["flaps"])
                            kept = "kept" if f["addr_kept"] else "dropped"
                            if f["usable_ms"] is None:
                                rec["never"] = f
                                print(f"  {cfg:12} {p:7} flap {i}: not back within "
                                      f"{a.reconnect_limit:g} s (address {kept} while down; "
                                      f"left {f['left']})", flush=True)
                            elif not f["ok"]:
                                rec["never"] = f
                                print(f"  {cfg:12} {p:7} flap {i}: back in "
                                      f"{f['usable_ms']:.1f} ms, taken away again at "
                                      f"{f['lost_ms']:.1f} ms (left {f['left']})", flush=True)
                            else:
                                print(f"  {cfg:12} {p:7} flap {i}: {f['usable_ms']:9.1f} ms "
                                      f"(address {kept} while down)", flush=True)
                    for w in res.get("warnings", []):
                        data["errors"].append({"what": f"reconnect {cfg}", "error": w})
                    if "error" in res:
                        data["errors"].append({"what": f"reconnect {cfg}", "error": res["error"],
                                               "log": res.get("log_tail", "")})
                        print(f"  {cfg:12} reconnect: ERROR {res['error']}", flush=True)
                        for p in todo:
                            rec = data["reconnect"][p][cfg]
                            if rec["never"] is None and len(rec["flaps"]) < a.reconnect_runs:
                                rec["error"] = res["error"]
                        break
                    # A phase whose flap was never made good ends there; the next phase
                    # needs a client that holds its lease, so it starts in a fresh lab.
                    ended = res.get("ended")
                    todo = todo[todo.index(ended) + 1:] if ended in todo else []
        # 4. DHCPv6 (issue 20): time to an address, to a delegated prefix, memory
        if "v6" in only:
            data["v6"] = self.main_v6(data["errors"])
        data["elapsed_s"] = round(time.monotonic() - started, 1)
        report(a, cfgs, data)

    def dhcpc_v6_support(self):
        """Which DHCPv6 rows this dhcpc can run, from its --help: {"na": why not or None,
        "pd": why not or None}. A dhcpc from before DHCPv6 gets "n/a (why)" in its rows
        instead of failed runs."""
        try:
            r = subprocess.run([self.a.bin, "--help"], capture_output=True, text=True,
                               timeout=20)
            text = r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            return {"na": f"dhcpc --help failed: {e}", "pd": f"dhcpc --help failed: {e}"}
        if not re.search(r"^\s*-6\b", text, re.M):
            why = "this dhcpc has no -6: DHCPv6 not in this build"
            return {"na": why, "pd": why}
        missing = [o for o in ("--ia-pd", "--no-ia-na", "--prefix-len-hint")
                   if not re.search(re.escape(o) + r"\b", text)]
        return {"na": None,
                "pd": f"this dhcpc has no {', '.join(missing)}" if missing else None}

    def main_v6(self, errors):
        """The DHCPv6 rows: time to an address (IA_NA, dnsmasq), the same on --ifaces
        interfaces in one process, time to a delegated prefix (IA_PD, Kea), and the bound
        daemon's memory at 1 and --ifaces interfaces."""
        a = self.a
        cfgs = [c for c in V6_CONFIGS if c in a.clients.split(",")]
        v = {"cfgs": cfgs, "na": {c: [] for c in cfgs}, "pd": {c: [] for c in cfgs},
             "scale": {c: [] for c in cfgs}, "scale_detail": {}, "daemon1": {},
             "daemon100": {}, "seen": {}, "skip": {"na": {}, "pd": {}}, "scale_short": {}}
        if "dhcpc" in cfgs:
            for mode, why in self.dhcpc_v6_support().items():
                if why:
                    v["skip"][mode]["dhcpc"] = why
                    print(f"  {'dhcpc':12} DHCPv6 {mode}: n/a ({why})", flush=True)
        if not cfgs:
            print(f"== DHCPv6: none of {', '.join(V6_CONFIGS)} in --clients", flush=True)
            return v

        def record(kind, cfg, res, where):
            if "error" in res:
                errors.append({"what": f"DHCPv6 {kind} {cfg}", "error": res["error"],
                               "log": res.get("log_tail", "")})
                print(f"  {cfg:12} DHCPv6 {kind}: ERROR {res['error']}", flush=True)
                return False
            for w in res.get("warnings", []):
                errors.append({"what": f"DHCPv6 {kind} {cfg}", "error": w})
            if where is not None:
                where.append(res["ttl_all_ms"])
            if res.get("seen"):
                v["seen"].setdefault(kind, {})[cfg] = res["seen"]
            return True

        def rounds(mode, title):
            todo = [c for c in cfgs if c not in v["skip"][mode]]
            n = a.warmup + a.runs
            if not todo or n == 0:
                return
            print(f"== DHCPv6 {title}, 1 interface: {a.warmup} warm-up + {a.runs} runs per "
                  f"client", flush=True)
            for r in range(n):
                order = todo[r % len(todo):] + todo[:r % len(todo)]
                last = r == n - 1 and mode == "na"
                for cfg in order:
                    res = self.run(cfg, 1, settle=a.settle if last else 0, timeout=a.timeout,
                                   v6=mode)
                    if record(mode, cfg, res, v[mode][cfg] if r >= a.warmup else None):
                        tag = "warm-up" if r < a.warmup else f"run {r - a.warmup + 1}"
                        extra = ""
                        if last:
                            v["daemon1"][cfg] = res
                            extra = f"  rss {res.get('rss_kb', 0) / 1024:.2f} MiB"
                        print(f"  {cfg:12} {tag:8} {res['ttl_all_ms']:9.1f} ms"
                              f"  {', '.join(res.get('seen', {}).values())}{extra}", flush=True)

        # 1. time to an address (IA_NA); the last round measures the bound daemon
        rounds("na", "time to address (IA_NA, dnsmasq)")
        # 2. --ifaces interfaces in one process (the last round measures the bound daemon)
        todo = [c for c in cfgs if c not in v["skip"]["na"]]
        if todo and a.scale_runs > 0 and a.ifaces > 1:
            print(f"== DHCPv6 scale: {a.ifaces} interfaces in one process, {a.scale_runs} runs "
                  f"per client", flush=True)
            for r in range(a.scale_runs):
                last = r == a.scale_runs - 1
                for cfg in todo:
                    res = self.run(cfg, a.ifaces, settle=a.settle if last else 0,
                                   timeout=a.v6_scale_timeout, v6="na", partial=True)
                    if "error" in res and res.get("bound"):
                        # Some interfaces bound, not all: the time is "more than the
                        # timeout", and the memory of the last run is kept with the count.
                        v["scale_short"].setdefault(cfg, []).append(
                            (res["bound"], res.get("ll_unseen", 0),
                             res.get("never_solicited", 0)))
                        if last and "rss_kb" in res:
                            v["daemon100"][cfg] = res
                    if record("scale", cfg, res, v["scale"][cfg]):
                        t = res["ttl_ms"]
                        v["scale_detail"].setdefault(cfg, []).append(
                            (t[0], statistics.median(t), t[-1]))
                        extra = ""
                        if last:
                            v["daemon100"][cfg] = res
                            extra = f"  rss {res.get('rss_kb', 0) / 1024:.2f} MiB"
                        print(f"  {cfg:12} run {r + 1}  all {res['ttl_all_ms']:9.1f} ms "
                              f"(first {res['ttl_first_ms']:.1f} ms){extra}", flush=True)
        # 3. time to a delegated prefix (IA_PD, Kea)
        rounds("pd", "time to delegated prefix (IA_PD, Kea)")
        return v


    # -- the scale curve (issue 12): N interfaces, N = 1 .. 1000 ------------------------------------
    # Kept apart from the main benchmark (its own lab, run and report): `--curve 1,10,100,300,1000`.
    # One /24 holds 240 reservations, so the curve's lab has a segment (a server namespace with a
    # bridge and a dnsmasq) per 240 interfaces, every segment handing out the same 198.51.100.0/24
    # into the one client namespace (ARP answered only on the interface that holds an address).
    def curve_lab(self, n):
        self.seq += 1
        p = f"{self.a.prefix}{self.seq}"
        per = 240
        segs = [list(range(k, min(n, k + per))) for k in range(0, n, per)]
        lab = {"srv": p + "s0", "cli": p + "c", "n": n, "dir": os.path.join(self.a.work, p),
               "ifaces": [f"bc{i}" for i in range(n)], "dnsmasq": None,
               "more_srv": [f"{p}s{k}" for k in range(1, len(segs))], "more_dnsmasq": []}
        self.labs.append(lab)
        os.makedirs(lab["dir"])
        cli = lab["cli"]
        for ns in [lab["srv"], cli] + lab["more_srv"]:
            sh("ip", "netns", "add", ns)
            os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
            with open(f"/etc/netns/{ns}/resolv.conf", "w") as f:
                f.write(f"# bench lab {ns}: the host's resolv.conf is never written\n")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "netns", "exec", cli, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1",
           "net.ipv4.conf.default.arp_ignore=1")
        sh("ip", "-n", cli, "link", "set", "lo", "up")
        for k, members in enumerate(segs):
            srv = f"{p}s{k}"
            sh("ip", "-batch", "-", inp="".join(
                f"link add bc{i} address {mac(i)} netns {cli} type veth peer name bs{i} "
                f"netns {srv}\n" for i in members))
            cmds = ["link set lo up", "link add br0 type bridge forward_delay 0 stp_state 0"]
            cmds += [f"link set bs{i} master br0\nlink set bs{i} up" for i in members]
            cmds += ["link set br0 up", f"addr add {SERVER_IP}/24 dev br0"]
            sh("ip", "-n", srv, "-batch", "-", inp="\n".join(cmds) + "\n")
            sh("ip", "-n", cli, "-batch", "-", inp="".join(f"link set bc{i} up\n" for i in members))
            hosts = os.path.join(lab["dir"], f"dnsmasq{k}.hosts")
            with open(hosts, "w") as f:
                f.write("".join(f"{mac(i)},{NET}.{10 + j}\n" for j, i in enumerate(members)))
            logf = os.path.join(lab["dir"], f"dnsmasq{k}.log")
            d = subprocess.Popen(
                ["ip", "netns", "exec", srv, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                 "--port=0", "--no-resolv", "--no-hosts", "--no-ping", "--quiet-dhcp",
                 "--bind-interfaces", "--interface=br0", "--except-interface=lo",
                 f"--dhcp-range={POOL[0]},{POOL[1]},255.255.255.0,1h",
                 f"--dhcp-option=option:router,{SERVER_IP}",
                 f"--dhcp-option=option:dns-server,{SERVER_IP}",
                 "--dhcp-option=option:domain-name,lab.test", "--dhcp-lease-max=1000",
                 "--dhcp-hostsfile=" + hosts,
                 "--dhcp-leasefile=" + os.path.join(lab["dir"], f"dnsmasq{k}.leases"),
                 "--pid-file=" + os.path.join(lab["dir"], f"dnsmasq{k}.pid")],
                stdin=subprocess.DEVNULL, stdout=open(logf, "wb"), stderr=subprocess.STDOUT)
            if k == 0:
                lab["dnsmasq"] = d
            else:
                lab["more_dnsmasq"].append(d)
            end = time.monotonic() + 10
            while "DHCP, IP range" not in (read(logf) or ""):
                if d.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"dnsmasq did not start: {read(logf)}")
                time.sleep(0.02)
        # Every client interface up and running before the client starts (as in lab()).
        end = time.monotonic() + 60
        while True:
            out = sh("ip", "-n", cli, "-o", "link", "show", "up")
            ok = sum(1 for line in out.splitlines()
                     if ": bc" in line and "LOWER_UP" in line and "state UP" in line)
            if ok == n:
                break
            if time.monotonic() > end:
                raise RuntimeError(f"lab {p}: the interfaces did not all come up running")
            time.sleep(0.1)
        return lab

    def curve_destroy(self, lab):
        for d in [lab["dnsmasq"]] + lab["more_dnsmasq"]:
            if d is not None and d.poll() is None:
                d.kill()
                d.wait()
        for ns in lab["more_srv"]:
            sh("ip", "netns", "del", ns, check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        self.destroy(lab)

    def curve_run(self, cfg, n):
        a = self.a
        for d in self.private_dirs:
            if not os.path.isdir(d):
                os.makedirs(d)
                self.created_dirs.append(d)
        lab = self.curve_lab(n)
        try:
            rundir = os.path.join(lab["dir"], "run")
            os.makedirs(rundir, exist_ok=True)
            out = os.path.join(lab["dir"], "measure.json")
            log = os.path.join(lab["dir"], "client.log")
            r = subprocess.run(
                ["ip", "netns", "exec", lab["cli"], PY, os.path.abspath(__file__), "measure",
                 "--ifaces", ",".join(lab["ifaces"]), "--timeout", str(a.scale_timeout),
                 "--settle", str(a.settle), "--idle", "0", "--out", out, "--log", log,
                 "--private-dirs", ",".join(self.private_dirs + [rundir]), "--"]
                + self.argv(cfg, lab), capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(out):
                return {"error": f"measure helper failed ({r.returncode}): {r.stderr.strip()[-800:]}",
                        "log_tail": (read(log) or "")[-1500:]}
            with open(out) as f:
                return json.load(f)
        finally:
            self.curve_destroy(lab)
            self.check_resolv()

    def curve_main(self):
        a = self.a
        sizes = [int(x) for x in a.curve.split(",")]
        cfgs = [c for c in CURVE_CONFIGS if c in a.clients.split(",")]
        rows = {}
        errors = []
        print(f"== scale curve: N = {sizes}, {', '.join(cfgs)}, {a.curve_runs} run(s) per point",
              flush=True)
        for n in sizes:
            for cfg in cfgs:
                runs = []
                for _ in range(a.curve_runs):
                    res = self.curve_run(cfg, n)
                    if "error" in res:
                        # A point that fails (dhcpcd at 1000 runs into the timeout) is not
                        # tried again: its figure is the error.
                        errors.append(f"{cfg} N={n}: {res['error']}")
                        print(f"  {cfg:10} N={n:5}: ERROR {res['error']}", flush=True)
                        runs = []
                        break
                    runs.append(res)
                    print(f"  {cfg:10} N={n:5}: all bound {res['ttl_all_ms']:9.1f} ms  "
                          f"rss {res.get('rss_kb', 0) / 1024:.2f} MiB "
                          f"({res.get('rss_kb', 0) / n:.1f} KiB/interface)", flush=True)
                if runs:
                    rows[(cfg, n)] = runs
        curve_report(a, sizes, cfgs, rows, errors)


CURVE_CONFIGS = ["dhcpc", "dhclient", "dhcpcd"]


def curve_report(a, sizes, cfgs, rows, errors):
    """Appends the scale curve to the report (a section of its own). `rows` holds every run of
    each point; a point of several runs gives the medians and the range of RSS."""
    runs = a.curve_runs
    how = ("one run per point" if runs == 1 else
           f"median of {runs} runs per point, with the range of RSS across them")
    lines = ["", "## Scale curve: N interfaces in one process", "",
             f"`{a.cmdline}` ({a.git}); time from start until every interface has its address, "
             "and RSS of all the client's processes once bound (after the settle time); "
             f"{how}; a dnsmasq reservation per MAC, one segment per 240 interfaces.", "",
             "| N | " + " | ".join(f"{LABEL.get(c, c)}: all bound / RSS (per interface)" for c in cfgs)
             + " |", "|---|" + "---|" * len(cfgs)]
    for n in sizes:
        cells = []
        for c in cfgs:
            rs = rows.get((c, n))
            if not rs:
                cells.append("error")
                continue
            ttl = statistics.median(r["ttl_all_ms"] for r in rs)
            kbs = sorted(r.get("rss_kb", 0) for r in rs)
            kb = statistics.median(kbs)
            cell = f"{fmt_ms(ttl)} / {kb / 1024:.2f} MiB ({kb / n:.1f} KiB)"
            if len(kbs) > 1:
                cell += f" [{kbs[0] / 1024:.2f}–{kbs[-1] / 1024:.2f}]"
            cells.append(cell)
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    for e in errors:
        lines.append(f"- error: {e}")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "a") as f:
            f.write(text)
        print(f"appended to {a.out}")


CONFIGS = ["dhcpc", "dhcpc-noarp", "dhclient", "udhcpc", "dhcpcd", "dhcpcd-A"]
# DHCPv6: each client once (dhcpc's --arp-probe and dhcpcd's -A are IPv4's; udhcpc is IPv4 only)
V6_CONFIGS = ["dhcpc", "dhclient", "dhcpcd"]
LABEL6 = {"dhcpc": "dhcpc -6", "dhclient": "dhclient -6", "dhcpcd": "dhcpcd -6"}
SECTIONS = ["ttl", "scale", "reconnect", "v6"]
RECONNECT_PHASES = ["answer", "silent"]
PHASE_TEXT = {"answer": "the server answering", "silent": "the server stopped before the flap"}
LABEL = {"dhcpc": "dhcpc", "dhcpc-noarp": "dhcpc --arp-probe 0", "dhclient": "dhclient",
         "udhcpc": "udhcpc", "dhcpcd": "dhcpcd", "dhcpcd-A": "dhcpcd -A"}

# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def fmt_ms(v):
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


def cell(v, base, fmt):
    if v is None:
        return "n/a"
    s = fmt(v)
    if base is None:
        return s
    if base == 0:
        return s + (" (= dhclient)" if v == 0 else " (dhclient: 0)")
    return f"{s} ({v / base:.2f}×)"


def machine():
    cpu = "?"
    for line in (read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = status_fields(read("/proc/meminfo"), "MemTotal").get("MemTotal", 0)
    virt = subprocess.run(["sh", "-c", "systemd-detect-virt 2>/dev/null || true"],
                          capture_output=True, text=True).stdout.strip()
    load = (read("/proc/loadavg") or "?").split()[:3]
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem / 1024 / 1024:.1f} GiB RAM, load average "
            f"{' '.join(load)} when the report was written"
            f"{', ' + virt if virt and virt != 'none' else ''}; Linux {platform.release()}; "
            f"{(read('/etc/os-release') or '').split('PRETTY_NAME=')[-1].splitlines()[0].strip(chr(34))}")


def versions(a):
    def first(cmd):
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
        return ((r.stdout or "") + (r.stderr or "")).strip().splitlines()[0:1] or ["?"]
    pk = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "isc-dhcp-client",
                         "dhcpcd-base", "udhcpc", "busybox", "dnsmasq-base",
                         "kea-dhcp6-server"],
                        capture_output=True, text=True).stdout.strip().replace("\n", ", ")
    return [
        f"dhcpc: `{first(a.bin + ' --version')[0]}`, {a.git} (release build, "
        f"{os.path.getsize(a.bin) / 1e6:.2f} MB binary)" if a.bin else f"dhcpc: {a.git}",
        f"dhclient: `{first('dhclient --version')[0]}`",
        f"dhcpcd: `{first('dhcpcd --version')[0]}`",
        f"udhcpc: `{first('busybox 2>&1 | head -1')[0]}`",
        f"dnsmasq (server): `{first('dnsmasq --version')[0]}`",
        f"Kea (DHCPv6 server of the delegated-prefix row): `kea-dhcp6 {first('kea-dhcp6 -v')[0]}`",
        f"packages: {pk}",
        f"{first('rustc --version')[0]}",
    ]


def median(xs):
    return statistics.median(xs) if xs else None


def reconnect_times(rec):
    return [f["usable_ms"] for f in rec["flaps"] if f["ok"]]


def reconnect_median(a, rec):
    """The median for comparisons: a client that missed the limit in some run counts as never
    back (it never came back there)."""
    ok = reconnect_times(rec)
    return float("inf") if rec["never"] or not ok else median(ok)


def reconnect_cell(a, rec):
    ok = reconnect_times(rec)
    lim = f"> {a.reconnect_limit:g} s"
    if rec["error"] and not ok and not rec["never"]:
        return "error"
    bad = rec["never"]
    if bad and bad["usable_ms"] is not None:
        bad = (f"back in {fmt_ms(bad['usable_ms'])}, then taken away again "
               f"{fmt_ms(bad['lost_ms'])} after carrier")
    elif bad:
        bad = f"{lim} (never)"
    if bad and not ok:
        return bad
    if not ok:
        return "n/a"
    text = fmt_ms(median(ok))
    if bad:
        return f"{text} in {len(ok)} run(s), then {bad}"
    if len(ok) < a.reconnect_runs:
        text += f" ({len(ok)} of {a.reconnect_runs} runs)"
    return text


def kept_cell(rc, c):
    flaps = [f for recs in rc.values() for f in recs[c]["flaps"]]
    if not flaps:
        return "n/a"
    kept = sum(1 for f in flaps if f["addr_kept"])
    if kept == len(flaps):
        return "yes"
    return "no (dropped on carrier loss)" if kept == 0 else f"{kept} of {len(flaps)} flaps"


def confirmation(f):
    """dhcpc's own word on how a flap's lease was confirmed: (ms after carrier, "router" or
    "server"), from the first line that says so."""
    for t, text in f.get("lines", []):
        if t >= 0 and "carrier back on the same network" in text:
            return t, "router's ARP reply"
        if t >= 0 and "renewed" in text:
            return t, "server's ACK"
    return None


def goal_row(text, ok, detail):
    result = "met" if ok else ("**missed**" if ok is False else "not measured")
    return f"| {text} | {result} | {detail} |"


def report6(a, v):
    """The DHCPv6 part of the report: its table (each figure with its ratio to dhclient -6's),
    the goals of issue 20 on this run, how it was measured and the raw figures."""
    cfgs = v["cfgs"]
    base = "dhclient"
    skip = v["skip"]
    med = {m: {c: median(v[m][c]) for c in cfgs} for m in ("na", "pd", "scale")}
    mib = lambda x: f"{x / 1024:.2f} MiB"

    def cells(mode, values, fmt):
        b = values.get(base)
        out = []
        for c in cfgs:
            if c in skip.get(mode, {}):
                out.append(f"n/a ({skip[mode][c]})")
            else:
                out.append(cell(values.get(c), b, fmt))
        return " | ".join(out)

    def spread(mode, c):
        xs = v[mode][c]
        if c in skip.get(mode, {}) or not xs:
            return "n/a"
        q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
        return f"{fmt_ms(min(xs))}–{fmt_ms(max(xs))} (IQR {fmt_ms(q[2] - q[0])})"

    def mem(d, key):
        return {c: d[c].get(key) for c in cfgs if c in d}

    d1, d100 = v["daemon1"], v["daemon100"]
    n = a.ifaces
    short = v.get("scale_short", {})
    lim = a.v6_scale_timeout

    def scale_cells(values, fmt, mem=False):
        """The rows of the runs on n interfaces: a client that did not bind them all within
        the limit gets "> limit" (time) or its memory as it was then, with how many it had."""
        b = values.get(base)
        out = []
        for c in cfgs:
            if c in skip["na"]:
                out.append(f"n/a ({skip['na'][c]})")
                continue
            text = cell(values.get(c), b, fmt)
            if mem and c in d100 and "error" in d100[c]:
                text += f" with {d100[c]['bound']} of {n} bound"
            elif not mem and c in short:
                fails = f"> {lim:g} s ({', '.join(f'{r[0]} of {n}' for r in short[c])} bound)"
                text = fails if values.get(c) is None else \
                    f"{text}; {len(short[c])} run(s) {fails}"
            out.append(text)
        return " | ".join(out)

    lines = ["| | " + " | ".join(LABEL6[c] for c in cfgs) + " |", "|---" * (len(cfgs) + 1) + "|"]
    lines.append(f"| time to address (IA_NA), 1 interface, median of {a.runs} | " +
                 cells("na", med["na"], fmt_ms) + " |")
    lines.append("| spread: min–max (interquartile range) | " +
                 " | ".join(spread("na", c) for c in cfgs) + " |")
    if a.scale_runs > 0 and n > 1:
        lines.append(f"| time until all {n} interfaces have an address (IA_NA), one process, "
                     f"median of {a.scale_runs} | " + scale_cells(med["scale"], fmt_ms) + " |")
    lines.append(f"| time to delegated prefix (IA_PD, /{PD_LEN} from Kea), 1 interface, "
                 f"median of {a.runs} | " + cells("pd", med["pd"], fmt_ms) + " |")
    lines.append("| spread: min–max (interquartile range) | " +
                 " | ".join(spread("pd", c) for c in cfgs) + " |")
    lines.append("| RSS while bound (IA_NA), 1 interface (all processes) | " +
                 cells("na", mem(d1, "rss_kb"), mib) + " |")
    if a.scale_runs > 0 and n > 1:
        lines.append(f"| RSS while bound (IA_NA), {n} interfaces (all processes) | " +
                     scale_cells(mem(d100, "rss_kb"), mib, True) + " |")
    lines.append("| PSS while bound (IA_NA), 1 interface (shared pages counted once) | " +
                 cells("na", mem(d1, "pss_kb"), mib) + " |")
    if a.scale_runs > 0 and n > 1:
        lines.append(f"| PSS while bound (IA_NA), {n} interfaces (shared pages counted once) | " +
                     scale_cells(mem(d100, "pss_kb"), mib, True) + " |")
    for c, runs in short.items():
        if any(r[1] for r in runs):
            lines.append("")
            lines.append(
                f"{LABEL6[c]} on {n} interfaces: the interfaces it did not bind never sent a "
                f"SOLICIT ({', '.join(str(r[2]) for r in runs)} in its log), and its log shows "
                f"`if_addrflags6: fe80::…%IFACE: No such process` for the link-local addresses "
                f"of up to {max(r[1] for r in runs)} interfaces (those, and some for a while). "
                f"dhcpcd 9.4.1 reads /proc/net/if_inet6 with a single read(), which returns at "
                f"most a page (4 KiB, about 75 addresses of 54 bytes): an address past it is "
                f"unknown to it, and so is the link-local address it then adds itself. Its "
                f"time on {n} interfaces is therefore \"more than {lim:g} s\", and its memory "
                f"is taken {a.settle:g} s after the limit.")

    # The goals of issue 20: dhcpc at most 0.1× dhclient -6's time, less memory than either.
    goals = []
    for mode, title in (("na", "address (IA_NA), 1 interface"),
                        ("scale", f"address (IA_NA), {n} interfaces"),
                        ("pd", "delegated prefix (IA_PD), 1 interface")):
        if mode == "scale" and not (a.scale_runs > 0 and n > 1):
            continue
        text = f"DHCPv6 {title}: dhcpc ≤ 0.1× dhclient -6's time (median)"
        mine, theirs = med[mode].get("dhcpc"), med[mode].get("dhclient")
        why = skip["pd" if mode == "pd" else "na"].get("dhcpc")
        if "dhcpc" not in cfgs or "dhclient" not in cfgs:
            continue
        if why:
            goals.append(goal_row(text, None, f"dhcpc: n/a ({why})"))
        elif mode == "scale" and "dhcpc" in short:
            goals.append(goal_row(text, False, f"dhcpc did not bind all {n} within {lim:g} s "
                                               f"in {len(short['dhcpc'])} run(s)"))
        elif mine is None or not theirs:
            goals.append(goal_row(text, None, "no figure (see the problems below)"))
        else:
            goals.append(goal_row(text, mine <= 0.1 * theirs,
                                  f"{fmt_ms(mine)} = {mine / theirs:.2f}× of {fmt_ms(theirs)}"))
    peers = [c for c in cfgs if c != "dhcpc"]
    for d, k in ((d1, 1), (d100, n)):
        if "dhcpc" not in cfgs or not peers or (k > 1 and not (a.scale_runs > 0 and n > 1)):
            continue
        text = (f"DHCPv6 memory, {k} interface{'s' if k > 1 else ''}: dhcpc's RSS below "
                f"{' and '.join(LABEL6[c] + chr(39) + 's' for c in peers)}")
        why = skip["na"].get("dhcpc")
        mine = d.get("dhcpc", {}).get("rss_kb")
        theirs = {c: d[c]["rss_kb"] for c in peers if c in d and d[c].get("rss_kb")}
        if why:
            goals.append(goal_row(text, None, f"dhcpc: n/a ({why})"))
        elif mine is None or not theirs:
            goals.append(goal_row(text, None, "no figure (see the problems below)"))
        else:
            part = lambda c: (f" ({d[c]['bound']} of {k} bound)"
                              if "error" in d.get(c, {}) else "")
            goals.append(goal_row(text, all(mine < t for t in theirs.values()) and
                                  not part("dhcpc"),
                                  f"{mib(mine)}{part('dhcpc')} vs " + ", ".join(
                                      f"{LABEL6[c]} {mib(t)}{part(c)}"
                                      for c, t in theirs.items())))

    intro = (f"The same clients over DHCPv6, in labs of their own with IPv6 on and duplicate "
             f"address detection off (below): the time from start until the client has put its "
             f"DHCPv6 address on the interface (dnsmasq serving {NET6}) or the unreachable "
             f"route for its delegated prefix in the kernel (Kea delegating /{PD_LEN}s out of "
             f"{PD_POOL}: dnsmasq cannot delegate prefixes), and the bound daemon's memory. "
             f"Ratios are to dhclient -6's figure from the same run.")
    how = f"""- DHCPv6 (issue 20): every run builds a fresh lab, a server namespace and a client namespace
  joined by one veth pair ({n} on one bridge in the server namespace for the {n}-interface runs),
  client interfaces up and running with fixed MAC addresses, no saved lease, as in IPv4; but with
  IPv6 on in both namespaces and `accept_dad` 0 (all, default, so every interface): no duplicate address detection,
  neither for the link-local addresses (the lab waits until every client interface and the server's
  has one before a client starts) nor for the DHCPv6 address, so DAD's 1 s and more (the kernel's
  default, and what a client waits for before it may use the address) is in no figure: the figures
  are the protocol exchange and each client's own delays. The server's address is {SERVER6}/{NET6.prefixlen}
  (`nodad`); no router advertisements are sent, so no client has a SLAAC address. Every client
  interface's link-local address is in the server namespace's neighbour table (`nud permanent`)
  before the client starts: dnsmasq looks up a DHCPv6 client's MAC address there for every
  message and, when it is missing, solicits it and sleeps 100 ms (up to 5 times) with every other
  message waiting (about 10 s for 100 clients, whichever the client).
  - Addresses (IA_NA): dnsmasq `--dhcp-range={POOL6[0]},{POOL6[1]},{NET6.prefixlen},1h` (stateful
    DHCPv6, 1 h leases as in IPv4, DNS server and domain search options), a reservation per client
    MAC as in IPv4 (dnsmasq finds a DHCPv6 client's MAC from its link-local address). The figure is
    the time until the helper (RTMGRP_IPV6_IFADDR) sees an address from {NET6} that is neither
    tentative nor failed on every interface.
  - Delegated prefix (IA_PD, no address asked for): Kea {kea_version()} (`kea-dhcp6` in the
    foreground in the server namespace, a pd-pool {PD_POOL} delegating /{PD_LEN}s, 1 h lifetimes,
    memfile lease file, lock file, pid file and log in the lab's directory through
    `KEA_LOCKFILE_DIR`/`KEA_PIDFILE_DIR` and its configuration; its server DUID is not stored).
    The figure is the time until the helper (RTMGRP_IPV6_ROUTE) sees a route that drops a prefix
    out of {PD_POOL} (type unreachable; blackhole or prohibit would count too): the route a
    requesting router puts in for its delegated prefix (RFC 7084 WPD-5), which dhcpc and dhcpcd
    add themselves and dhclient's hook adds for it.
  - dhcpc: `dhcpc -6 -d --run-dir D/run --lease-dir D/lease --resolv-conf D/resolv.conf IFACE...`,
    for the prefix with `--no-ia-na --ia-pd --prefix-len-hint {PD_LEN}`.
  - dhclient: `dhclient -6 -d -cf /etc/dhcp/dhclient.conf -lf D/leases -pf D/run/pid -sf bench/scripts/dhclient6-script IFACE...`,
    for the prefix with `-P --prefix-len-hint {PD_LEN}`; the minimal hook adds the address as a /128
    with `ip -6 addr replace` on BOUND6 (and the prefix's unreachable route with `ip -6 route replace
    unreachable`), where dhclient's own dhclient-script first waits for the link-local address's DAD.
  - dhcpcd: `dhcpcd -B -6 -f D/dhcpcd6.conf --nohook resolv.conf --nohook hostname ... IFACE...`,
    the distribution's /etc/dhcpcd.conf followed by `noipv6rs` (no router solicitation: without
    a router advertisement with the M flag dhcpcd starts DHCPv6 only for an IA it is told about)
    and per interface `interface IFACE` with `ia_na`, or for the prefix `ia_pd 1/::/{PD_LEN} -` (a
    /{PD_LEN} hint, delegated to no interface: dhcpcd adds the prefix's reject route itself). Its
    state directories are a tmpfs per run, as in IPv4; the distribution's configuration asks for
    rapid commit, which dnsmasq grants (a SOLICIT answered by the REPLY), and so does Kea here
    (`"rapid-commit": true` on its subnet, as dnsmasq does by default). dhclient -6 does not ask
    for it: it waits out RFC 8415's collection of ADVERTISEs (the first retransmission time,
    about 1 s, 18.2.1) before its REQUEST, as every client must without rapid commit.
- DHCPv6 runs are interleaved as in IPv4 ({a.warmup} warm-up round(s), then {a.runs}); the last
  address round measures the bound daemon with 1 interface, the last of {a.scale_runs} run(s) on
  {n} interfaces (veth pairs on one bridge) the daemon with {n}, {a.settle:g} s after the last
  address, as in IPv4. A client has {lim:g} s to bind all {n} interfaces; one that has bound only
  some by then is reported as "> {lim:g} s (k of {n} bound)", and in the last run its memory is
  taken as it is, {a.settle:g} s later. No idle figures for DHCPv6.
"""
    raw = ["DHCPv6, every run (ms):", ""]
    for mode, title in (("na", "time to address, 1 interface"),
                        ("pd", "time to delegated prefix, 1 interface")):
        for c in cfgs:
            if c in skip.get(mode, {}):
                raw.append(f"- {title}, {LABEL6[c]}: n/a ({skip[mode][c]})")
            else:
                got = v["seen"].get(mode, {}).get(c, {})
                raw.append(f"- {title}, {LABEL6[c]}: " +
                           (", ".join(f"{x:.1f}" for x in v[mode][c]) or "none") +
                           (f" (last: {', '.join(got.values())})" if got else ""))
    for c, xs in v["scale_detail"].items():
        raw.append(f"- time until all {n} interfaces have an address, {LABEL6[c]}: " +
                   ", ".join(f"{last:.0f} (first {first:.0f}, median {m:.0f})"
                             for first, m, last in xs))
    for c, runs in short.items():
        raw.append(f"- {n} interfaces, {LABEL6[c]}: {len(runs)} run(s) with not all bound "
                   f"within {lim:g} s: " + ", ".join(
                       f"{k} of {n} bound" + (f" ({m} never sent a SOLICIT; link-local "
                                              f"addresses of {u} unseen by it at some point)"
                                              if u else "")
                       for k, u, m in runs))
    for title, d in (("1 interface", d1), (f"{n} interfaces", d100)):
        for c in cfgs:
            r = d.get(c)
            if not r:
                continue
            plist = sorted(r.get("procs", []), key=lambda p: -p["rss_kb"])
            procs = ", ".join(f"{p['comm']} {p['rss_kb']}/{p['pss_kb']} (anon {p['anon_kb']})"
                              for p in plist[:4])
            if len(plist) > 4:
                rest = plist[4:]
                procs += (f", and {len(rest)} more processes with "
                          f"{sum(p['rss_kb'] for p in rest)}/{sum(p['pss_kb'] for p in rest)}")
            raw.append(f"- bound daemon (IA_NA), {title}, {LABEL6[c]} (RSS / PSS in KiB): "
                       f"{len(plist)} process(es): {procs}")
    return {"table": "\n".join(lines), "goals": goals, "intro": intro, "how": how, "raw": raw}


def kea_version():
    r = subprocess.run(["sh", "-c", "kea-dhcp6 -v 2>&1"], capture_output=True, text=True)
    return (r.stdout.strip().splitlines() or ["?"])[0]


def how4(a):
    """How the IPv4 rows were measured (the report's text)."""
    return f"""- Every run builds a fresh lab: a server namespace running dnsmasq (`--no-ping`,
  pool {POOL[0]}–{POOL[1]}, 1 h leases, router and DNS options) and a client namespace; one veth pair
  for one interface, {a.ifaces} veth pairs on one bridge (STP off) in the server namespace for the
  scale runs. The client interfaces are up and running (carrier and operstate UP) before the client starts, IPv6 is
  disabled in both namespaces, and no client has a saved lease (private lease files, tmpfs over
  /run/dhcpcd and /var/lib/dhcpcd, a fresh dnsmasq lease database). Run-time state is on a tmpfs, as
  /run is on a running system (dhcpc's `--run-dir` with its control sockets and pid files,
  dhclient's pid file, dhcpcd's /run/dhcpcd); dhcpc's and dhclient's lease files are on disk, in
  the benchmark's work directory under /tmp. {"The pool is dynamic (--dynamic-pool): clients that start together may be offered the same address and get a NAK." if a.dynamic_pool else "Each client interface has a fixed MAC address and dnsmasq a reservation for it: with --no-ping dnsmasq does not hold offered addresses, so clients starting together are otherwise often offered the same address and all but one get a NAK (see --dynamic-pool)."}
- Time to lease: a helper inside the client namespace subscribes to RTM_NEWADDR
  (RTMGRP_IPV4_IFADDR on a NETLINK_ROUTE socket), takes t0, spawns the client and blocks until
  every interface has an address from the pool; the figure is the time of the last one. Every
  client is started the same way, as a foreground daemon:
  - dhcpc: `dhcpc -d [--arp-probe 0] --run-dir D/run --lease-dir D/lease --resolv-conf D/resolv.conf IFACE...`
  - dhclient: `dhclient -d -4 -cf /etc/dhcp/dhclient.conf -lf D/leases -pf D/run/pid -sf bench/scripts/dhclient-script IFACE...`
    (a minimal hook: `ip addr replace` and the default route; dhclient's own dhclient-script does more
    work, so dhclient is if anything favoured)
  - udhcpc: `udhcpc -f -i IFACE -s bench/scripts/udhcpc-script` (one interface per process)
  - dhcpcd: `dhcpcd -B -4 -f /etc/dhcpcd.conf --nohook resolv.conf --nohook hostname ... [-A] IFACE...`
    (the distribution's configuration; its default includes a random start delay of up to 2 s, logged
    as "delaying IPv4 for N seconds", and, without `-A`, RFC 5227 ARP probing)
- Runs are interleaved (round robin over the clients, rotating the order), after {a.warmup} discarded
  warm-up round(s).
- Memory: {a.settle:g} s after the last address appeared, VmRSS summed over every process of the
  client (the helper is a child subreaper, so forked helpers and privilege-separated processes
  are counted). Measured on the last run of each series.
- Idle: over the next {a.idle:g} s, voluntary + involuntary context switches of every thread of
  every client process (/proc/PID/task/TID/status) and CPU time from /proc/PID/task/TID/schedstat
  (nanoseconds).
- udhcpc runs one interface per process, so it has no scale figures.
"""


def report(a, cfgs, data):
    ttl = {c: data["ttl"][c] for c in cfgs}
    med = {c: median(ttl[c]) for c in cfgs}
    base = "dhclient"

    def row(title, values, fmt, ratio=True):
        b = values.get(base) if ratio else None
        return "| " + title + " | " + " | ".join(
            cell(values.get(c), b, fmt) for c in cfgs) + " |"

    def spread(c):
        xs = ttl[c]
        if not xs:
            return "n/a"
        q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
        return f"{fmt_ms(min(xs))}–{fmt_ms(max(xs))} (IQR {fmt_ms(q[2] - q[0])})"

    scale = {c: median(data["scale"].get(c, [])) for c in cfgs}
    d1, d100 = data["daemon1"], data["daemon100"]
    mib = lambda v: f"{v / 1024:.2f} MiB"
    num = lambda v: f"{v:.0f}"
    cpu = lambda v: f"{v:.2f} ms"

    def get(d, c, f):
        r = d.get(c)
        return None if r is None else f(r)

    lines = []
    hdr = "| | " + " | ".join(LABEL[c] for c in cfgs) + " |"
    lines += [hdr, "|---" * (len(cfgs) + 1) + "|"]
    only = set(data.get("only", SECTIONS))
    if "ttl" in only:
        lines.append(row(f"time to lease, 1 interface, median of {a.runs}", med, fmt_ms))
        lines.append("| spread: min–max (interquartile range) | " +
                     " | ".join(spread(c) for c in cfgs) + " |")
    if "scale" in only and a.scale_runs > 0 and a.ifaces > 1:
        lines.append(row(f"time until all {a.ifaces} interfaces have their address, one "
                         f"process, median of {a.scale_runs}", scale, fmt_ms))
    rc = data.get("reconnect", {}) if "reconnect" in only else {}
    for p, recs in rc.items():
        lines.append(f"| reconnect, {PHASE_TEXT[p]}: from carrier back until the lease's address "
                     f"and default route are on the interface again (own-link flap, median of "
                     f"{a.reconnect_runs}) | " +
                     " | ".join(reconnect_cell(a, recs[c]) for c in cfgs) + " |")
    if rc:
        lines.append("| reconnect: the address stayed on the interface while the link was down | "
                     + " | ".join(kept_cell(rc, c) for c in cfgs) + " |")
    if d1:
        lines.append(row("RSS while bound, 1 interface (all processes)",
                         {c: get(d1, c, lambda r: r.get("rss_kb")) for c in cfgs}, mib))
    if d100:
        lines.append(row(f"RSS while bound, {a.ifaces} interfaces (all processes)",
                         {c: get(d100, c, lambda r: r.get("rss_kb")) for c in cfgs}, mib))
    if d1:
        lines.append(row("PSS while bound, 1 interface (shared pages counted once)",
                         {c: get(d1, c, lambda r: r.get("pss_kb")) for c in cfgs}, mib))
    if d100:
        lines.append(row(f"PSS while bound, {a.ifaces} interfaces (shared pages counted once)",
                         {c: get(d100, c, lambda r: r.get("pss_kb")) for c in cfgs}, mib))
    if a.idle > 0 and d1:
        lines.append(row(f"idle wake-ups (context switches) in {a.idle:g} s, bound, 1 interface",
                         {c: get(d1, c, lambda r: r["idle"]["wakeups"]) for c in cfgs}, num))
        lines.append(row(f"idle CPU time in {a.idle:g} s, bound, 1 interface",
                         {c: get(d1, c, lambda r: r["idle"]["cpu_ns"] / 1e6) for c in cfgs}, cpu))
        if d100 and a.idle_scale:
            lines.append(row(f"idle wake-ups in {a.idle:g} s, bound, {a.ifaces} interfaces",
                             {c: get(d100, c, lambda r: r["idle"]["wakeups"]) for c in cfgs}, num))
            lines.append(row(f"idle CPU time in {a.idle:g} s, bound, {a.ifaces} interfaces",
                             {c: get(d100, c, lambda r: r["idle"]["cpu_ns"] / 1e6) for c in cfgs},
                             cpu))
    v4 = bool(only & {"ttl", "scale", "reconnect"})
    table = "\n".join(lines) if v4 else ""
    if v4:
        print()
        print(table)
    v6 = report6(a, data["v6"]) if data.get("v6") else None
    if v6:
        print()
        print(v6["table"])

    # goals of the issue, checked on this run
    goals = []

    def goal(text, ok, detail):
        goals.append(f"| {text} | {'met' if ok else ('**missed**' if ok is False else 'not measured')} | {detail} |")

    dm = med.get("dhclient")
    if dm and med.get("dhcpc-noarp") is not None:
        goal("1 interface, conflict detection off: ≤ 0.25× dhclient's median",
             med["dhcpc-noarp"] <= 0.25 * dm,
             f"{fmt_ms(med['dhcpc-noarp'])} = {med['dhcpc-noarp'] / dm:.2f}× of {fmt_ms(dm)}")
    if med.get("dhcpc") is not None:
        mx = max(ttl["dhcpc"])
        goal("1 interface, defaults: under 0.5 s", mx < 500,
             f"median {fmt_ms(med['dhcpc'])}, slowest {fmt_ms(mx)}")
    ds = scale.get("dhclient")
    for c in ("dhcpc", "dhcpc-noarp"):
        if ds and scale.get(c) is not None:
            detail = f"{fmt_ms(scale[c])} = {scale[c] / ds:.2f}× of {fmt_ms(ds)}"
            if c == "dhcpc":
                # The default conflict-detection window (two ARP probes, 200 ms) is a floor that
                # dhclient, which does no conflict detection, does not have.
                detail += (f"; the 200 ms conflict-detection window alone is {200 / ds:.2f}× "
                           f"(dhclient does none; the like-for-like figure is --arp-probe 0)")
            goal(f"{a.ifaces} interfaces ({LABEL[c]}): ≤ 0.1× dhclient's time",
                 scale[c] <= 0.1 * ds, detail)
    r1 = {c: get(d1, c, lambda r: r.get("rss_kb")) for c in cfgs}
    if r1.get("dhcpc") and r1.get("dhclient"):
        goal("memory, 1 interface: ≤ dhclient's", r1["dhcpc"] <= r1["dhclient"],
             f"{mib(r1['dhcpc'])} vs {mib(r1['dhclient'])}")
    r100 = get(d100, "dhcpc", lambda r: r.get("rss_kb"))
    if r100:
        goal(f"memory, {a.ifaces} interfaces: ≤ 4 MiB", r100 <= 4096, mib(r100))
    for d, n in ((d1, 1), (d100, a.ifaces)):
        for c in ("dhcpc", "dhcpc-noarp"):
            r = d.get(c)
            if r and "idle" in r:
                w = r["idle"]["wakeups"]
                who = ", ".join(f"{k}: {v['vol']}+{v['invol']}"
                                for k, v in r["idle"]["per_task"].items()) or "none"
                goal(f"idle, {n} interface(s), {LABEL[c]}: no wake-ups while bound (lease 1 h: "
                     f"no lease timer falls in the {a.idle:g} s window)", w == 0,
                     f"{w} wake-ups, {r['idle']['cpu_ns'] / 1e6:.2f} ms CPU (per thread: {who})")
    for p, recs in rc.items():
        if "dhcpc" not in recs or recs["dhcpc"]["error"]:
            continue
        mine = reconnect_median(a, recs["dhcpc"])
        peers = {c: reconnect_median(a, recs[c]) for c in cfgs
                 if c not in ("dhcpc", "dhcpc-noarp") and not recs[c]["error"]}
        if peers:
            goal(f"reconnect, {PHASE_TEXT[p]}: dhcpc back before every peer (median)",
                 all(mine < v for v in peers.values()),
                 ", ".join(f"{LABEL[c]} {reconnect_cell(a, recs[c])}"
                           for c in ["dhcpc"] + list(peers)))
        ok = reconnect_times(recs["dhcpc"])
        if ok and not recs["dhcpc"]["never"]:
            goal(f"reconnect, {PHASE_TEXT[p]}: dhcpc usable within milliseconds of carrier "
                 f"(every run under 100 ms)", max(ok) < 100,
                 f"median {fmt_ms(median(ok))}, slowest {fmt_ms(max(ok))}")
        elif recs["dhcpc"]["never"]:
            goal(f"reconnect, {PHASE_TEXT[p]}: dhcpc usable within milliseconds of carrier",
                 False, reconnect_cell(a, recs["dhcpc"]))

    if v6:
        goals += v6["goals"]

    md = []
    md.append(f"# dhcpc benchmark (issues 4, 10{' and 20' if v6 else ''})\n")
    md.append(f"Generated by `bench/run` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; "
              f"the benchmark took {data['elapsed_s']:.0f} s (plus build and install).\n")
    md.append(f"- command: `{a.cmdline}`")
    md.append(f"- machine: {machine()}")
    for v in versions(a):
        md.append(f"- {v}")
    md.append("")
    md.append("Each figure is followed by its ratio to dhclient's from the same run "
              "(below 1× is better than dhclient)" +
              (", except the reconnect rows, where dhclient never comes back" if rc else "") +
              ".\n")
    if v4:
        md.append(table)
        md.append("")
    if v6:
        md.append("## DHCPv6 (issue 20)\n")
        md.append(v6["intro"] + "\n")
        md.append(v6["table"])
        md.append("")
    md.append("## Goals of the issue, on this run\n")
    md.append("| goal | result | figures |\n|---|---|---|")
    md += goals
    md.append("")
    md.append("## How it was measured\n")
    if v4:
        md.append(how4(a))
    if rc:
        md.append(f"""- Reconnect (issue 10): one lab per client, the client started as above; once it holds a
  lease (an address from the pool and a default route via the router {SERVER_IP}) and
  {a.reconnect_settle:g} s have passed, the helper in the client namespace flaps the client's own
  interface: down (RTM_NEWLINK clearing IFF_UP, as `ip link set IFACE down`; the kernel
  flushes the interface's routes then, the default route with them, but keeps its IPv4
  addresses), {a.reconnect_down:g} s later up again. The figure is the time from the kernel's
  report of carrier (RTM_NEWLINK with IFF_UP and IFF_LOWER_UP, on the helper's rtnetlink socket;
  on a veth it comes within a millisecond of the `up`) until the lease's address is on the
  interface and a default route via the router is in the main table. The helper follows
  RTM_NEWADDR/RTM_DELADDR and RTM_NEWROUTE/RTM_DELROUTE events (RTMGRP_IPV4_IFADDR,
  RTMGRP_IPV4_ROUTE) and dumps addresses and routes after each down and up (the kernel flushes
  IPv4 routes of a downed interface without RTM_DELROUTE); no polling. {a.reconnect_runs} flaps per
  server phase, {a.reconnect_pause:g} s apart (a route that was put back and then taken away in
  that pause would be noted under the raw figures). Phases: "server answering" (dnsmasq as
  above, which knows the lease and ACKs an INIT-REBOOT at once), then "server stopped" (dnsmasq
  stopped with SIGTERM before the phase's first flap, so nothing answers DHCP; the router's
  address still answers ARP, as the kernel of the server namespace holds it). A client that has
  not put both back {a.reconnect_limit:g} s after carrier is reported as "> {a.reconnect_limit:g} s
  (never)", and its series of that phase ends there (later flaps would start without a lease
  in place); a phase after it gets a fresh lab and a fresh client. The flaps of one client run
  one after another in one process (not interleaved with other clients).
""")
    if v6:
        md.append(v6["how"])
    if data["errors"]:
        md.append("## Problems during the run\n")
        for e in data["errors"]:
            md.append(f"- {e['what']}: {e['error']}")
            if e.get("log"):
                md.append("\n  ```\n  " + e["log"].strip().replace("\n", "\n  ") + "\n  ```")
        md.append("")
    md.append("## Raw figures\n")
    if "ttl" in only:
        md.append("Time to lease, 1 interface, every run (ms):\n")
        for c in cfgs:
            md.append(f"- {LABEL[c]}: " + ", ".join(f"{x:.1f}" for x in ttl[c]))
    for p, recs in rc.items():
        md.append(f"\nReconnect, {PHASE_TEXT[p]}: every flap, ms from carrier until the address "
                  f"and the default route were back (address: when the address was back, 0 if "
                  f"it stayed):\n")
        for c in cfgs:
            rec = recs[c]
            runs = []
            for f in rec["flaps"]:
                if f["usable_ms"] is None:
                    runs.append(f"never (after {a.reconnect_limit:g} s: addresses "
                                f"{f['left']['addrs']}, default routes {f['left']['defaults']})")
                    continue
                t = f"{f['usable_ms']:.1f} (address {f['addr_ms']:.1f})"
                if "lost_ms" in f:
                    t += f" [taken away again at {f['lost_ms']:.0f}" + \
                        (", and not back a pause later]" if not f["ok"] else ", then back]")
                how = confirmation(f) if c in ("dhcpc", "dhcpc-noarp") else None
                if how:
                    t += f" [lease confirmed by the {how[1]} at {how[0]:.1f}]"
                runs.append(t)
            if rec["error"]:
                runs.append(f"error: {rec['error']}")
            late = [f["running_ms"] for f in rec["flaps"] if "running_ms" in f]
            if late:
                runs.append(f"RUNNING (operstate up) at most {max(late):.1f} ms after carrier")
            md.append(f"- {LABEL[c]}: " + ("; ".join(runs) or "n/a"))
        md.append(f"\nWhat each client logged around its first flap, {PHASE_TEXT[p]} (ms after "
                  f"carrier; negative: while the link was down):\n")
        for c in cfgs:
            flaps = recs[c]["flaps"]
            if not flaps:
                continue
            shown = [f"[{t:8.1f}] {text.strip()[:160]}" for t, text in flaps[0].get("lines", [])
                     ][:12]
            md.append(f"- {LABEL[c]}:" + ("\n\n  ```\n  " + "\n  ".join(shown) + "\n  ```"
                                          if shown else " (nothing)"))
    if any(data["scale"].values()):
        md.append(f"\nTime until all {a.ifaces} interfaces are bound, every run (ms; in brackets "
                  f"when the first one and half of them were):\n")
        for c, xs in data["scale_detail"].items():
            md.append(f"- {LABEL[c]}: " + ", ".join(f"{last:.0f} (first {first:.0f}, median {med:.0f})"
                                                     for first, med, last in xs))
    for title, d in ((f"1 interface", d1), (f"{a.ifaces} interfaces", d100)):
        if not d:
            continue
        md.append(f"\nProcesses of the bound daemon, {title} (RSS / PSS in KiB; idle wake-ups by "
                  f"thread, voluntary+involuntary):\n")
        for c in cfgs:
            r = d.get(c)
            if not r:
                continue
            plist = sorted(r.get("procs", []), key=lambda p: -p["rss_kb"])
            procs = ", ".join(f"{p['comm']} {p['rss_kb']}/{p['pss_kb']} (anon {p['anon_kb']})"
                              + (f" ({p['threads']} threads)" if p['threads'] > 1 else "")
                              for p in plist[:4])
            if len(plist) > 4:
                rest = plist[4:]
                procs += f", and {len(rest)} more processes with " \
                         f"{sum(p['rss_kb'] for p in rest)}/{sum(p['pss_kb'] for p in rest)} in all"
            procs = f"{len(plist)} process(es): " + procs
            idle = ""
            if "idle" in r:
                i = r["idle"]
                who = "; ".join(f"{k} {v['vol']}+{v['invol']}" for k, v in i["per_task"].items())
                idle = f"; idle {i['vol']}+{i['invol']} wake-ups, {i['cpu_ns'] / 1e6:.2f} ms CPU " \
                       f"({i['ticks']} ticks) over {i['secs']} s" + (f" [{who}]" if who else "")
                if i["tasks_gone"] or i["tasks_new"]:
                    idle += f", threads gone {i['tasks_gone']} new {i['tasks_new']}"
            md.append(f"- {LABEL[c]}: {procs}{idle}")
    if v6:
        md += ([""] if v4 else []) + v6["raw"]
    md.append("")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(data, f, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(md))
        print(f"\nwritten to {a.out}")
    else:
        print("\n" + "\n".join(["## Goals of the issue, on this run\n",
                                 "| goal | result | figures |\n|---|---|---|"] + goals))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--ifaces", required=True)
    m.add_argument("--timeout", type=float, default=60)
    m.add_argument("--settle", type=float, default=0)
    m.add_argument("--idle", type=float, default=0)
    m.add_argument("--match", choices=["addr4", "addr6", "prefix6"], default="addr4")
    m.add_argument("--partial", action="store_true")
    m.add_argument("--out", required=True)
    m.add_argument("--log", required=True)
    m.add_argument("--private-dirs", default="")
    m.add_argument("argv", nargs=argparse.REMAINDER)
    r = sub.add_parser("reconnect")
    r.add_argument("--iface", required=True)
    r.add_argument("--timeout", type=float, default=60)
    r.add_argument("--settle", type=float, default=3)
    r.add_argument("--down", type=float, default=1)
    r.add_argument("--pause", type=float, default=1.5)
    r.add_argument("--limit", type=float, default=15)
    r.add_argument("--server-pid", type=int, required=True)
    r.add_argument("--phases", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--private-dirs", default="")
    r.add_argument("argv", nargs=argparse.REMAINDER)
    o = sub.add_parser("orchestrate")
    o.add_argument("--bin", required=True)
    o.add_argument("--work", required=True)
    o.add_argument("--prefix", required=True)
    o.add_argument("--out", default="", help="report file (none: the table is printed only)")
    o.add_argument("--json")
    o.add_argument("--runs", type=int, default=10)
    o.add_argument("--warmup", type=int, default=1)
    o.add_argument("--scale-runs", type=int, default=3)
    o.add_argument("--ifaces", type=int, default=100)
    o.add_argument("--idle", type=float, default=60)
    o.add_argument("--idle-scale", type=int, default=1)
    o.add_argument("--settle", type=float, default=5)
    o.add_argument("--timeout", type=float, default=60)
    o.add_argument("--scale-timeout", type=float, default=180)
    o.add_argument("--v6-scale-timeout", type=float, default=60,
                   help="DHCPv6 on --ifaces interfaces: time limit per run")
    o.add_argument("--clients", default=",".join(CONFIGS))
    o.add_argument("--only", default=",".join(SECTIONS))
    o.add_argument("--reconnect-runs", type=int, default=5)
    o.add_argument("--reconnect-phases", default=",".join(RECONNECT_PHASES))
    o.add_argument("--reconnect-down", type=float, default=1)
    o.add_argument("--reconnect-pause", type=float, default=1.5)
    o.add_argument("--reconnect-settle", type=float, default=3)
    o.add_argument("--reconnect-limit", type=float, default=15)
    o.add_argument("--resolv-sha")
    o.add_argument("--keep-logs")
    o.add_argument("--dynamic-pool", action="store_true")
    o.add_argument("--curve", default="", help="only the scale curve, at these N (e.g. 1,10,100,300,1000)")
    o.add_argument("--curve-runs", type=int, default=1, help="runs per point of the curve (medians)")
    o.add_argument("--git", default="?")
    o.add_argument("--cmdline", default="bench/run")
    a = ap.parse_args()
    if a.cmd in ("measure", "reconnect"):
        if a.argv and a.argv[0] == "--":
            a.argv = a.argv[1:]
        (measure if a.cmd == "measure" else reconnect)(a)
        return
    bad = set(a.only.split(",")) - set(SECTIONS)
    if bad:
        ap.error(f"--only: unknown part {','.join(sorted(bad))} (parts: {','.join(SECTIONS)})")
    bad = set(a.reconnect_phases.split(",")) - set(RECONNECT_PHASES)
    if bad:
        ap.error(f"--reconnect-phases: unknown {','.join(sorted(bad))} "
                 f"(phases: {','.join(RECONNECT_PHASES)})")
    bad = set(a.clients.split(",")) - set(CONFIGS)
    if bad:
        ap.error(f"--clients: unknown {','.join(sorted(bad))} (clients: {','.join(CONFIGS)})")
    if a.curve and not all(x.isdigit() and 1 <= int(x) <= 1000 for x in a.curve.split(",")):
        ap.error("--curve takes interface counts from 1 to 1000, comma-separated")
    if not 1 <= a.curve_runs <= 20:
        ap.error("--curve-runs must be between 1 and 20")
    if not 1 <= a.ifaces <= 240:
        ap.error("--ifaces must be between 1 and 240 (one /24 pool)")
    b = Bench(a)

    def on_term(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        if a.curve:
            b.curve_main()
        else:
            b.main()
    except KeyboardInterrupt:
        print("bench: interrupted; cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        b.cleanup()
        b.check_resolv()


if __name__ == "__main__":
    main()
