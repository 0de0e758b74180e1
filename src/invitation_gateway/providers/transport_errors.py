"""Which httpx error an aiohttp failure becomes, so that "never reached" stays provable.

`AiohttpTransport` (`transport.py`) raises httpx's errors, which `UpstreamClient` reads.
The gateway retries a create only when `never_reached(exc)` says the request provably
never left this process, so only failures before any byte of the request was written become
`ConnectError`, `ConnectTimeout` or `PoolTimeout`. Everything else "maybe reached":

    aiohttp                               httpx                reached  why
    ------------------------------------  -------------------  -------  -------------------------
    (no permit within `pool`)             PoolTimeout          never    no connection was taken
    ConnectionTimeoutError                ConnectTimeout       never    aiohttp raises it only
                                                                        around connector.connect,
                                                                        before the request exists
                                                                        on any connection
    ClientConnectorError (DNS, refused,   ConnectError         never    raised only by the
      TLS handshake, certificate)                                       connector, opening one
    write of the body timed out           WriteTimeout         maybe    part of it may be out
    ClientConnectionResetError, or        WriteError           maybe    the connection failed
      ClientOSError writing the body                                    while the request was
                                                                        being written
    SocketTimeoutError (sock_read)        ReadTimeout          maybe    the request was written
    ServerDisconnectedError               RemoteProtocolError  maybe    the server closed the
                                                                        connection without an
                                                                        answer: after reading the
                                                                        request, or a keep-alive
                                                                        connection it had closed
                                                                        as we wrote (we cannot
                                                                        tell: a create reads back)
    ClientPayloadError                    RemoteProtocolError  maybe    the body was cut short
    ClientResponseError (a malformed      RemoteProtocolError  maybe    it answered, badly
      status line or header)
    ClientOSError (reset by peer, ...)    ReadError            maybe    the connection failed
                                                                        after the request
    InvalidURL, NonHttpUrlClientError     UnsupportedProtocol  maybe*   (*nothing was sent, but
                                                                        being wrong this way only
                                                                        forgoes a retry)
    any other aiohttp.ClientError or      NetworkError /       maybe    unknown phase: assume the
      TimeoutError                          ReadTimeout                 worst

`httpx-aiohttp` maps a dropped connection (`ServerDisconnectedError`) to `ConnectTimeout`:
"never sent", so a create would be retried after the upstream may have made it: a duplicate
invitation. Hence the gateway's own transport, and this table.
"""

from __future__ import annotations

import os

import aiohttp
import httpx

WRITE_FAILED = "Can not write request body"  # aiohttp's message for a failed body write


class WriteTimedOut(TimeoutError):
    """The body write ran out of the request's write timeout."""


def translate(exc: aiohttp.ClientError | TimeoutError) -> httpx.TransportError:
    """The httpx error for an aiohttp failure: the table in the module docstring.

    Messages are the gateway's own: aiohttp's name the request's URL, whose path and query hold
    ids and emails that logs must not. A connector error names only host, port and the OS's
    reason.
    """
    if isinstance(exc, WriteTimedOut):
        return httpx.WriteTimeout("timed out writing the request")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("timed out connecting")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return httpx.ReadTimeout("timed out reading the answer")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError("the answer's body was cut short or malformed")
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError("the answer was not valid HTTP")
    if isinstance(exc, aiohttp.ClientConnectionResetError):
        return httpx.WriteError("the connection closed while the request was being written")
    if isinstance(exc, aiohttp.ClientOSError):
        reason = os.strerror(exc.errno) if isinstance(exc.errno, int) else "connection failed"
        if WRITE_FAILED in str(exc):
            return httpx.WriteError(f"writing the request failed: {reason}")
        return httpx.ReadError(reason)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol("the request's URL is not one aiohttp can send")
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout("timed out")
    return httpx.NetworkError(type(exc).__name__)
