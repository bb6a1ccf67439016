#!/usr/bin/python3
"""Sends malformed DNS messages to a resolver and checks its answers: a
message it cannot read is answered FORMERR with the same id, or not at
all; never anything else.  Prints "sent N formerr N silent N other N".
usage: dnsfuzz.py ADDR PORT COUNT SEED"""
import random
import socket
import struct
import sys

addr, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)


def query(name, qid):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)


def mutate(qid):
    kind = rng.randrange(6)
    base = bytearray(query("www.allowed.test", qid))
    if kind == 0:       # random bytes after a valid header
        return bytes(base[:12]) + bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    if kind == 1:       # a label length pointing past the end
        base[12] = 63
        return bytes(base[:20])
    if kind == 2:       # a compression pointer loop in the question
        return bytes(base[:12]) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    if kind == 3:       # counts that promise records that are not there
        struct.pack_into(">HHHH", base, 4, 1, 5, 3, 9)
        return bytes(base)
    if kind == 4:       # truncated in the middle of the question
        return bytes(base[:rng.randrange(12, len(base) - 1)])
    # flipped bytes, QR and opcode left as a query
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(12, len(base))
        base[i] = rng.randrange(256)
    return bytes(base)


fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(0.3)
formerr = silent = other = 0
for i in range(count):
    qid = rng.randrange(65536)
    msg = mutate(qid)
    s.sendto(msg, (addr, port))
    try:
        data = s.recv(65535)
    except socket.timeout:
        silent += 1
        continue
    if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid and data[2] & 0x80:
        rcode = data[3] & 0x0F
        # FORMERR for what it cannot read; a mutation that stays a valid
        # query gets a real answer (NOERROR, NXDOMAIN, SERVFAIL)
        if rcode == 1:
            formerr += 1
            continue
        if rcode in (0, 2, 3, 4, 5):
            continue
    other += 1
print("sent %d formerr %d silent %d other %d" % (count, formerr, silent, other))
