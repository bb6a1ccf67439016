#!/usr/bin/python3
"""Answers every TCP connection on [::]:PORT with "ok\\n" and closes it.
One process, no fork per connection, so a burst of connections is served
at once.  usage: oksrv.py PORT"""
import asyncio
import socket
import sys


async def serve(reader, writer):
    writer.write(b"ok\n")
    try:
        await writer.drain()
    finally:
        writer.close()


async def main():
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::", int(sys.argv[1])))
    server = await asyncio.start_server(serve, sock=sock, backlog=1024)
    async with server:
        await server.serve_forever()


asyncio.run(main())
