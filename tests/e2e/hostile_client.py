"""Clients that misbehave on purpose, for the end-to-end tests of the gateway's limits.

Each subcommand prints one line of results that the calling script checks. Every loop is bounded
in count and time, and every address is on the loopback range.
"""
import argparse
import os
import socket
import ssl
import sys
import time


def tls_context(profile):
    ctx = ssl.create_default_context(cafile=f"{profile}/ca.crt")
    ctx.check_hostname = False
    ctx.load_cert_chain(f"{profile}/client.crt", f"{profile}/client.key")
    return ctx


def connect_tls(host, port, profile, source="127.0.0.1"):
    raw = socket.create_connection((host, port), timeout=10, source_address=(source, 0))
    return tls_context(profile).wrap_socket(raw, server_hostname=host)


def read_response(sock, limit=1 << 20):
    """The status line and how the connection ended, reading until close or a full response."""
    data = b""
    sock.settimeout(20)
    try:
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if len(body) >= length:
                    break
    except (socket.timeout, ConnectionError, ssl.SSLError):
        pass
    return data


def is_closed(sock, wait=3.0):
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except socket.timeout:  # before OSError, of which it is a kind
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


def idle_sockets(args):
    """Opens N plain TCP connections from one loopback address and holds them: how many the
    gateway kept open (waiting for a handshake) after a moment."""
    held = []
    for _ in range(args.count):
        try:
            held.append(socket.create_connection((args.host, args.port), timeout=5, source_address=(args.source, 0)))
        except OSError:
            pass
    if args.go:
        # Many flooders, started one by one on a loaded machine, connect over several seconds.
        # Each says when its sockets are open and counts only once the caller says all are, so
        # that every count is taken at the same moment: when the bound must hold for all of them.
        with open(args.ready, "w") as marker:
            marker.write("connected\n")
        deadline = time.monotonic() + 120
        while not os.path.exists(args.go) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # for the gateway to accept and sort the last of them
        print(sum(1 for s in held if not is_closed(s, 0.05)), flush=True)
    else:
        # Counted 3 s after the last connect: long enough for a loaded gateway to have accepted and
        # sorted them all, short enough that its handshake deadline has not closed the kept ones.
        time.sleep(3.0)
        print(sum(1 for s in held if not is_closed(s, 0.05)), flush=True)
        # The caller waits for this file before it checks that others still get in, so a slow
        # machine cannot turn the check into a race with sockets still being opened.
        if args.ready:
            with open(args.ready, "w") as marker:
                marker.write("ready\n")
    time.sleep(args.hold)


def idle_tls(args):
    """Opens N authenticated connections and leaves them idle; then opens one more, sends a
    request on it and reports its status and how many of the idle ones the gateway closed."""
    idle = [connect_tls(args.host, args.port, args.profile) for _ in range(args.count)]
    for s in idle:
        s.do_handshake()
    time.sleep(0.5)
    extra = connect_tls(args.host, args.port, args.extra_profile or args.profile)
    extra.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: gateway\r\n\r\n")
    reply = read_response(extra)
    status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    closed = sum(1 for s in idle if is_closed(s, 1.0))
    print(f"{status.replace(' ', '_')} {closed}", flush=True)


def trickle(args):
    """Starts a push and sends one byte every `interval` seconds: how long until the gateway
    closes the connection (or 'alive' after `limit` seconds)."""
    s = connect_tls(args.host, args.port, args.profile)
    s.sendall((f"POST {args.path} HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100000\r\n"
               "Serambi-Filename: slow.bin\r\n\r\n").encode())
    started = time.monotonic()
    while time.monotonic() - started < args.limit:
        try:
            s.sendall(b"x")
        except (ConnectionError, ssl.SSLError, OSError):
            break
        if is_closed(s, args.interval):
            break
    elapsed = time.monotonic() - started
    print(f"{elapsed:.1f}" if elapsed < args.limit else "alive", flush=True)


def chunk_extension(args):
    """A chunked push whose first chunk line carries an endless extension: the status the gateway
    answers (or 'closed') and how many bytes it took before it stopped reading."""
    s = connect_tls(args.host, args.port, args.profile)
    s.sendall((f"POST {args.path} HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n"
               "Serambi-Filename: x.bin\r\n\r\n10;ext=").encode())
    sent = 0
    block = b"a" * 65536
    s.settimeout(5)
    try:
        while sent < args.megabytes << 20:
            s.sendall(block)
            sent += len(block)
    except (ConnectionError, ssl.SSLError, OSError, socket.timeout):
        pass
    reply = read_response(s)
    status = reply.split(b"\r\n", 1)[0].decode(errors="replace") if reply else "closed"
    print(f"{status.replace(' ', '_')} {sent}", flush=True)


def raw_request(args):
    """Sends the bytes of --data (with \\r\\n escapes) on one connection and prints every status
    line the gateway answered, separated by '|'."""
    s = connect_tls(args.host, args.port, args.profile)
    s.sendall(args.data.encode().decode("unicode_escape").encode("latin-1"))
    data = b""
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionError, ssl.SSLError, OSError):
        pass
    # Responses one after another, each framed by its Content-Length.
    statuses = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        statuses.append(lines[0].decode(errors="replace"))
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        data = rest[length:]
    print("|".join(statuses), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--ready", help="file written once the sockets are open")
    parser.add_argument("--go", help="with --ready: count the sockets kept only once this file exists")
    parser.add_argument("--profile")
    parser.add_argument("--extra-profile")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--hold", type=float, default=0)
    parser.add_argument("--path", default="/")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--limit", type=float, default=30.0)
    parser.add_argument("--megabytes", type=int, default=16)
    parser.add_argument("--data", default="")
    args = parser.parse_args()
    commands = {"idle-sockets": idle_sockets, "idle-tls": idle_tls, "trickle": trickle,
                "chunk-extension": chunk_extension, "raw": raw_request}
    commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
