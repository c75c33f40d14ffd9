#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/echo.py: the Python baseline for the echo benchmark.

The same job as tests/bench/echo.lua with the standard library only: one
selectors loop over the SOCK_SEQPACKET fds listed in $BENCH_FDS; for each
readable one, up to 64 messages (rpmsg-lua's batch), each sent straight back.
Ends when every endpoint has reached end of file.
"""
import os
import selectors
import socket

BATCH = 64
MAX_MSG = 496


def main():
    sel = selectors.DefaultSelector()
    for fd in os.environ["BENCH_FDS"].split(","):
        sock = socket.socket(fileno=int(fd))
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ)
    open_socks = len(sel.get_map())
    while open_socks:
        for key, _ in sel.select():
            sock = key.fileobj
            recv, send = sock.recv, sock.send
            for _ in range(BATCH):
                try:
                    msg = recv(MAX_MSG)
                except BlockingIOError:
                    break
                if not msg:  # end of file: the driver never sends empty messages
                    sel.unregister(sock)
                    sock.close()
                    open_socks -= 1
                    break
                send(msg)


if __name__ == "__main__":
    main()
