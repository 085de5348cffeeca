#!/usr/bin/python3
"""Chaos run: a repeatable fault-injection test of a real custody cluster.

Usage:
    python3 tests/chaos/chaos.py BUILD_DIR [--seed N] [--minutes M] [--short]

Starts three real `custodyd` nodes on 127.0.0.1 (R = 2, two zones, 256 KiB
chunks, a repair round every 3 s) and, with every random choice drawn from
`random.Random(seed)` (the seed is printed first, default 1):

1. three put loops write random files (10 KiB to 3 MiB) and put them with
   `custody --server A1,A2,A3 put FILE --json` (loop k names node k+1 first);
   a put counts as acknowledged only when it exits 0 and its id is the file's
   sha256; a put is tried at most three times;
2. while they run, in this order:
   - full disk (when root and `mount -t tmpfs` works; else the row is SKIP):
     n3's data folder is on a 256 MiB tmpfs (DIR/n3mnt/data), mounted before
     the cluster starts; custodyd keeps its default --min-free (64MiB; 32MiB
     is the hard reserve). A filler file of zeros fills the tmpfs until
     ENOSPC, topped up every second for 20 s, then deleted. Then the tmpfs
     is grown (remount, up to 8 GiB, half the free memory): on 256 MiB n3's
     own data (with ~70 MiB of RocksDB WAL preallocated) fills it within
     about a minute, which would leave it full for everything after. It is
     unmounted (umount -l) at the end;
   - clock step (when libfaketime is installed, Debian package `libfaketime`;
     else the row is SKIP): n1 always runs with LD_PRELOAD=libfaketime.so.1,
     FAKETIME_NO_CACHE=1, FAKETIME_TIMESTAMP_FILE=DIR/n1.faketime (holding
     `+0`) and FAKETIME_DONT_FAKE_MONOTONIC=1 (a real step moves the wall
     clock only). The file is set to `+2h` for 12 s (45 s in the full run),
     then to `-10m`, and set back to `+0` after check c2. Caveat: custodyd
     and gRPC wait with absl, which hands the kernel absolute CLOCK_REALTIME
     deadlines that libfaketime cannot fake: at +2h timed waits in n1 last
     2 h longer unless woken, at -10m they end at once and n1 spins (about
     one core; hence the step back to +0). The CPU n1 used is a figure;
   - kills: nodes are `kill -9`ed one at a time (never two down at once),
     kept down 1-8 s and restarted; the full run also wipes one node's data
     folder once while it is down;
3. the loops stop; one byte is flipped in N chunks of acknowledged objects in
   the volume files of one node holding them (a chunk's payload starts 48
   bytes after a 4096-byte boundary, doc/storage_format.md; only chunks held
   by two nodes are chosen, and every copy on the chosen node is flipped),
   then `cluster scrub --node N` runs on each node touched;
4. checks, one row each in the summary table:
   (a) every acknowledged object reads back bit-exact through every node
       (this is also check c3 of the clock step);
   (b) `audit verify-node` passes on every node;
   (c) `cluster status` reaches under_replicated == 0 within 90 s;
   (d) every flipped chunk has a `chunk.corrupt` or `chunk.repaired` event
       from the flipped node in its object's history;
   (e) no node died by a signal it was not sent, failed to start, or exited
       non-zero on SIGTERM, and no node log holds an assertion, abort,
       `terminate called` or an AddressSanitizer report;
   (f) full disk: (f1) n3 does not exit while full and no node log holds an
       abort; (f2) `custody --server N3 status --json` has a non-empty
       "read_only" while full; objects acknowledged before read back
       bit-exact through n3 alone or are refused with RESOURCE_EXHAUSTED
       (below the hard reserve a read cannot be put on record first), with
       no object.read on record for a refused read, and read back through
       `--server N3,N1,N2` (a full node hands the read on); (f3) puts through A1,A2,A3 are
       acknowledged while n3 is full, and no attempt fails; (f4) within 20 s
       of deleting the filler "read_only" is "" and "audit_events_held" 0.
       The puts acknowledged while full are a figure;
   (g) clock step: (c1) puts are acknowledged at +2h and at -10m, no attempt
       fails then, and n1 answers `status`; (c2) `audit verify-node` passes
       on n1 at -10m. How far n1 stamps its audit events from real time, and
       the warnings and errors the nodes logged during the steps, are logged.

`--short` is about 3.5 minutes in all (4 kills, 3 flips); the full run is
about `--minutes` (default 15; 26 kills, 20 flips, one wipe). Exits 0 when
every check passes or is skipped, 1 otherwise. Works in a temporary folder
under $TEST_TMPDIR or /var/tmp, removed at the end unless CUSTODY_KEEP_TMP is
set. Needs python3 (stdlib only), and for rows f and g root, util-linux
(mount, umount) and the Debian package libfaketime.
"""
import argparse
import concurrent.futures
import dataclasses
import datetime
import errno
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
CHUNK_SIZE = 256 * KIB
PAGE = 4096
PAYLOAD_AT = 48  # a volume entry's payload starts 48 bytes into its page
FLIP_AT = 1000  # the flipped byte, counted from the chunk's first byte
ABORT_MARKERS = ("Assertion", "Aborted", "terminate called", "AddressSanitizer")
TMPFS_SIZE = "256m"  # n3's data folder in the full-disk phase
FAKETIME_SO = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")  # Debian libfaketime
START = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - START:7.1f}s] {msg}", flush=True)


