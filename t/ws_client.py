# t/ws_client.py - janusd's WebSocket side driven by code we did not write:
# Debian's python3-websockets (10.x, its asyncio client), run by
# t/ws_python.sh against a janusd with heartbeat=500ms.
#
# Usage: ws_client.py HTTP_PORT JANUS_PORT. Prints one line per check,
# "0 DESCRIPTION" (passed) or "1 DESCRIPTION" (failed), and "# ..." for
# diagnostics; t/ws_python.sh turns them into TAP. Every wait is bounded.

import asyncio
import re
import socket
import sys

import websockets

WAIT = 5.0
GREETING = re.compile(r'^\{"timestamp":\[\d+,\d+,\d+\],"token":"[0-9a-f]{32}"\}$')


def check(cond, what, got=None):
    print(("0 " if cond else "1 ") + what)
    if not cond and got is not None:
        print("#   got: %r" % (got,))
    sys.stdout.flush()


class Tcp:
    """A Part 1 client on the Janus port: frames end with \\1 from the server, \\0 to it."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.buf = b""

    def frame(self):
        while b"\x01" not in self.buf:
            more = self.sock.recv(65536)
            if not more:
                raise EOFError("the server closed the TCP connection")
            self.buf += more
        f, self.buf = self.buf.split(b"\x01", 1)
        return f

    def message(self):
        """The next frame that is not a heartbeat."""
        while True:
            f = self.frame()
            if f != b"PING":
                return f

    def send(self, frame):
        self.sock.sendall(frame + b"\x00")

    def close(self):
        self.sock.close()


def publish_tcp(port, obj):
    """Publish the Part 1 way: PUBLISH, the object, close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    s.sendall(b"<regular-socket/>\x00PUBLISH\x00" + obj)
    s.close()


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), WAIT)


async def connect(hport, **kw):
    return await asyncio.wait_for(websockets.connect(
        "ws://127.0.0.1:%d/ws" % hport, ping_interval=None, **kw), WAIT)


async def closed_with(ws, send):
    """Send what the library allows and the server refuses; the close code the library saw."""
    await ws.send(send)
    try:
        while True:
            await recv(ws)
    except websockets.exceptions.ConnectionClosed:
        pass
    return ws.close_code


async def main(hport, jport):
    ws = await connect(hport, subprotocols=["janus"])
    check(ws.open, "handshake: the library accepts the 101 (it checks Sec-WebSocket-Accept)")
    check(ws.subprotocol == "janus", "subprotocol janus negotiated", ws.subprotocol)
    check(ws.extensions == [], "the offered permessage-deflate is not taken", ws.extensions)
    greeting = await recv(ws)
    check(isinstance(greeting, str) and GREETING.match(greeting) is not None,
          "the first message is the greeting, as text", greeting)

    await ws.send('{"action":"subscribe","data":"py.news"}')
    check(await recv(ws) == "ACK", "subscribe: ACK")

    tcp = Tcp(jport)
    tcp.frame()
    tcp.send(b'{"action":"subscribe","data":"py.news"}')
    check(tcp.frame() == b"ACK", "a TCP subscriber of the same topic gets its ACK")

    publish_tcp(jport, b'{"topic":"py.news","event":"e","message_id":"7","data":{"n":[1,2]}}')
    got, want = await recv(ws), tcp.message()
    check(got.encode() == want, "a message published over TCP arrives with exactly the TCP bytes",
          (got, want))

    pub = await connect(hport)
    await recv(pub)
    await pub.send('{"action":"publish","topic":"py.news","data":"from ws","ack":true}')
    ack = await recv(pub)
    check(re.match(r'^\{"published":\{"seq":\d+\}\}$', ack) is not None,
          "publish over WebSocket with ack: {\"published\":{\"seq\":N}}", ack)
    got, want = await recv(ws), tcp.message()
    check(got.encode() == want and want.endswith(b'"topic":"py.news","data":"from ws"}'),
          "it reaches the WebSocket and the TCP subscriber with the same bytes", (got, want))
    await pub.close()
    tcp.close()

    pong = await ws.ping(b"are you there")
    await asyncio.wait_for(pong, WAIT)
    check(True, "ping: the library's Ping is answered with a Pong of the same payload")

    await asyncio.sleep(1.5)
    publish_tcp(jport, b'{"topic":"py.news","data":"later"}')
    got = await recv(ws)
    check(got.endswith('"topic":"py.news","data":"later"}'),
          "after 1.5 s of heartbeat Pings (500 ms) answered by the library, the session is kept",
          got)

    await ws.close(code=1000)
    check(ws.close_code == 1000, "normal close: the library sees 1000 echoed", ws.close_code)

    ws = await connect(hport)
    await recv(ws)
    code = await closed_with(ws, b"\x01\x02")
    check(code == 1003, "a binary message: the library sees close 1003", code)

    ws = await connect(hport)
    await recv(ws)
    code = await closed_with(ws, "x" * 70000)
    check(code == 1009, "a 70000-byte text message over max_frame (64k): close 1009", code)


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    except Exception as e:
        print("1 the client ran to its end")
        print("#   %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    print("0 the client ran to its end")
