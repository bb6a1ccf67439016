#!/usr/bin/python3
"""A client for the scenarios, whose program the firewall sees as python3.

  client.py udp|tcp HOST PORT [--sport P] [--msg M] [--timeout S]
      sends M (default "hi") from source port P (any when not given) and
      prints the first line of the answer; exit 0, or 1 with "error: ..."
  client.py hold HOST PORT --go FILE [--sport P] [--timeout S]
      a long-lived TCP connection: sends "one", prints "1:ANSWER", waits
      until FILE exists, sends "two", prints "2:ANSWER" (or "2:error: ...")
"""
import os
import socket
import sys
import time


def opts(argv):
    o = {"--sport": "0", "--msg": "hi", "--timeout": "3", "--go": None}
    i = 0
    while i < len(argv):
        if argv[i] not in o or i + 1 >= len(argv):
            sys.exit(__doc__)
        o[argv[i]] = argv[i + 1]
        i += 2
    return o


def sock_for(kind, host, sport):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sport:
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", sport))
    return s


def ask(s, msg, kind, host, port):
    if kind == socket.SOCK_DGRAM:
        s.sendto(msg.encode() + b"\n", (host, port))
        return s.recv(4096).decode().splitlines()[0]
    s.sendall(msg.encode() + b"\n")
    buf = b""
    while b"\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise OSError("connection closed")
        buf += d
    return buf.decode().splitlines()[0]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    o = opts(sys.argv[4:])
    timeout, sport = float(o["--timeout"]), int(o["--sport"])
    kind = socket.SOCK_DGRAM if mode == "udp" else socket.SOCK_STREAM
    try:
        s = sock_for(kind, host, sport)
        s.settimeout(timeout)
        if kind == socket.SOCK_STREAM:
            s.connect((host, port))
        if mode != "hold":
            print(ask(s, o["--msg"], kind, host, port))
            return 0
        print("1:" + ask(s, "one", kind, host, port), flush=True)
    except OSError as e:
        print("error:", e.strerror or e, flush=True)
        return 1
    while not os.path.exists(o["--go"]):
        time.sleep(0.05)
    try:
        print("2:" + ask(s, "two", kind, host, port))
    except OSError as e:
        print("2:error:", e.strerror or e)
    return 0


sys.exit(main())
