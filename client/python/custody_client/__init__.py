"""A small Python client of a custody node's public API (custody.v1.Custody).

    from custody_client import Client
    c = Client("127.0.0.1:7443")                       # a plaintext loopback node
    c = Client("node1:7443", tls_dir="~/.custody/me")  # ca.pem, cert.pem, key.pem
    obj = c.put("clip.mp4", {"device": "D1"})          # resumes a broken upload
    c.get(obj["id"], "copy.mp4")                       # verified, never overwrites
    c.stat(obj["id"]); list(c.objects())

The gRPC modules (custody/v1/custody_pb2*.py) are generated at build time
from proto/ (client/python/CMakeLists.txt); put their folder on sys.path
(CUSTODY_PY_GEN, or the `gen` argument of add_generated_path).
Errors are grpc.RpcError with the node's status code and message (the codes
are listed at the top of proto/custody/v1/custody.proto), or ValueError for
a file that does not hash to what the node returned.
"""

import hashlib
import os
import sys

CHUNK = 1 << 20  # bytes per data message (the node takes at most 1 MiB)


def add_generated_path(gen=None):
    """Makes `import custody.v1.custody_pb2` work (gen: the generated folder)."""
    gen = gen or os.environ.get("CUSTODY_PY_GEN")
    if gen and gen not in sys.path:
        sys.path.insert(0, gen)


def _modules():
    add_generated_path()
    from custody.v1 import custody_pb2, custody_pb2_grpc  # noqa: E402
    return custody_pb2, custody_pb2_grpc


def _sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


class Client:
    """One node's Custody service. Not thread-safe; one per thread."""

    def __init__(self, address, tls_dir=None, token=None, timeout=60.0):
        import grpc
        self._pb, pb_grpc = _modules()
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if tls_dir:
            tls_dir = os.path.expanduser(tls_dir)
            def read(name):
                p = os.path.join(tls_dir, name)
                return open(p, "rb").read() if os.path.exists(p) else None
            creds = grpc.ssl_channel_credentials(read("ca.pem"), read("key.pem"), read("cert.pem"))
            self._channel = grpc.secure_channel(address, creds, options)
        else:
            self._channel = grpc.insecure_channel(address, options)
        self._stub = pb_grpc.CustodyStub(self._channel)
        # The node reads a bearer token from the "authorization" metadata key.
        self._metadata = [("authorization", "Bearer " + token)] if token else []
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def query_upload(self, upload_id):
        """How much of an upload the node holds (completed/object_id once done)."""
        req = self._pb.QueryUploadRequest(upload_id=upload_id)
        return self._stub.QueryUpload(req, metadata=self._metadata, timeout=self._timeout)

    def put(self, path, metadata=None, upload_id=None, media_type=""):
        """Uploads `path`, resuming a broken upload of the same id from the
        node's committed size. Returns {"id", "size", "already_stored"}; the
        id is checked against the file's own SHA-256."""
        size = os.path.getsize(path)
        want = _sha256_of(path)
        upload_id = upload_id or "py-" + want[7:39]
        q = self.query_upload(upload_id)
        offset = 0 if q.completed else q.committed_size
        header = self._pb.UploadHeader(upload_id=upload_id, file_name=os.path.basename(path),
                                       size=size, media_type=media_type,
                                       metadata=metadata or {}, offset=offset)

        def messages():
            yield self._pb.UploadRequest(header=header)
            with open(path, "rb") as f:
                f.seek(offset)
                for block in iter(lambda: f.read(CHUNK), b""):
                    yield self._pb.UploadRequest(data=block)
            yield self._pb.UploadRequest(finish=self._pb.UploadFinish(sha256=want))

        resp = self._stub.Upload(messages(), metadata=self._metadata, timeout=self._timeout)
        if resp.id != want:
            raise ValueError("the node answered %s but the file hashes to %s" % (resp.id, want))
        return {"id": resp.id, "size": resp.size, "already_stored": resp.already_stored,
                "resumed_from": offset}

    def get(self, object_id, out_path):
        """Writes the object to `out_path`, which must not exist: the bytes
        go to a temporary file and are renamed into place only if they hash
        to `object_id`."""
        if os.path.lexists(out_path):
            raise FileExistsError("%s exists; custody never overwrites a file" % out_path)
        tmp = "%s.partial-%d" % (out_path, os.getpid())
        h = hashlib.sha256()
        try:
            with open(tmp, "xb") as f:
                req = self._pb.DownloadRequest(id=object_id)
                for msg in self._stub.Download(req, metadata=self._metadata, timeout=self._timeout):
                    f.write(msg.data)
                    h.update(msg.data)
                f.flush()
                os.fsync(f.fileno())
            if "sha256:" + h.hexdigest() != object_id:
                raise ValueError("received bytes hash to sha256:%s, not %s" %
                                 (h.hexdigest(), object_id))
            os.rename(tmp, out_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def stat(self, object_id):
        return self._stub.Stat(self._pb.StatRequest(id=object_id), metadata=self._metadata,
                               timeout=self._timeout)

    def objects(self):
        """Every object, page by page."""
        token = ""
        while True:
            resp = self._stub.List(self._pb.ListRequest(page_token=token),
                                   metadata=self._metadata, timeout=self._timeout)
            yield from resp.objects
            token = resp.next_page_token
            if not token:
                return
