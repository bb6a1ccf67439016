#!/usr/bin/python3
"""Answers every TCP connection and every UDP datagram with one line
(default "ok").  One process, no fork per client, so a burst is served at
once and the answer never races the request (as socat's SYSTEM: does when
the shell exits before the request is written to it).
usage: oksrv.py [--say TEXT] [--bind ADDR] PORT|udp/PORT...
ADDR defaults to "::", which takes IPv4 too."""
import asyncio
import socket
import sys


def parse(argv):
    say, bind, ports = "ok", "::", []
    i = 0
    while i < len(argv):
        if argv[i] in ("--say", "--bind") and i + 1 < len(argv):
            if argv[i] == "--say":
                say = argv[i + 1]
            else:
                bind = argv[i + 1]
            i += 2
            continue
        proto, _, port = argv[i].rpartition("/")
        if proto not in ("", "tcp", "udp") or not port.isdigit():
            sys.exit(__doc__)
        ports.append((proto or "tcp", int(port)))
        i += 1
    if not ports:
        sys.exit(__doc__)
    return (say + "\n").encode(), bind, ports


def make_socket(kind, bind, port):
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, kind)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))
    return sock


class Echo(asyncio.DatagramProtocol):
    def __init__(self, answer):
        self.answer = answer
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(self.answer, addr)


async def main():
    answer, bind, ports = parse(sys.argv[1:])

    async def serve(reader, writer):
        # Answer, send FIN, then read what the client sent until it closes:
        # closing with unread data would send a reset in place of the FIN.
        writer.write(answer)
        try:
            await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(reader.read(), 2)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    loop = asyncio.get_running_loop()
    servers = []
    for proto, port in ports:
        if proto == "tcp":
            sock = make_socket(socket.SOCK_STREAM, bind, port)
            servers.append(await asyncio.start_server(serve, sock=sock, backlog=1024))
        else:
            sock = make_socket(socket.SOCK_DGRAM, bind, port)
            await loop.create_datagram_endpoint(lambda: Echo(answer), sock=sock)
    await asyncio.gather(*(s.serve_forever() for s in servers), asyncio.Event().wait())


asyncio.run(main())
