#!/usr/bin/env python3
"""The Python client (client/python) against a real custodyd on loopback:
put, get verified, stat, list, a resumed upload, the finished upload's id
from QueryUpload, and a refusal as a gRPC status.

    python3 tests/python/python_client_test.py BUILD_DIR

Exits 77 (skipped) without Debian's python3-grpcio.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    build = os.path.abspath(sys.argv[1])
    try:
        import grpc  # noqa: F401
    except ImportError:
        print("python3-grpcio is not installed: skipped")
        return 77
    os.environ["CUSTODY_PY_GEN"] = os.path.join(build, "client", "python", "gen")
    sys.path.insert(0, os.path.join(ROOT, "client", "python"))
    from custody_client import Client
    import grpc

    tmp = tempfile.mkdtemp(prefix="custody-py-")
    port = free_port()
    node = subprocess.Popen([os.path.join(build, "custodyd"), "--data", os.path.join(tmp, "data"),
                             "--listen", "127.0.0.1:%d" % port, "--insecure-loopback",
                             "--chunk-size", "1MiB"],
                            stdout=open(os.path.join(tmp, "node.out"), "w"),
                            stderr=open(os.path.join(tmp, "node.log"), "w"))
    try:
        c = Client("127.0.0.1:%d" % port)
        for _ in range(100):
            try:
                list(c.objects())
                break
            except grpc.RpcError:
                time.sleep(0.1)
        path = os.path.join(tmp, "clip.mp4")
        data = os.urandom((5 << 20) + 321)
        open(path, "wb").write(data)
        want = "sha256:" + hashlib.sha256(data).hexdigest()

        # A broken upload: three whole chunks, then the stream stops.
        pb = c._pb
        header = pb.UploadHeader(upload_id="py-resume", file_name="clip.mp4", size=len(data),
                                 metadata={"device": "D1"})
        msgs = [pb.UploadRequest(header=header)] + \
               [pb.UploadRequest(data=data[i:i + (1 << 20)]) for i in range(0, 3 << 20, 1 << 20)]
        try:
            c._stub.Upload(iter(msgs), timeout=30)
            check(False, "a stream without its finish message is refused")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "a stream without finish: %s" %
                  e.details())
        held = c.query_upload("py-resume").committed_size
        check(held == 3 << 20, "the node kept the 3 whole chunks (%d bytes)" % held)
        stored = c.put(path, {"device": "D1"}, upload_id="py-resume")
        check(stored["id"] == want and stored["resumed_from"] == 3 << 20,
              "put resumed at byte %d and the id is the file's SHA-256" % stored["resumed_from"])
        q = c.query_upload("py-resume")
        check(q.completed and q.object_id == want, "QueryUpload names the finished upload's object")

        out = os.path.join(tmp, "back.mp4")
        c.get(want, out)
        check(open(out, "rb").read() == data, "get wrote the object, verified")
        try:
            c.get(want, out)
            check(False, "get refuses an existing file")
        except FileExistsError:
            check(True, "get never overwrites a file")
        info = c.stat(want)
        check(info.size == len(data) and info.metadata["device"] == "D1", "stat: size and metadata")
        check([o.id for o in c.objects()] == [want], "list: the one object")
        try:
            c.stat("sha256:" + "0" * 64)
            check(False, "an unknown object is NOT_FOUND")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.NOT_FOUND, "an unknown object is NOT_FOUND")
        again = c.put(path)
        check(again["already_stored"], "the same bytes again are already stored")
        example = subprocess.run([sys.executable, os.path.join(ROOT, "client", "python",
                                                              "example.py"),
                                  "127.0.0.1:%d" % port, path],
                                 env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "client",
                                                                              "python")),
                                 capture_output=True, text=True, timeout=120)
        check(example.returncode == 0 and "verified" in example.stdout,
              "the example runs: " + example.stdout.strip().replace("\n", " | ") + example.stderr)
        c.close()
        return 0
    finally:
        node.terminate()
        node.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
