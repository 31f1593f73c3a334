#!/usr/bin/env python3
"""An SMTP relay that keeps what it is given, for the end-to-end tests (aiosmtpd).

    smtp_sink.py --port PORT [--port-file FILE] --out DIR --log FILE
                 [--cert CERT --key KEY [--implicit-tls]] [--user USER --password PASSWORD]
                 [--auth-without-tls]

Listens on 127.0.0.1:PORT (0: a free port, printed and written to --port-file). Prints
"listening PORT" on standard output once ready.

  --cert/--key        STARTTLS is offered, and required before MAIL (RFC 3207); without them the
                      sink offers no STARTTLS at all.
  --implicit-tls      with --cert/--key: TLS from the first byte instead (port-465 style).
  --user/--password   AUTH (PLAIN, LOGIN) is required before MAIL; it is offered only inside TLS
                      unless --auth-without-tls, which makes the sink a honeypot that would take
                      a password in the clear (a client must still not send one).

Each message accepted is saved as DIR/N.eml (the raw content bytes, as received after the dot
un-stuffing) and DIR/N.json: {"mail_from", "rcpt_tos", "tls" (whether the session was inside
TLS when DATA came), "tls_version", "login" (the AUTH user, or null), "received_at"}. N counts
from 1; the .json is written after the .eml, so a test that finds N.json can read N.eml.

Every line a client sends outside DATA is appended to --log as "C<conn> > LINE", every reply as
"C<conn> < REPLY", and connections as "C<conn> connected" / "C<conn> tls <version>": AUTH
payloads are never written (the line shows "AUTH PLAIN ***", a line answering a 334 shows "***").

Answers by recipient:
  tempfail-twice+...@DOMAIN   451 at RCPT the first two times that address is seen, then 250
  reject@DOMAIN               550 at RCPT, naming the address as Postfix does
  tempfail-data+...@DOMAIN    451 at the end of DATA (the message read, then refused, not saved)
                              to the first two notices for that address, then 250
  reject-data@DOMAIN          550 at the end of DATA to every notice, naming the address
  anything else               250
A notice is a message whose X-Serambi-Event header is not address.confirm: an address's
confirmation email is always accepted, so that the address can be confirmed and then refuse the
notices that follow. A message for several recipients is refused if any of them refuses it.
"""
import argparse
import email
import email.policy
import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    """What every connection shares: counters, the log, the output folder."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.connections = 0
        self.messages = 0
        self.seen = {}
        self.log_file = open(args.log, "a", encoding="utf-8")

    def log(self, conn, text):
        with self.lock:
            self.log_file.write("C%d %s\n" % (conn, text))
            self.log_file.flush()

    def next_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def times_seen(self, address, step="RCPT"):
        """How many times ADDRESS was seen at STEP, this one included."""
        key = (step, address)
        with self.lock:
            self.seen[key] = self.seen.get(key, 0) + 1
            return self.seen[key]

    def save(self, raw, record):
        with self.lock:
            self.messages += 1
            n = self.messages
        path = os.path.join(self.args.out, "%d" % n)
        with open(path + ".eml.tmp", "wb") as f:
            f.write(raw)
        os.rename(path + ".eml.tmp", path + ".eml")
        with open(path + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, sort_keys=True)
        os.rename(path + ".json.tmp", path + ".json")
        return n


class Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith("tempfail-twice+") and self.sink.times_seen(address.lower()) <= 2:
            return "451 4.3.0 <%s>: Temporary lookup failure" % address
        if local == "reject":
            return ("550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table"
                    % address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    def refusal_after_data(self, envelope, raw):
        """The reply refusing the message at the end of DATA, or None to accept it."""
        headers = email.message_from_bytes(raw, policy=email.policy.default)
        if (headers.get("X-Serambi-Event") or "").strip() == "address.confirm":
            return None
        for address in envelope.rcpt_tos:
            local = address.rsplit("@", 1)[0].lower()
            if local.startswith("tempfail-data+") and self.sink.times_seen(address.lower(), "DATA") <= 2:
                return "451 4.3.0 <%s>: Temporary failure after the message, try again later" % address
            if local == "reject-data":
                # 5.2.1, the mailbox disabled: the address's own refusal, final (a 5.7.x policy
                # refusal would be the operator's to fix, and retried).
                return "550 5.2.1 <%s>: Mailbox disabled, not accepting messages" % address
        return None

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": tls is not None,
            "tls_version": tls.version() if tls is not None else None,
            "login": login,
            "received_at": time.time(),
        }
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        refusal = self.refusal_after_data(envelope, raw)
        if refusal:
            return refusal
        n = self.sink.save(raw, record)
        return "250 2.0.0 Ok: queued as %d" % n


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP, writing each command line and reply to the sink's log."""

    sink = None  # set per server class

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conn = self.sink.next_connection()
        self.in_data = False
        self.mask_next = False
        self.tls_logged = False

    def connection_made(self, transport):
        super().connection_made(transport)
        tls = transport.get_extra_info("ssl_object")
        if tls is not None and not self.tls_logged:
            self.tls_logged = True
            self.sink.log(self.conn, "tls %s" % tls.version())

    def _client_connected_cb(self, reader, writer):
        super()._client_connected_cb(reader, writer)
        self.sink.log(self.conn, "connected")
        original = reader.readuntil

        async def readuntil(separator=b"\n"):
            line = await original(separator)
            self.note(line)
            return line

        reader.readuntil = readuntil

    def note(self, line):
        text = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        if self.in_data:
            if text == ".":
                self.in_data = False
            return
        if self.mask_next:
            self.mask_next = False
            self.sink.log(self.conn, "> ***")
            return
        if text.upper().startswith("AUTH"):
            words = text.split()
            text = " ".join(words[:2]) + (" ***" if len(words) > 2 else "")
        self.sink.log(self.conn, "> " + text)

    async def push(self, status):
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        if text.startswith("354"):
            self.in_data = True
        if text.startswith("334"):
            self.mask_next = True
        self.sink.log(self.conn, "< " + text)
        await super().push(status)
        tls = self.transport.get_extra_info("ssl_object") if self.transport else None
        if tls is not None and not self.tls_logged:
            self.tls_logged = True
            self.sink.log(self.conn, "tls %s" % tls.version())