@dataclasses.dataclass
class Profile:
    """How long and how hard a run is."""
    kills: int
    flips: int
    wipe: bool
    fault_seconds: float  # how long the kill phase lasts, about
    put_pause: tuple  # seconds each put loop rests between puts (min, max)
    full_seconds: float = 20  # how long n3's disk is kept full
    clock_hold: float = 12  # seconds n1 runs at +2h, and then at -10m before the kills


def make_profile(args):
    if args.short:
        return Profile(kills=4, flips=3, wipe=False, fault_seconds=75, put_pause=(0.3, 1.2))
    full, hold = 20, 45
    return Profile(kills=26, flips=20, wipe=True,
                   fault_seconds=max(60.0, args.minutes * 60 * 0.65 - full - 2 * hold - 30),
                   put_pause=(0.5, 2.0), full_seconds=full, clock_hold=hold)


def run_cli(build, args, timeout=120):
    """Runs `custody ARGS`; returns (exit code, stdout, stderr); -1 on timeout."""
    env = {k: v for k, v in os.environ.items() if k != "CUSTODY_SERVER"}
    try:
        p = subprocess.run([str(build / "custody")] + [str(a) for a in args], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout}s"


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


class Node:
    def __init__(self, node_id, port, zone, tmp):
        self.id, self.port, self.zone = node_id, port, zone
        self.address = f"127.0.0.1:{port}"
        self.data = tmp / node_id
        self.log = tmp / f"{node_id}.log"
        self.env = {}  # added to custodyd's environment (libfaketime for n1)
        self.proc = None
        self.pids = []  # of every process started, for libfaketime's leftovers


