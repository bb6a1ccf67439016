#!/usr/bin/env python3
"""pm-flood: a flood of new flows for the module's attack tests.

Sends COUNT packets from SRC to DST, each from a source port of its own
(so each is a new conntrack entry and, for the module, a new flow): TCP
SYNs and UDP datagrams in turn, spread over the destination PORTS (open
and closed ones alike).  Raw sockets, so that thousands go out in seconds
without a process or a socket each.

usage: pm-flood.py SRC DST COUNT PORT[,PORT...]
"""
import random
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ip_header(src, dst, proto, payload_len, ident):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, 0,
                       64, proto, 0, src, dst)


def tcp_syn(src, dst, sport, dport, seq):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02,
                      64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_TCP, len(hdr))
    csum = checksum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:]


def udp_datagram(src, dst, sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_UDP,
                         8 + len(payload))
    csum = checksum(pseudo + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", csum) + payload


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src = socket.inet_aton(sys.argv[1])
    dst = socket.inet_aton(sys.argv[2])
    count = int(sys.argv[3])
    ports = [int(p) for p in sys.argv[4].split(",")]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    sent = 0
    for i in range(count):
        sport = 10000 + i % 50000
        dport = ports[i % len(ports)]
        if i % 2 == 0:
            l4 = tcp_syn(src, dst, sport, dport, random.getrandbits(32))
            proto = socket.IPPROTO_TCP
        else:
            l4 = udp_datagram(src, dst, sport, dport, b"flood")
            proto = socket.IPPROTO_UDP
        pkt = ip_header(src, dst, proto, len(l4), i & 0xFFFF) + l4
        try:
            s.sendto(pkt, (sys.argv[2], 0))
            sent += 1
        except OSError:
            pass
    print(sent)


if __name__ == "__main__":
    main()
