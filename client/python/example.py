#!/usr/bin/env python3
"""Puts a file into a custody node, gets it back verified, and shows its facts.

    CUSTODY_PY_GEN=build/client/python/gen PYTHONPATH=client/python \
        python3 client/python/example.py 127.0.0.1:7443 clip.mp4
"""
import os
import sys
import tempfile

from custody_client import Client


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: example.py HOST:PORT FILE")
    address, path = sys.argv[1], sys.argv[2]
    c = Client(address, tls_dir=os.environ.get("CUSTODY_TLS"))
    stored = c.put(path, {"note": "from the Python example"})
    print("stored", stored["id"], "(already held)" if stored["already_stored"] else "")
    out = os.path.join(tempfile.mkdtemp(), os.path.basename(path))
    c.get(stored["id"], out)
    print("got it back, verified:", out)
    info = c.stat(stored["id"])
    print("size", info.size, "chunks", info.chunk_count, "name", info.file_name)


if __name__ == "__main__":
    main()
