#!/usr/bin/python3
"""Opens N TCP connections at once to HOST:PORT, reads one line from each.
Prints how many answered "ok" and the milliseconds it took, e.g. "100 35".
usage: conns.py HOST PORT N TIMEOUT"""
import asyncio
import sys
import time


async def one(host, port, timeout):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        line = await asyncio.wait_for(r.readline(), timeout)
        w.close()
        return line.strip() == b"ok"
    except (OSError, asyncio.TimeoutError) as e:
        print("conns.py:", repr(e), file=sys.stderr)
        return False


async def main():
    host, port, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    t0 = time.monotonic()
    res = await asyncio.gather(*(one(host, port, timeout) for _ in range(n)))
    print(sum(res), int((time.monotonic() - t0) * 1000))


asyncio.run(main())
