#!/usr/bin/python3
"""A DHCP renewal as a client sends it once it holds a lease: a DHCPREQUEST
from ADDR:68 to the server's port 67, unicast through an ordinary UDP
socket (what netfilter sees; the first DISCOVER goes out through a packet
socket, which it does not).  Prints "ack", "nak" or "error".
usage: dhcprenew.py ADDR MAC SERVER"""
import os
import socket
import struct
import sys


def main():
    addr, mac, server = sys.argv[1:4]
    xid = os.urandom(4)
    chaddr = bytes.fromhex(mac.replace(":", "")).ljust(16, b"\0")
    pkt = struct.pack("!BBBB4sHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0,
                      socket.inet_aton(addr), b"\0" * 4, b"\0" * 4, b"\0" * 4,
                      chaddr, b"\0" * 64, b"\0" * 128)
    pkt += bytes([99, 130, 83, 99, 53, 1, 3, 255])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.bind((addr, 68))
        s.sendto(pkt, (server, 67))
        while True:
            data, _ = s.recvfrom(2048)
            if data[4:8] != xid:
                continue
            opts = data[240:]
            i = 0
            while i + 1 < len(opts) and opts[i] != 255:
                if opts[i] == 53:
                    print({5: "ack", 6: "nak"}.get(opts[i + 2], "other"))
                    return
                i += 2 + opts[i + 1]
    except OSError:
        pass
    print("error")


main()
