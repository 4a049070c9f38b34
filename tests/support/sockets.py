"""Which TCP ports processes listen on, and where, from Linux's /proc (no psutil needed)."""

from __future__ import annotations

import ipaddress
import os
import struct
from dataclasses import dataclass
from pathlib import Path

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column


@dataclass(frozen=True)
class Listening:
    pid: int
    name: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ipaddress.IPv4Address(struct.pack("<I", struct.unpack(">I", raw)[0]))
    words = struct.unpack("<4I", raw)  # four host-order 32-bit words
    ip6 = ipaddress.IPv6Address(struct.pack(">4I", *words))
    return ip6.ipv4_mapped or ip6


def listening(pids: list[int]) -> list[Listening]:
    """The listening TCP sockets (IPv4 and IPv6) of processes ``pids``."""
    sockets: dict[str, tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN:
                host, port = fields[1].split(":")
                sockets[fields[9]] = (_address(host), int(port, 16))
    found = []
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:  # gone meanwhile
            continue
        for link in links:
            if link.startswith("socket:[") and link[8:-1] in sockets:
                address, port = sockets[link[8:-1]]
                found.append(Listening(pid, name, address, port))
    return found
