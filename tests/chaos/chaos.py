#!/usr/bin/python3
"""Chaos run: a repeatable fault-injection test of a real custody cluster.

Usage:
    python3 tests/chaos/chaos.py BUILD_DIR [--seed N] [--minutes M] [--short]

Starts three real `custodyd` nodes on 127.0.0.1 (R = 2, two zones, 256 KiB
chunks, a repair round every 3 s) and, with every random choice drawn from
`random.Random(seed)` (the seed is printed first, default 1):

1. three put loops write random files (10 KiB to 3 MiB) and put them with
   `custody --server A1,A2,A3 put FILE --json`; a put counts as acknowledged
   only when it exits 0 and its id is the file's sha256;
2. meanwhile nodes are `kill -9`ed one at a time (never two down at once),
   kept down 1-8 s and restarted; the full run also wipes one node's data
   folder once while it is down;
3. the loops stop; one byte is flipped in N chunks of acknowledged objects in
   the volume files of one node holding them (a chunk's payload starts 48
   bytes after a 4096-byte boundary, doc/storage_format.md; only chunks held
   by two nodes are chosen, and every copy on the chosen node is flipped),
   then `cluster scrub --node N` runs on each node touched;
4. checks, one row each in the summary table:
   (a) every acknowledged object reads back bit-exact through every node;
   (b) `audit verify-node` passes on every node;
   (c) `cluster status` reaches under_replicated == 0 within 90 s;
   (d) every flipped chunk has a `chunk.corrupt` or `chunk.repaired` event
       from the flipped node in its object's history;
   (e) no node died by a signal it was not sent, failed to start, or exited
       non-zero on SIGTERM, and no node log holds an assertion, abort,
       `terminate called` or an AddressSanitizer report.

`--short` is about 3 minutes in all (4 kills, 3 flips); the full run is
about `--minutes` (default 15; 26 kills, 20 flips, one wipe). Exits 0 when
every check passes, 1 otherwise. Works in a temporary folder under
$TEST_TMPDIR or /var/tmp, removed at the end unless CUSTODY_KEEP_TMP is set.
"""
import argparse
import concurrent.futures
import dataclasses
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
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
CHUNK_SIZE = 256 * KIB
PAGE = 4096
PAYLOAD_AT = 48  # a volume entry's payload starts 48 bytes into its page
FLIP_AT = 1000  # the flipped byte, counted from the chunk's first byte
ABORT_MARKERS = ("Assertion", "Aborted", "terminate called", "AddressSanitizer")
START = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - START:7.1f}s] {msg}", flush=True)


@dataclasses.dataclass
class Profile:
    """How long and how hard a run is."""
    kills: int
    flips: int
    wipe: bool
    fault_seconds: float  # how long the fault phase lasts, about
    put_pause: tuple  # seconds each put loop rests between puts (min, max)


def make_profile(args):
    if args.short:
        return Profile(kills=4, flips=3, wipe=False, fault_seconds=110, put_pause=(0.3, 1.2))
    return Profile(kills=26, flips=20, wipe=True, fault_seconds=args.minutes * 60 * 0.65,
                   put_pause=(0.5, 2.0))


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
        self.proc = None


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
                                         stderr=subprocess.STDOUT, start_new_session=True)
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


class Puts:
    """The put loops and what they acknowledged."""

    def __init__(self, build, cluster, tmp, profile):
        self.build, self.cluster, self.profile = build, cluster, profile
        self.files = tmp / "files"
        self.files.mkdir()
        self.lock = threading.Lock()
        self.acked, self.wrong_ids = [], []
        self.failed_attempts = 0
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
            rc, out, err = run_cli(self.build, ["--server", servers, "put", path, "--json"],
                                   timeout=180)
            if rc == 0:
                got = json.loads(out).get("id", "")
                with self.lock:
                    if got == want:
                        self.acked.append(Acked(path, want, size))
                    else:
                        self.wrong_ids.append(f"{path.name}: acknowledged as {got}, is {want}")
                return
            with self.lock:
                self.failed_attempts += 1
            if self.stop.is_set():
                return


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
    print("\nSUMMARY")
    w = max(len(r[0]) for r in rows)
    print(f"  {'check':<{w}}  result  figure")
    for name, ok, fig in rows:
        print(f"  {name:<{w}}  {'PASS' if ok else 'FAIL':<6}  {fig}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in figures.items()), flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build", type=Path, help="the build folder with custodyd and custody")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--minutes", type=float, default=15, help="length of the full run")
    p.add_argument("--short", action="store_true", help="about 3 minutes in all")
    return p.parse_args()


def inject(cluster, puts, rng, profile, figures):
    """Phases 1-3: put loops, kills while they run, flipped bytes and scrubs."""
    puts.start([rng.getrandbits(64) for _ in range(3)])
    time.sleep(3)
    figures["kills"], figures["wipes"] = fault_phase(cluster, rng, profile)
    time.sleep(3)
    cluster.revive_dead()
    puts.finish()
    figures["puts acknowledged"] = len(puts.acked)
    figures["put attempts failed"] = puts.failed_attempts
    log(f"put loops stopped: {len(puts.acked)} acknowledged, "
        f"{puts.failed_attempts} attempts failed")
    flips = flip_chunks(cluster, puts.acked, rng, profile.flips)
    figures["flips"] = len(flips)
    return flips, scrub(cluster, flips) if flips else ""


def run(args, tmp):
    build = args.build.resolve()
    rng = random.Random(args.seed)
    profile = make_profile(args)
    cluster = Cluster(build, tmp)
    puts = Puts(build, cluster, tmp, profile)
    figures, rows = {}, []
    try:
        for node in cluster.nodes:
            cluster.start(node)
        log(f"cluster up: {cluster.addresses()}")
        flips, scrubbed = inject(cluster, puts, rng, profile, figures)
        ok, fig, figures["reads checked"] = check_reads(cluster, puts, tmp)
        rows.append(("(a) every object bit-exact via every node", ok, fig))
        rows.append(("(b) audit verify-node on every node", *check_verify_node(cluster)))
        rows.append(("(c) under-replicated reaches 0 in 90s", *check_convergence(cluster)))
        rows.append(("(d) flipped chunks in object history",
                     *check_flips(cluster, flips, profile.flips, scrubbed)))
    finally:
        puts.stop.set()
        cluster.stop_all()
    rows.append(("(e) no abort, crash or unclean stop", *check_processes(cluster)))
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
    return 0 if all(ok for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