class SinkController(Controller):
    def factory(self):
        return LoggingSMTP(self.handler, **self.SMTP_kwargs)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--auth-without-tls", action="store_true")
    args = parser.parse_args()
    if bool(args.cert) != bool(args.key) or (args.implicit_tls and not args.cert):
        parser.error("--cert and --key go together, and --implicit-tls needs them")
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    os.makedirs(args.out, exist_ok=True)
    # aiosmtpd's own logging and its warning about AUTH without TLS (the honeypot wants just that)
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    sink = Sink(args)
    LoggingSMTP.sink = sink
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login == args.user.encode("utf-8") and
              auth_data.password == args.password.encode("utf-8"))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    kwargs = dict(server_hostname="smtp-sink.test", data_size_limit=1 << 20)
    if context is not None and args.implicit_tls:
        kwargs["ssl_context"] = context
    elif context is not None:
        kwargs.update(tls_context=context, require_starttls=True)
    if args.user:
        # aiosmtpd counts only STARTTLS as TLS: with TLS from the first byte every exchange is
        # inside TLS already.
        kwargs.update(authenticator=authenticate, auth_required=True,
                      auth_require_tls=not (args.auth_without_tls or args.implicit_tls))

    port = args.port or free_port()
    for _ in range(20):
        controller = SinkController(Handler(sink), hostname="127.0.0.1", port=port, **kwargs)
        try:
            controller.start()
            break
        except OSError:
            if args.port:
                raise
            port = free_port()
    else:
        sys.exit("smtp_sink: no free port")
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print("listening %d" % port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
