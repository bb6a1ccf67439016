#!/usr/bin/python3
"""The resolver's bounds from outside.
  dnsbounds.py queries ADDR N: N different questions at once on UDP; prints
      "servfail S other O silent Q" after 1.5 s
  dnsbounds.py tcp ADDR N: opens N TCP connections, then asks one question
      on the last; prints "refused R answered A" (R: connections the server
      closed at once)"""
import socket
import struct
import sys
import time


def query(name, qid):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)


mode, addr, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "queries":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        s.sendto(query("q%d.bounds.test" % i, i + 1), (addr, 53))
    servfail = other = 0
    end = time.time() + 1.5
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if len(d) >= 4 and d[3] & 0x0F == 2:
            servfail += 1
        else:
            other += 1
    print("servfail %d other %d silent %d" % (servfail, other, n - servfail - other))
else:
    conns, refused = [], 0
    for i in range(n):
        c = socket.create_connection((addr, 53), timeout=2)
        conns.append(c)
    time.sleep(0.5)
    for c in conns:
        c.setblocking(False)
        try:
            if c.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            refused += 1
    q = query("web.target.test", 77)
    first = conns[0]
    first.setblocking(True)
    first.settimeout(3)
    first.sendall(struct.pack(">H", len(q)) + q)
    try:
        answered = 1 if len(first.recv(4096)) > 2 else 0
    except OSError:
        answered = 0
    print("refused %d answered %d" % (refused, answered))
