"""A gateway that lies, for testing what the CLI does with answers it must not trust.

    hostile_gateway.py PORT CERT KEY CA MODE

Serves HTTPS with mutual TLS (the client's certificate must come from CA) on 127.0.0.1:PORT,
until killed. Every GET /v1/packages is answered as MODE says:
  repeat      the same package on every page, with Serambi-Total 99,999,999
  oversized   more packages than the limit asked for
  escapes     one package whose filename and dataset carry terminal escape sequences
  refusal     a 400 problem whose detail carries terminal escape sequences
  notobject   any other GET: 200 with a JSON string carrying escape sequences, not an object
Each request's target is appended to requests.txt in the working directory.
"""
import http.server
import json
import ssl
import sys
import urllib.parse

PORT, CERT, KEY, CA, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


def package(pid, filename="a.csv", dataset="x/y"):
    return {"package_id": pid, "dataset": dataset, "producer": "x", "classification": "biasa",
            "filename": filename, "size": 5, "created_at": "2026-12-01T00:00:00Z", "access": "released"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, total=None, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if total is not None:
            self.send_header("Serambi-Total", str(total))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with open("requests.txt", "a") as f:
            f.write(self.path + "\n")
        if MODE == "notobject":
            self.answer(200, json.dumps("\x1b]0;owned\x07\x1b[2J\u009bDirilis"))
            return
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        limit = int(query.get("limit", ["1000"])[0])
        if MODE == "repeat":
            self.answer(200, json.dumps([package("a" * 32)]), 99999999)
        elif MODE == "oversized":
            self.answer(200, json.dumps([package("%032x" % i) for i in range(limit + 5)]), 100)
        elif MODE == "escapes":
            evil = package("b" * 32, filename="\x1b]0;owned\x07\x1b[2Jlaporan\u009b31m.csv", dataset="x/\x1b[31my")
            self.answer(200, json.dumps([evil]), 1)
        elif MODE == "refusal":
            problem = {"title": "Bad Request", "status": 400, "detail": "no \x1b[2J\x1b]0;owned\x07 such thing",
                       "request_id": "\x1b[31m0123"}
            self.answer(400, json.dumps(problem), content_type="application/problem+json")
        else:
            self.answer(404, "{}")


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
context.load_verify_locations(CA)
context.verify_mode = ssl.CERT_REQUIRED
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
