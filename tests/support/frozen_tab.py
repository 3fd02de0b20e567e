"""A browser tab that stops reading (a frozen laptop): a websocket opened over a raw socket with a 4 KB
receive buffer, which reads the handshake reply and then nothing, ever. Frames pile up in the kernel
and then at the server, as with a real stalled browser (a websocket library keeps reading into its own
buffers, so it is never slow for the server)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket


async def open_frozen_tab(port: int, cookie: str, path: str = "/ws") -> socket.socket:
    """Connect, upgrade, read the 101 reply; returns the socket, never read again (close it when done)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = await loop.sock_recv(sock, 1024)
        if not chunk:
            raise ConnectionError("the server closed the connection during the handshake")
        reply += chunk
    if not reply.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(reply.split(b"\r\n", 1)[0].decode(errors="replace"))
    return sock
