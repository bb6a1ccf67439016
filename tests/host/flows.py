#!/usr/bin/python3
"""Opens new UDP flows to HOST:PORT one after another for SECONDS, each
from a new socket (a new conntrack entry, so a new verdict), and prints how
many got their echo and the longest wait between two answered ones in
milliseconds, e.g. "1234 8".
usage: flows.py HOST PORT SECONDS"""
import socket
import sys
import time


def main():
    host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    t0 = last = time.monotonic()
    n, gap = 0, 0.0
    while time.monotonic() - t0 < secs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        try:
            s.sendto(b"x\n", (host, port))
            s.recv(64)
            now = time.monotonic()
            gap = max(gap, now - last)
            last = now
            n += 1
        except OSError:
            pass
        finally:
            s.close()
    print(n, int(gap * 1000))


main()
