#!/usr/bin/python3
"""Echo servers for the scenarios: every line of a TCP connection and every
UDP datagram comes back, prefixed with "TEXT:" when --say TEXT is given, so
that a test can tell which server answered (a reroute's target, say).
One process, no fork per client.
usage: echo.py [--say TEXT] [--bind ADDR] tcp/PORT|udp/PORT..."""
import asyncio
import socket
import sys


def parse(argv):
    say, bind, ports = b"", "::", []
    i = 0
    while i < len(argv):
        if argv[i] in ("--say", "--bind") and i + 1 < len(argv):
            if argv[i] == "--say":
                say = argv[i + 1].encode() + b":"
            else:
                bind = argv[i + 1]
            i += 2
            continue
        proto, _, port = argv[i].partition("/")
        if proto not in ("tcp", "udp") or not port.isdigit():
            sys.exit(__doc__)
        ports.append((proto, int(port)))
        i += 1
    if not ports:
        sys.exit(__doc__)
    return say, bind, ports


def make_socket(kind, bind, port):
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, kind)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))
    return sock


class Echo(asyncio.DatagramProtocol):
    def __init__(self, say):
        self.say = say
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(self.say + data, addr)


async def main():
    say, bind, ports = parse(sys.argv[1:])

    async def serve(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                writer.write(say + line)
                await writer.drain()
        except OSError:
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
            await loop.create_datagram_endpoint(lambda: Echo(say), sock=sock)
    await asyncio.gather(*(s.serve_forever() for s in servers), asyncio.Event().wait())


asyncio.run(main())
