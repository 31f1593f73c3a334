#!/usr/bin/env python3
"""An HTTPS receiver of Standard Webhooks deliveries, for the end-to-end tests (stdlib only).

    webhook_receiver.py --port PORT --cert CERT --key KEY --secret-file FILE --log FILE
                        [--also-ipv6] [--verbose]

Listens on 127.0.0.1:PORT (and, with --also-ipv6, on [::1]:PORT too when it can: a gateway that
resolves "localhost" to ::1 first then still reaches it), TLS with CERT and KEY. Prints
"listening" on standard output once ready.

Every request appends one JSON line to the log (flushed at once), written BEFORE the answer is
sent, so that whoever got the answer can find the line:
  path, method, webhook_id, webhook_timestamp, signature_ok, secret_known, body (parsed JSON, or null),
  status (what it answered), attempt (how many requests this path has had with this
  webhook-id, this one included), body_sha256, body_bytes, content_type, user_agent, sni (the
  TLS server name the client sent, or null), received_at (unix seconds, float), and
  body_error when the body is not JSON.

signature_ok is checked here, independently of the gateway, as Standard Webhooks says: the key
is the base64 decoding of the secret after "whsec_"; HMAC-SHA256 over
webhook-id + "." + webhook-timestamp + "." + the raw body; base64; compared in constant time
with every "v1,<base64>" in the space-separated webhook-signature header.

The secret file holds lines "PATH_PREFIX SECRET" (blank lines and # comments ignored); it is
read again for every request, and the longest prefix of the request's path picks the secret. A
test can only write a hook's secret once the gateway has answered its registration, and an event
may be delivered in between: a request whose path has no secret yet waits up to --secret-wait
seconds (default 2) for one to appear before it is judged (secret_known in the log says whether
one was found).

Answers by path:
  /ok/...           204
  /fail-twice/...   500 to the first two attempts of each webhook-id, 204 after
  /fail-always/...  503
  /redirect/...     302, Location https://localhost:PORT/ok/followed<path> (a follower shows up
                    in the log at that path)
  anything else     404;  methods other than POST: 405;  bodies over 1 MiB: 413 (not read).
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import socket
import ssl
import sys
import threading
import time

MAX_BODY = 1 << 20


class TooLarge(Exception):
    pass


def read_secrets(path):
    """[(prefix, secret)] from the secret file; none if it does not exist (yet)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) == 2:
            pairs.append((fields[0], fields[1]))
    return pairs


def secret_for(path, pairs):
    best = None
    for prefix, secret in pairs:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, secret)
    return best[1] if best else None


def signature_ok(secret, msg_id, timestamp, body, header):
    """Standard Webhooks verification; False for anything missing or malformed."""
    if not secret or not secret.startswith("whsec_") or not msg_id or not timestamp or not header:
        return False
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except (ValueError, TypeError):
        return False
    if not key:
        return False
    # Header values come in as ISO-8859-1 text; back to the bytes that were sent.
    try:
        signed = msg_id.encode("latin-1") + b"." + timestamp.encode("latin-1") + b"." + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
        candidates = [part.encode("latin-1") for part in header.split(" ")]
    except UnicodeEncodeError:
        return False
    ok = False
    for candidate in candidates:
        version, comma, sig = candidate.partition(b",")
        if version == b"v1" and comma and sig:
            # Every candidate is compared, so the time taken does not say which one matched.
            ok = hmac.compare_digest(expected, sig) or ok
    return ok


