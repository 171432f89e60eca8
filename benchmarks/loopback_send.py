"""The kernel's floor under a broadcast: what one small `send` on loopback TCP costs here.

Issue 10 asks for a p99 of at most 5 ms with 1000 clients at 5k deliveries/s: one
message to 999 sockets, written from the server's one core. On loopback the sender's
system call also does the receiver's side of TCP, so the cost of a write is mostly the
kernel's, whatever the server's language. This writes a 100-byte message to N connected
sockets, from one process pinned to core 0, while another process pinned to core 1 reads
them all (as the load generator does), and prints what one `send` costs and what a
broadcast to N sockets costs at that rate. Usage (from the repository root):

    python3 benchmarks/loopback_send.py [--sockets 999] [--rounds 200]

Not a test: figures depend on the machine (on a virtual machine, on its hypervisor).
"""

import argparse
import os
import select
import socket
import statistics
import time

MESSAGE = b"x" * 100
PAUSE_S = 0.02  # between broadcasts, so the reader drains each before the next


def reader(port: int, sockets: int, expected: int) -> None:
    """Connect `sockets` clients and read until `expected` messages came (core 1)."""
    os.sched_setaffinity(0, {1})
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(sockets)]
    poller = select.epoll()
    by_fd = {}
    for c in clients:
        c.setblocking(False)
        poller.register(c.fileno(), select.EPOLLIN)
        by_fd[c.fileno()] = c
    got = 0
    while got < expected:
        for fd, _ in poller.poll():
            try:
                got += len(by_fd[fd].recv(1 << 16)) // len(MESSAGE)
            except BlockingIOError:
                continue
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=999)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(args.sockets)
    port = listener.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        reader(port, args.sockets, args.sockets * args.rounds)
    os.sched_setaffinity(0, {0})
    peers = [listener.accept()[0] for _ in range(args.sockets)]
    for peer in peers:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    broadcasts = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for peer in peers:
            peer.send(MESSAGE)
        broadcasts.append(time.perf_counter() - started)
        time.sleep(PAUSE_S)
    os.waitpid(pid, 0)
    broadcasts.sort()
    p50, p90 = statistics.median(broadcasts), broadcasts[int(len(broadcasts) * 0.9)]
    print(f"one send: {p50 / args.sockets * 1e6:.2f} µs (median broadcast)")
    print(f"broadcast to {args.sockets} sockets: p50 {p50 * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
