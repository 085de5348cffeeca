#!/usr/bin/python3
"""How the cost of a put grows with the objects a node holds (issue 27).

Usage: python3 bench/put_growth.py BUILD_DIR [OBJECTS] [STEP] [--dir DIR]

Starts one custodyd (64 KiB chunks) with its metrics on loopback, puts
OBJECTS files of 1 KiB (default 8000) with `custody put` from 4 threads, and
after every STEP (default 1000) prints the node's own mean upload time over
that step (from custody_upload_seconds in /metrics, so the CLI's start-up is
not in it) and the puts per second including the CLI. The data folder is
under DIR (default ./bench-tmp/put-growth) and is deleted at the end.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upload_seconds(metrics_port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    total = float(re.search(r"^custody_upload_seconds_sum (\S+)", text, re.M).group(1))
    count = float(re.search(r"^custody_upload_seconds_count (\S+)", text, re.M).group(1))
    return total, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("objects", nargs="?", type=int, default=8000)
    ap.add_argument("step", nargs="?", type=int, default=1000)
    ap.add_argument("--dir", default="bench-tmp/put-growth")
    a = ap.parse_args()
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(f"{a.dir}/files")
    port, metrics = free_port(), free_port()
    node = subprocess.Popen(
        [f"{a.build}/custodyd", "--data", f"{a.dir}/data", "--listen", f"127.0.0.1:{port}",
         "--insecure-loopback", "--metrics-listen", f"127.0.0.1:{metrics}", "--chunk-size",
         "64KiB"], stdout=open(f"{a.dir}/node.log", "w"), stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)

        def put(i):
            path = f"{a.dir}/files/f{i}"
            with open(path, "wb") as f:
                f.write(os.urandom(1024))
            r = subprocess.run([f"{a.build}/custody", "--server", f"127.0.0.1:{port}", "put",
                                path], capture_output=True)
            os.unlink(path)
            return r.returncode

        done = 0
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            while done < a.objects:
                s0, c0 = upload_seconds(metrics)
                t0 = time.time()
                failed = sum(1 for rc in pool.map(put, range(done, done + a.step)) if rc)
                s1, c1 = upload_seconds(metrics)
                done += a.step
                print(f"objects {done:7d}: mean upload {1000 * (s1 - s0) / max(1, c1 - c0):.2f} ms "
                      f"on the node, {a.step / (time.time() - t0):.0f} puts/s with the CLI, "
                      f"{failed} failed", flush=True)
    finally:
        node.terminate()
        node.wait()
        shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