class Receiver:
    """What every listening socket shares: the log, the secrets, the attempt counts."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.attempts = {}
        self.log = open(args.log, "a", encoding="utf-8")

    def count(self, path, msg_id):
        with self.lock:
            key = (path, msg_id)
            self.attempts[key] = self.attempts.get(key, 0) + 1
            return self.attempts[key]

    def write(self, record):
        line = json.dumps(record, sort_keys=True, ensure_ascii=True)
        with self.lock:
            self.log.write(line + "\n")
            self.log.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"
    sys_version = ""
    receiver = None  # set per server class

    def setup(self):
        # The handshake happens here, in this connection's thread, so that a client that stalls
        # or fails it holds up nobody else.
        self.request.settimeout(15)
        self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        if self.receiver.args.verbose:
            sys.stderr.write("receiver: %s %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size_line = self.rfile.readline(100)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY:
                    raise TooLarge()
                body += self.rfile.read(size)
                self.rfile.readline(10)
        length = int(self.headers.get("Content-Length", "0") or "0")
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY:
            raise TooLarge()
        return self.rfile.read(length)

    def answer(self, status, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        if status == 204:
            self.end_headers()
            return
        text = ("%d\n" % status).encode()
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def handle_any(self):
        path = self.path
        msg_id = self.headers.get("webhook-id")
        timestamp = self.headers.get("webhook-timestamp")
        record = {
            "path": path,
            "method": self.command,
            "webhook_id": msg_id,
            "webhook_timestamp": timestamp,
            "content_type": self.headers.get("Content-Type"),
            "user_agent": self.headers.get("User-Agent"),
            "sni": getattr(self.request, "serambi_sni", None),
            "received_at": time.time(),
            "signature_ok": False,
            "secret_known": False,
            "body": None,
            "attempt": self.receiver.count(path, msg_id),
        }
        location = None
        try:
            raw = self.read_body()
        except TooLarge:
            record.update(status=413, body_error="body over %d bytes, not read" % MAX_BODY)
            self.close_connection = True
            self.receiver.write(record)
            self.answer(413)
            return
        except ValueError as e:
            record.update(status=400, body_error="unreadable body: %s" % e)
            self.close_connection = True
            self.receiver.write(record)
            self.answer(400)
            return
        record["body_bytes"] = len(raw)
        record["body_sha256"] = hashlib.sha256(raw).hexdigest()
        try:
            record["body"] = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            record["body_error"] = "not JSON: %s" % e
        secret = secret_for(path, read_secrets(self.receiver.args.secret_file))
        deadline = time.monotonic() + self.receiver.args.secret_wait
        while secret is None and time.monotonic() < deadline:
            time.sleep(0.05)
            secret = secret_for(path, read_secrets(self.receiver.args.secret_file))
        record["secret_known"] = secret is not None
        record["signature_ok"] = signature_ok(secret, msg_id, timestamp, raw,
                                              self.headers.get("webhook-signature"))
        if self.command != "POST":
            status = 405
        elif path.startswith("/ok/"):
            status = 204
        elif path.startswith("/fail-twice/"):
            status = 500 if record["attempt"] <= 2 else 204
        elif path.startswith("/fail-always/"):
            status = 503
        elif path.startswith("/redirect/"):
            status = 302
            location = "https://localhost:%d/ok/followed%s" % (self.receiver.args.port, path)
        else:
            status = 404
        record["status"] = status
        self.receiver.write(record)
        self.answer(status, location)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    context = None

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        sys.stderr.write("receiver: connection from %s: %s: %s\n" %
                         (client_address[0], type(error).__name__, error))


class Server6(Server):
    address_family = socket.AF_INET6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--secret-wait", type=float, default=2.0,
                        help="how long a request whose path has no secret yet waits for one (seconds)")
    parser.add_argument("--also-ipv6", action="store_true", help="listen on [::1]:PORT as well, if possible")
    parser.add_argument("--verbose", action="store_true", help="a line on stderr for every request")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)

    def remember_sni(sock, server_name, _context):
        sock.serambi_sni = server_name

    context.sni_callback = remember_sni
    receiver = Receiver(args)
    handler = type("BoundHandler", (Handler,), {"receiver": receiver})

    servers = []
    Server.context = context
    servers.append(Server(("127.0.0.1", args.port), handler))
    if args.also_ipv6:
        try:
            servers.append(Server6(("::1", args.port), handler))
        except OSError as e:
            sys.stderr.write("receiver: not listening on [::1]:%d: %s\n" % (args.port, e))
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening", flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
