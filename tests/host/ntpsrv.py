#!/usr/bin/python3
"""Counts NTP requests on UDP port 123 (one line "N" in FILE after each)
and answers none: a test needs to see the query arrive, and a real
answer could set the host's clock.  usage: ntpsrv.py ADDR FILE"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 123))
n = 0
while True:
    data, _ = s.recvfrom(512)
    if len(data) >= 48 and data[0] & 7 == 3:	# mode 3: client
        n += 1
        with open(sys.argv[2], "w") as f:
            f.write("%d\n" % n)
