#!/usr/bin/env python3
"""A TCP proxy that behaves like a weak island link, for the transfer tests and benchmark.

It forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET (TLS passes through untouched) and can:
  --cut-up N      reset a connection once N bytes went client->server on it
  --cut-down N    reset a connection once N bytes went server->client on it
  --cuts K        do that to the first K connections that get so far (then pass everything)
  --rate BPS      forward at most BPS bytes a second in each direction, per connection
  --stall-after N --stall S   stop forwarding for S seconds once N bytes went either way
Totals (bytes each way, connections, cuts) are written to --stats FILE as JSON whenever a
connection ends, so a test can compare what was sent with the file's size.
"""
import argparse
import asyncio
import json
import socket
import struct
import time

parser = argparse.ArgumentParser()
parser.add_argument("listen", type=int)
parser.add_argument("target", type=int)
parser.add_argument("--cut-up", type=int, default=0)
parser.add_argument("--cut-down", type=int, default=0)
parser.add_argument("--cuts", type=int, default=0)
parser.add_argument("--rate", type=int, default=0)
parser.add_argument("--stall-after", type=int, default=0)
parser.add_argument("--stall", type=float, default=0)
parser.add_argument("--stats", default="")
args = parser.parse_args()

totals = {"up": 0, "down": 0, "connections": 0, "cuts": 0}


def save_stats():
    if args.stats:
        with open(args.stats + ".tmp", "w") as f:
            json.dump(totals, f)
        import os
        os.replace(args.stats + ".tmp", args.stats)


def reset(writer):
    """Closes with a TCP reset, as a dropped radio link looks to both ends."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def handle(client_reader, client_writer):
    totals["connections"] += 1
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", args.target)
    except OSError:
        reset(client_writer)
        return
    state = {"moved": 0, "stalled": False, "cut": False}

    async def pump(reader, writer, direction, cut_at):
        passed = 0
        started = time.monotonic()
        try:
            while not state["cut"]:
                data = await reader.read(16384)
                if not data:
                    break
                if cut_at and totals["cuts"] < args.cuts and passed + len(data) >= cut_at:
                    keep = cut_at - passed
                    if keep > 0:
                        writer.write(data[:keep])
                        totals[direction] += keep
                        await writer.drain()
                    totals["cuts"] += 1
                    state["cut"] = True
                    reset(client_writer)
                    reset(server_writer)
                    return
                if args.stall_after and not state["stalled"] and state["moved"] + len(data) >= args.stall_after:
                    state["stalled"] = True
                    await asyncio.sleep(args.stall)
                writer.write(data)
                passed += len(data)
                state["moved"] += len(data)
                totals[direction] += len(data)
                await writer.drain()
                if args.rate:
                    ahead = passed / args.rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            if not state["cut"]:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass

    await asyncio.gather(
        pump(client_reader, server_writer, "up", args.cut_up),
        pump(server_reader, client_writer, "down", args.cut_down),
    )
    for w in (client_writer, server_writer):
        try:
            w.close()
        except OSError:
            pass
    save_stats()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    save_stats()
    async with server:
        await server.serve_forever()


asyncio.run(main())