class Cluster:
    """Three custodyd processes and what went wrong with them (check e)."""

    def __init__(self, build, tmp):
        self.build, self.tmp = build, tmp
        ports = free_ports(3)
        self.nodes = [Node(f"n{i + 1}", ports[i], "ab"[i % 2], tmp) for i in range(3)]
        self.map_file = tmp / "cluster.json"
        self.problems = []
        self.flags = self.daemon_flags()
        self.write_map()

    def write_map(self):
        doc = {"version": 1, "replication_factor": 2,
               "nodes": [{"id": n.id, "address": n.address, "zone": n.zone}
                         for n in self.nodes]}
        self.map_file.write_text(json.dumps(doc, indent=2) + "\n")

    def daemon_flags(self):
        """The optional flags this custodyd knows (from its --help)."""
        wanted = [("--chunk-size", "256KiB"), ("--repair-interval", "3s"),
                  ("--scrub-interval", "0")]
        out = subprocess.run([str(self.build / "custodyd"), "--help"], capture_output=True,
                             text=True).stdout
        flags = []
        for name, value in wanted:
            if name in out:
                flags += [name, value]
            else:
                log(f"custodyd has no {name}: left out")
        return flags

    def start(self, node, timeout=60):
        """Starts the node and waits until `custody status` answers."""
        cmd = [str(self.build / "custodyd"), "--data", str(node.data), "--listen", node.address,
               "--cluster", str(self.map_file), "--node-id", node.id,
               "--insecure-loopback"] + self.flags
        with open(node.log, "ab") as out:
            node.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         env={**os.environ, **node.env})
        node.pids.append(node.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.proc.poll() is not None:
                self.problems.append(f"{node.id} exited with {node.proc.returncode} at start")
                return False
            if run_cli(self.build, ["--server", node.address, "status"], timeout=5)[0] == 0:
                return True
            time.sleep(0.2)
        self.problems.append(f"{node.id} did not answer `status` within {timeout}s")
        return False

    def kill9(self, node):
        node.proc.send_signal(signal.SIGKILL)
        rc = node.proc.wait()
        if rc != -signal.SIGKILL:
            self.problems.append(f"{node.id} had already exited with {rc} before kill -9")

    def revive_dead(self):
        """Notes and restarts nodes that exited although nobody stopped them."""
        for node in self.nodes:
            rc = node.proc.poll() if node.proc else None
            if rc is not None:
                self.problems.append(f"{node.id} exited by itself with {rc}")
                log(f"{node.id} exited by itself with {rc}: restarting it")
                self.start(node)

    def stop_all(self):
        """SIGTERM to every node, then waits; a non-zero exit is a problem."""
        live = [n for n in self.nodes if n.proc and n.proc.poll() is None]
        for n in self.nodes:
            if n.proc and n not in live:
                self.problems.append(f"{n.id} exited by itself with {n.proc.returncode}")
        for n in live:
            n.proc.send_signal(signal.SIGTERM)
        for n in live:
            try:
                rc = n.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                n.proc.kill()
                rc = n.proc.wait()
                self.problems.append(f"{n.id} did not stop within 60s of SIGTERM")
            if rc != 0:
                self.problems.append(f"{n.id} exited with {rc} on SIGTERM")

    def addresses(self, rotate=0):
        addrs = [n.address for n in self.nodes]
        return ",".join(addrs[rotate:] + addrs[:rotate])


@dataclasses.dataclass
class Acked:
    path: Path
    id: str
    size: int
    done: float = 0.0  # time.monotonic() when acknowledged
    wall: float = 0.0  # time.time() then


@dataclasses.dataclass
class Attempt:
    """One `custody put` run."""
    start: float  # time.monotonic()
    end: float
    ok: bool
    error: str = ""


class Puts:
    """The put loops and what they acknowledged."""

    def __init__(self, build, cluster, tmp, profile):
        self.build, self.cluster, self.profile = build, cluster, profile
        self.files = tmp / "files"
        self.files.mkdir()
        self.lock = threading.Lock()
        self.acked, self.wrong_ids = [], []
        self.failed_attempts = 0
        self.attempts = []  # every Attempt, for the windows of the full disk and clock step
        self.stop = threading.Event()
        self.threads = []

    def start(self, seeds):
        for t, seed in enumerate(seeds):
            th = threading.Thread(target=self.loop, args=(t, seed), daemon=True)
            th.start()
            self.threads.append(th)

    def finish(self):
        self.stop.set()
        for th in self.threads:
            th.join()

    def loop(self, t, seed):
        rng = random.Random(seed)
        servers = self.cluster.addresses(rotate=t)
        n = 0
        while not self.stop.is_set():
            size = rng.randint(10 * KIB, 3 * MIB)
            data = rng.randbytes(size)
            path = self.files / f"t{t}-{n:05d}.bin"
            n += 1
            path.write_bytes(data)
            self.put(servers, path, "sha256:" + hashlib.sha256(data).hexdigest(), size)
            self.stop.wait(rng.uniform(*self.profile.put_pause))

    def put(self, servers, path, want, size):
        """Puts the file, trying it again (a resume) at most twice."""
        for _ in range(3):
            t0 = time.monotonic()
            rc, out, err = run_cli(self.build, ["--server", servers, "put", path, "--json"],
                                   timeout=180)
            t1 = time.monotonic()
            if rc == 0:
                got = json.loads(out).get("id", "")
                with self.lock:
                    self.attempts.append(Attempt(t0, t1, True))
                    if got == want:
                        self.acked.append(Acked(path, want, size, t1, time.time()))
                    else:
                        self.wrong_ids.append(f"{path.name}: acknowledged as {got}, is {want}")
                return
            with self.lock:
                self.failed_attempts += 1
                self.attempts.append(Attempt(t0, t1, False, f"{path.name}: exit {rc}: "
                                             f"{err.strip()[:300]}"))
            if self.stop.is_set():
                return

    def window(self, w0, w1):
        """(puts acknowledged inside [w0, w1], failed attempts overlapping it)."""
        with self.lock:
            acked = [a for a in self.attempts if a.ok and a.start >= w0 and a.end <= w1]
            failed = [a for a in self.attempts if not a.ok and a.end >= w0 and a.start <= w1]
        return len(acked), failed

    def acked_between(self, w0, w1):
        with self.lock:
            return [a for a in self.acked if w0 <= a.done <= w1]


def fault_phase(cluster, rng, profile):
    """Kills nodes one at a time while the put loops run; returns (kills, wipes)."""
    base_gap = max(1.0, profile.fault_seconds / profile.kills - 6.5)
    wipe_at = rng.randrange(profile.kills) if profile.wipe else -1
    kills = wipes = 0
    for i in range(profile.kills):
        time.sleep(base_gap * rng.uniform(0.5, 1.5))
        cluster.revive_dead()
        node = rng.choice(cluster.nodes)
        downtime = rng.uniform(1, 8)
        wipe = i == wipe_at
        log(f"kill -9 {node.id} for {downtime:.1f}s{' and wipe its data' if wipe else ''}")
        cluster.kill9(node)
        kills += 1
        if wipe:
            shutil.rmtree(node.data)
            wipes += 1
        time.sleep(downtime)
        if not cluster.start(node):
            log(f"{node.id} did not come back: no more faults")
            break
    return kills, wipes


def node_status(cluster, node, timeout=20):
    """`custody --server NODE status --json`, parsed; None if it fails."""
    rc, out, _ = run_cli(cluster.build, ["--server", node.address, "status", "--json"],
                         timeout=timeout)
    try:
        return json.loads(out) if rc == 0 else None
    except ValueError:
        return None


def abort_lines(cluster):
    """Lines of any node log that tell of an assertion, abort or sanitizer report."""
    found = []
    for node in cluster.nodes:
        text = node.log.read_text(errors="replace") if node.log.exists() else ""
        found += [f"{node.log.name}: {line.strip()[:200]}" for line in text.splitlines()
                  if any(m in line for m in ABORT_MARKERS)]
    return found


def log_size(node):
    return node.log.stat().st_size if node.log.exists() else 0


def log_lines_since(node, offset, levels=("W", "E", "F")):
    """Lines the node logged from byte `offset` on, at one of `levels`."""
    if not node.log.exists():
        return []
    with open(node.log, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return [line for line in text.splitlines() if line[:1] in levels and line[1:2] == " "]


def cpu_seconds(node):
    """User + system CPU the node's process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{node.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def mount_tmpfs(tmp):
    """Mounts a tmpfs for n3's data at tmp/n3mnt: (mount point, "") or (None, why not)."""
    if os.geteuid() != 0:
        return None, "not root (mounting a tmpfs needs root)"
    mnt = tmp / "n3mnt"
    mnt.mkdir()
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs",
                            str(mnt)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"mount -t tmpfs failed: {e}"
    if p.returncode != 0:
        return None, f"mount -t tmpfs failed: {(p.stderr or p.stdout).strip()[:200]}"
    return mnt, ""


def unmount(mnt):
    p = subprocess.run(["umount", "-l", str(mnt)], capture_output=True, text=True)
    if p.returncode != 0:
        log(f"umount -l {mnt}: exit {p.returncode}: {p.stderr.strip()[:200]}")


def fill_up(path):
    """Appends zeros to `path` until its file system is full (ENOSPC); returns the bytes."""
    block, written = bytes(MIB), 0
    with open(path, "ab", buffering=0) as f:
        while True:
            try:
                written += f.write(block) or 0
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                return written


def log_failures(what, failed):
    """Logs failed put attempts, one line per distinct error."""
    kinds = {}
    for a in failed:
        name, _, err = a.error.partition(": ")
        kinds.setdefault(err, []).append(name)
    for err, names in kinds.items():
        log(f"{what}: {len(names)} put attempts failed ({', '.join(sorted(set(names))[:4])}"
            f"{', ...' if len(set(names)) > 4 else ''}): {err[:300]}")


def grow_tmpfs(mnt):
    """Gives n3 room after the phase: on 256 MiB its own data fills it within about a
    minute (RocksDB preallocates ~70 MiB of WAL there), which would keep it full for
    the kills and checks that follow."""
    avail = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            avail = int(line.split()[1]) * KIB
    size = max(GIB, min(8 * GIB, avail // 2))
    p = subprocess.run(["mount", "-o", f"remount,size={size // MIB}m", str(mnt)],
                       capture_output=True, text=True)
    log(f"n3's tmpfs grown to {size // MIB} MiB" if p.returncode == 0 else
        f"could not grow n3's tmpfs: {p.stderr.strip()[:200]}")


def read_via(cluster, node, objs, tmp):
    """Gets each object through `node` alone; returns the failures."""
    (tmp / "reads").mkdir(parents=True, exist_ok=True)
    return [r for r in (read_one(cluster.build, tmp, obj, node, n) for n, obj in enumerate(objs))
            if r]


def full_disk_phase(cluster, puts, mnt, profile, tmp, figures):
    """Fills n3's tmpfs for `full_seconds` while the put loops run, then frees it.

    Returns (ok, figure) for checks f1-f4."""
    n3 = cluster.nodes[2]
    filler = mnt / "filler"
    before = list(puts.acked)
    sample = before[::max(1, len(before) // 4)][:4]
    st = os.statvfs(mnt)
    log(f"n3's tmpfs: {st.f_bavail * st.f_frsize / MIB:.0f} MiB free before the filler")
    t0, wall0 = time.monotonic(), time.time()
    log(f"filler: {fill_up(filler) / MIB:.0f} MiB, n3's disk is full for "
        f"{profile.full_seconds:.0f}s")
    exited, reason, held_max, reads, statuses, answered = None, "", 0, None, 0, 0
    try:
        while time.monotonic() - t0 < profile.full_seconds:
            fill_up(filler)  # whatever n3 frees (an index file deleted) is taken again
            if n3.proc.poll() is not None:
                exited = n3.proc.returncode
                log(f"n3 exited with {exited} while its disk was full")
                break
            s = node_status(cluster, n3, timeout=10)
            statuses += 1
            if s is not None:
                answered += 1
                reason = reason or s.get("read_only", "")
                held_max = max(held_max, int(s.get("audit_events_held", 0)))
            if reads is None and (reason or time.monotonic() - t0 > profile.full_seconds / 2):
                reads = read_via(cluster, n3, sample, tmp / "full")
            time.sleep(1)
        if reads is None:
            reads = read_via(cluster, n3, sample, tmp / "full")
        # n3 first, then the others: a refusal hands the read to the next node.
        first = types.SimpleNamespace(id="n3-first", address=",".join(
            [n3.address] + [n.address for n in cluster.nodes if n is not n3]))
        list_reads = read_via(cluster, first, sample, tmp / "full-list")
    finally:
        t1 = time.monotonic()
        filler.unlink()
    log(f"filler deleted; n3 said read_only {reason[:160]!r}, held up to {held_max} "
        f"audit events")
    back, s = None, None
    while time.monotonic() - t1 < 20 and exited is None:
        s = node_status(cluster, n3, timeout=10)
        if s is not None and s.get("read_only") == "" and s.get("audit_events_held") == 0:
            back = time.monotonic() - t1
            break
        time.sleep(0.5)
    if back is None:
        log(f"n3 not back 20s after the filler went: {json.dumps(s)[:400]}")
    if exited is None and n3.proc.poll() is not None:
        exited = n3.proc.returncode
    acked, failed = puts.window(t0, t1)
    figures["puts acked while n3 full"] = acked
    log_failures("while n3 was full", failed)
    with puts.lock:
        acked_names = {a.path.name for a in puts.acked}
    given_up = {a.error.partition(":")[0] for a in failed} - acked_names
    for r in reads:
        log(f"read via n3 while full failed: {r}")
    phantom = 0
    if reads and back is not None:
        phantom = refused_reads_on_record(cluster, sample, reads, wall0)
    # Below the hard reserve a read cannot be put on record before its first
    # byte, so n3 refuses it (RESOURCE_EXHAUSTED) and records no read.
    bad_reads = [r for r in reads if "RESOURCE_EXHAUSTED" not in r]
    for r in list_reads:
        log(f"read via n3 first, then the others, failed: {r}")
    aborts = abort_lines(cluster)
    for a in aborts[:5]:
        log(f"abort in a log: {a}")
    f1 = exited is None and not aborts
    f2 = bool(reason) and bool(sample) and not bad_reads and not list_reads and phantom == 0
    f3 = acked > 0 and not failed
    f4 = back is not None
    figs = [f"f1 {'n3 up' if exited is None else f'n3 exited {exited}'}"
            f"{f', {len(aborts)} aborts logged' if aborts else ''}",
            f"f2 read_only {'set' if reason else 'never set'} "
            f"({answered}/{statuses} status answered), "
            f"{len(sample) - len(reads)}/{len(sample)} reads via n3 alone "
            f"({len(reads) - len(bad_reads)} refused as unrecordable, {phantom} on record), "
            f"{len(sample) - len(list_reads)}/{len(sample)} via n3 first then the others",
            f"f3 {acked} puts acked, {len(failed)} attempts failed"
            f"{f' ({len(given_up)} puts given up)' if given_up else ''}",
            f"f4 {f'writable, 0 held after {back:.1f}s' if f4 else 'not back in 20s'}"]
    cluster.revive_dead()
    grow_tmpfs(mnt)
    return f1 and f2 and f3 and f4, "; ".join(figs)


def refused_reads_on_record(cluster, sample, reads, since):
    """How many object.read events n3's history has for a get it refused while full
    (must be 0: a refused read did not happen)."""
    for obj in sample:
        if not any(r.startswith(obj.id[:19]) for r in reads):
            continue
        rc, out, _ = run_cli(cluster.build, ["--server", cluster.addresses(), "audit", "log",
                                             obj.id, "--json"], timeout=60)
        if rc != 0:
            return 0
        on_record = [e for e in json.loads(out).get("events", [])
                     if e.get("node") == "n3" and e.get("action") == "object.read"
                     and e.get("time") and parse_time(e["time"]) >= since - 1]
        log(f"{obj.id[:19]}: its get via n3 was refused while full; n3's history has "
            f"{len(on_record)} object.read event(s) since then"
            + (f", e.g. {json.dumps(on_record[0])[:300]}" if on_record else ""))
        return len(on_record)
    return 0


def write_offset(path, offset):
    """Sets a libfaketime timestamp file at once (a reader never sees it half written)."""
    new = path.with_name(path.name + ".new")
    new.write_text(offset + "\n")
    os.replace(new, path)


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def n1_event_skew(cluster, obj):
    """How far n1's audit events for `obj` are stamped from real time (seconds), or None."""
    rc, out, _ = run_cli(cluster.build, ["--server", cluster.addresses(), "audit", "log", obj.id,
                                         "--json"], timeout=60)
    if rc != 0:
        return None
    times = sorted(parse_time(e["time"]) for e in json.loads(out).get("events", [])
                   if e.get("node") == "n1" and e.get("time"))
    return times[len(times) // 2] - obj.wall if times else None


def clock_phase(cluster, puts, profile, ft_file, figures):
    """Steps n1's wall clock to +2h, then to -10m, while the put loops run.

    Returns (ok, figure) for checks c1 and c2 (c3 is check a)."""
    n1 = cluster.nodes[0]
    marks = {n.id: log_size(n) for n in cluster.nodes}
    figs, ok = [], True
    for offset in ("+2h", "-10m"):
        cpu0 = {n.id: cpu_seconds(n) for n in cluster.nodes}
        write_offset(ft_file, offset)
        w0 = time.monotonic()
        log(f"n1's clock stepped to {offset} from real time for {profile.clock_hold:.0f}s")
        exited = None
        while time.monotonic() - w0 < profile.clock_hold:
            if n1.proc.poll() is not None:
                exited = n1.proc.returncode
                log(f"n1 exited with {exited} at {offset}")
                break
            time.sleep(1)
        w1 = time.monotonic()
        answers = node_status(cluster, n1) is not None
        cpu = {n.id: cpu_seconds(n) - cpu0[n.id] for n in cluster.nodes}
        acked, failed = puts.window(w0, w1)
        log_failures(f"n1 at {offset}", failed)
        via_n1 = [a for a in puts.acked_between(w0, w1) if a.path.name.startswith("t0-")]
        skew = n1_event_skew(cluster, via_n1[-1]) if via_n1 else None
        log(f"n1 at {offset}: {acked} puts acked, {len(failed)} attempts failed, status "
            f"{'answers' if answers else 'fails'}, n1's events stamped "
            f"{'?' if skew is None else f'{skew / 60:+.0f} min'} from real time, CPU in "
            f"{w1 - w0:.0f}s: " + ", ".join(f"{k} {v:.1f}s" for k, v in cpu.items()))
        ok &= exited is None and acked > 0 and not failed and answers
        figs.append(f"{offset}: {acked} acked, {len(failed)} failed"
                    + ("" if skew is None else f", n1 stamps {skew / 60:+.0f}m")
                    + ("" if exited is None else f", n1 exited {exited}"))
        figures[f"n1 CPU at {offset}"] = f"{cpu['n1']:.1f}s in {w1 - w0:.0f}s"
    rc, out, err = run_cli(cluster.build, ["--server", n1.address, "audit", "verify-node"],
                           timeout=600)
    if rc != 0:
        log(f"verify-node n1 after the clock steps: exit {rc}: {(out + err).strip()[:400]}")
    ok &= rc == 0
    figs.append(f"verify-node n1 {'passes' if rc == 0 else f'exit {rc}'}")
    # Under libfaketime an offset behind real time makes every absl timed wait in n1 end
    # at once (absl waits on the kernel's CLOCK_REALTIME): n1 spins. Its clock is set
    # right again (a third step, +10m) so that the spin does not starve the rest.
    write_offset(ft_file, "+0")
    log("n1's clock set right again (+0)")
    for node in cluster.nodes:
        lines = log_lines_since(node, marks[node.id])
        figures[f"{node.id} W/E log lines at the steps"] = len(lines)
        for line in lines[:4]:
            log(f"{node.id} logged during the clock steps: {line[:300]}")
    cluster.revive_dead()
    return ok, "; ".join(figs)


@dataclasses.dataclass
class Flip:
    obj: Acked
    chunk: bytes  # the chunk's first 4 KiB
    chunk_id: str  # sha256 hex of the whole chunk
    node: str = ""
    places: int = 0  # copies flipped on that node


def flip_candidates(acked, rng, count):
    """Chunks of acknowledged objects (at least 4 KiB long), in a seeded order."""
    objs = list(acked)
    rng.shuffle(objs)
    seen, out = set(), []
    for obj in objs[:count]:
        starts = [s for s in range(0, obj.size, CHUNK_SIZE) if obj.size - s >= PAGE]
        start = rng.choice(starts)
        with open(obj.path, "rb") as f:
            f.seek(start)
            chunk = f.read(CHUNK_SIZE)
        chunk_id = hashlib.sha256(chunk).hexdigest()
        if chunk_id not in seen:
            seen.add(chunk_id)
            out.append(Flip(obj, chunk[:PAGE], chunk_id))
    return out


def find_in_volumes(node_dir, flips):
    """Where each flip's chunk starts in the node's volumes: {index: [(file, offset)]}."""
    by_key = {}
    for i, f in enumerate(flips):
        by_key.setdefault(f.chunk[:64], []).append(i)
    found = {}
    for vol in sorted((node_dir / "volumes").glob("*")):
        with open(vol, "rb") as fh:
            pos = 0
            while True:
                fh.seek(pos)
                block = fh.read(8 * MIB + 2 * PAGE)
                if len(block) <= PAYLOAD_AT:
                    break
                for k in range(0, min(8 * MIB, len(block)), PAGE):
                    at = k + PAYLOAD_AT
                    for i in by_key.get(block[at:at + 64], ()):
                        if block[at:at + PAGE] == flips[i].chunk:
                            found.setdefault(i, []).append((vol, pos + at))
                pos += 8 * MIB
    return found


def flip_byte(vol, offset):
    os.chmod(vol, 0o644)  # sealed volumes are 0444; we are the disk going bad
    with open(vol, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x5A]))
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(vol, 0o444)


def flip_chunks(cluster, acked, rng, count):
    """Flips a byte of `count` chunks, each on one node of two holding it."""
    candidates = flip_candidates(acked, rng, count * 4)
    where = {n.id: find_in_volumes(n.data, candidates) for n in cluster.nodes}
    flips = []
    for i, f in enumerate(candidates):
        holders = sorted(nid for nid in where if i in where[nid])
        if len(holders) < 2:
            log(f"chunk {f.chunk_id[:12]} of {f.obj.id[:19]} is on {holders}: skipped")
            continue
        f.node = rng.choice(holders)
        for vol, offset in where[f.node][i]:
            flip_byte(vol, offset + FLIP_AT)
            f.places += 1
        log(f"flipped chunk {f.chunk_id[:12]} of {f.obj.id[:19]} on {f.node} "
            f"({f.places} cop{'y' if f.places == 1 else 'ies'})")
        flips.append(f)
        if len(flips) == count:
            break
    return flips


def scrub(cluster, flips):
    """Runs `cluster scrub --node N` on each node touched; returns a summary."""
    parts = []
    for nid in sorted({f.node for f in flips}):
        node = next(n for n in cluster.nodes if n.id == nid)
        rc, out, err = run_cli(cluster.build, ["--server", node.address, "cluster", "scrub",
                                               "--node", nid, "--json"], timeout=600)
        try:
            r = json.loads(out)["reports"][0]
            parts.append(f"{nid}: {r.get('corrupt')} corrupt, {r.get('repaired')} repaired")
        except (ValueError, KeyError, IndexError):
            parts.append(f"{nid}: exit {rc}")
        log(f"scrub {nid}: exit {rc} {out.strip()[:300]} {err.strip()[:300]}")
    return "; ".join(parts)


def read_one(build, tmp, obj, node, n):
    out = tmp / "reads" / f"{n}-{node.id}.out"
    rc, _, err = run_cli(build, ["--server", node.address, "get", obj.id, "-o", out],
                         timeout=180)
    if rc != 0:
        return f"{obj.id[:19]} via {node.id}: exit {rc}: {err.strip()[:200]}"
    got = sha256_of(out)
    out.unlink()
    return None if got == obj.id else f"{obj.id[:19]} via {node.id}: read back as {got}"


def check_reads(cluster, puts, tmp):
    """(a) every acknowledged object, bit-exact through every node."""
    (tmp / "reads").mkdir()
    jobs = [(obj, node, n) for n, obj in enumerate(puts.acked) for node in cluster.nodes]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda j: read_one(cluster.build, tmp, *j), jobs))
    bad = [r for r in results if r] + puts.wrong_ids
    for b in bad[:10]:
        log(f"read failure: {b}")
    ok = bool(puts.acked) and not bad
    fig = f"{len(jobs) - len(bad)}/{len(jobs)} reads bit-exact"
    if puts.wrong_ids:
        fig += f", {len(puts.wrong_ids)} puts acknowledged with a wrong id"
    return ok, fig, len(jobs)


def check_verify_node(cluster):
    """(b) each node recomputes its whole audit log."""
    passed = []
    for node in cluster.nodes:
        rc, out, err = run_cli(cluster.build, ["--server", node.address, "audit",
                                               "verify-node"], timeout=600)
        if rc == 0:
            passed.append(node.id)
        else:
            log(f"verify-node {node.id}: exit {rc}: {(out + err).strip()[:400]}")
    return len(passed) == len(cluster.nodes), f"{len(passed)}/{len(cluster.nodes)} nodes pass"


def cluster_status(cluster):
    for node in cluster.nodes:
        rc, out, _ = run_cli(cluster.build, ["--server", node.address, "cluster", "status",
                                             "--json"], timeout=70)
        if rc == 0:
            return json.loads(out)
    return None


def check_convergence(cluster, limit=90):
    """(c) under_replicated reaches 0, every node up, within `limit` seconds."""
    t0 = time.monotonic()
    st = None
    while time.monotonic() - t0 < limit:
        st = cluster_status(cluster)
        if st and st["under_replicated"] == 0 and all(n["up"] for n in st["nodes"]):
            return True, f"0 under-replicated after {time.monotonic() - t0:.0f}s"
        time.sleep(2)
    if st is None:
        return False, "cluster status never answered"
    down = [n["id"] for n in st["nodes"] if not n["up"]]
    log(f"not converged: {json.dumps(st)[:600]}")
    return False, f"still {st['under_replicated']} under-replicated after {limit}s, down {down}"


def flip_seen(cluster, f):
    rc, out, err = run_cli(cluster.build, ["--server", cluster.addresses(), "audit", "log",
                                           f.obj.id, "--json"], timeout=60)
    if rc != 0:
        log(f"audit log {f.obj.id[:19]}: exit {rc}: {err.strip()[:200]}")
        return False
    for e in json.loads(out).get("events", []):
        chunk = str(e.get("details", {}).get("chunk", f.chunk_id))
        if (e.get("action") in ("chunk.corrupt", "chunk.repaired") and e.get("node") == f.node
                and chunk.endswith(f.chunk_id)):
            return True
    log(f"no chunk.corrupt from {f.node} for chunk {f.chunk_id[:12]} in {f.obj.id[:19]}")
    return False


def check_flips(cluster, flips, wanted, scrubbed):
    """(d) each flipped chunk is in its object's history, from the flipped node."""
    seen = sum(flip_seen(cluster, f) for f in flips)
    ok = len(flips) == wanted and seen == len(flips)
    fig = f"{seen}/{len(flips)} flips logged (wanted {wanted} flips)"
    return ok, fig + (f"; scrub {scrubbed}" if scrubbed else "")


def check_processes(cluster):
    """(e) no unexpected exits or failed starts, and no abort in any node log."""
    problems = list(cluster.problems)
    for node in cluster.nodes:
        text = node.log.read_text(errors="replace") if node.log.exists() else ""
        for line in text.splitlines():
            if any(m in line for m in ABORT_MARKERS):
                problems.append(f"{node.log.name}: {line.strip()[:200]}")
    for p in problems[:10]:
        log(f"process problem: {p}")
    return not problems, "no problems" if not problems else f"{len(problems)} problems"


def print_summary(rows, figures):
    """One row a check; ok None is a phase skipped (not a failure)."""
    print("\nSUMMARY")
    w = max(len(r[0]) for r in rows)
    print(f"  {'check':<{w}}  result  figure")
    for name, ok, fig in rows:
        result = "SKIP" if ok is None else "PASS" if ok else "FAIL"
        print(f"  {name:<{w}}  {result:<6}  {fig}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in figures.items()), flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build", type=Path, help="the build folder with custodyd and custody")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--minutes", type=float, default=15, help="length of the full run")
    p.add_argument("--short", action="store_true", help="about 3.5 minutes in all")
    return p.parse_args()


def inject(cluster, puts, rng, profile, tmp, extra, figures):
    """Phases 1-3: put loops; while they run a full disk on n3, a clock step on n1 and
    kills; then flipped bytes and scrubs. `extra` holds the rows of the full disk and
    clock step: (ok, figure), ok None when skipped."""
    puts.start([rng.getrandbits(64) for _ in range(3)])
    time.sleep(3)
    if extra["mnt"]:
        time.sleep(5)  # some puts acknowledged before, to read while full
        extra["full"] = full_disk_phase(cluster, puts, extra["mnt"], profile, tmp, figures)
    if extra["faketime"]:
        extra["clock"] = clock_phase(cluster, puts, profile, extra["faketime"], figures)
    figures["kills"], figures["wipes"] = fault_phase(cluster, rng, profile)
    time.sleep(3)
    if extra["mnt"]:
        st = os.statvfs(extra["mnt"])
        log(f"n3's tmpfs: {st.f_bavail * st.f_frsize / MIB:.0f} MiB free as the loops stop")
    cluster.revive_dead()
    puts.finish()
    figures["puts acknowledged"] = len(puts.acked)
    figures["put attempts failed"] = puts.failed_attempts
    log(f"put loops stopped: {len(puts.acked)} acknowledged, "
        f"{puts.failed_attempts} attempts failed")
    flips = flip_chunks(cluster, puts.acked, rng, profile.flips)
    figures["flips"] = len(flips)
    return flips, scrub(cluster, flips) if flips else ""


def setup_extra(cluster, tmp):
    """Puts n3's data on a tmpfs and n1 under libfaketime where this machine allows."""
    mnt, why = mount_tmpfs(tmp)
    extra = {"mnt": mnt, "faketime": None,
             "full": (None, why) if why else (False, "phase did not run"),
             "clock": (False, "phase did not run")}
    if mnt:
        cluster.nodes[2].data = mnt / "data"
        log(f"n3's data on a {TMPFS_SIZE} tmpfs at {mnt}")
    else:
        log(f"full-disk phase skipped: {why}")
    if FAKETIME_SO.exists():
        ft = tmp / "n1.faketime"
        ft.write_text("+0\n")
        # A real step moves CLOCK_REALTIME only; libfaketime would move CLOCK_MONOTONIC too.
        cluster.nodes[0].env = {"LD_PRELOAD": str(FAKETIME_SO), "FAKETIME_NO_CACHE": "1",
                                "FAKETIME_TIMESTAMP_FILE": str(ft),
                                "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        extra["faketime"] = ft
        log(f"n1 runs under {FAKETIME_SO} ({ft})")
    else:
        extra["clock"] = (None, f"{FAKETIME_SO} missing (Debian package libfaketime)")
        log(f"clock-step phase skipped: {FAKETIME_SO} missing")
    return extra


def run(args, tmp):
    build = args.build.resolve()
    rng = random.Random(args.seed)
    profile = make_profile(args)
    cluster = Cluster(build, tmp)
    puts = Puts(build, cluster, tmp, profile)
    figures, rows = {}, []
    extra = {"mnt": None}
    try:
        extra = setup_extra(cluster, tmp)
        for node in cluster.nodes:
            cluster.start(node)
        log(f"cluster up: {cluster.addresses()}")
        flips, scrubbed = inject(cluster, puts, rng, profile, tmp, extra, figures)
        ok, fig, figures["reads checked"] = check_reads(cluster, puts, tmp)
        rows.append(("(a) every object bit-exact via every node", ok, fig))
        rows.append(("(b) audit verify-node on every node", *check_verify_node(cluster)))
        rows.append(("(c) under-replicated reaches 0 in 90s", *check_convergence(cluster)))
        rows.append(("(d) flipped chunks in object history",
                     *check_flips(cluster, flips, profile.flips, scrubbed)))
    finally:
        puts.stop.set()
        cluster.stop_all()
        if extra["mnt"]:
            unmount(extra["mnt"])
        for pid in cluster.nodes[0].pids if extra.get("faketime") else ():
            for name in (f"faketime_shm_{pid}", f"sem.faketime_sem_{pid}"):
                Path("/dev/shm", name).unlink(missing_ok=True)  # left by a killed process
    rows.append(("(e) no abort, crash or unclean stop", *check_processes(cluster)))
    rows.append(("(f) n3's disk full: up, read-only, puts elsewhere, back", *extra["full"]))
    rows.append(("(g) n1's clock stepped +2h, then -10m", *extra["clock"]))
    return rows, figures


def main():
    args = parse_args()
    print(f"chaos: seed {args.seed}, {'short' if args.short else f'{args.minutes:g} min'} run",
          flush=True)
    base = os.environ.get("TEST_TMPDIR") or "/var/tmp"
    tmp = Path(tempfile.mkdtemp(prefix="custody-chaos-", dir=base))
    log(f"working in {tmp}")
    rows, figures = [("run finished", False, "interrupted")], {}
    try:
        rows, figures = run(args, tmp)
    finally:
        figures["wall time"] = f"{time.monotonic() - START:.0f}s"
        print_summary(rows, figures)
        if os.environ.get("CUSTODY_KEEP_TMP"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(ok is not False for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
