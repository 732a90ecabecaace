"""Jupyter Servers the user configured (jupyter_server 2.x, Kernel Gateway, Enterprise
Gateway): their REST API over aiohttp, with token auth, a custom CA, or a Unix socket.

The token is held here, in memory, and sent only as an `Authorization: token` header to
the server it belongs to; it is never logged and never put in a URL.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse, urlunparse

import orjson

from bridge.errors import BridgeError, ErrorCode

if TYPE_CHECKING:  # aiohttp is imported when a server is first used, not at bridge start
    import aiohttp

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0
USER_AGENT = "nbbridge"


@dataclass(frozen=True)
class ServerAddress:
    """Where a server is: `base` is its http(s) URL with the base path (ending in /);
    `unix_socket` the socket file when it listens on one."""

    base: str
    unix_socket: str | None = None

    @classmethod
    def parse(cls, url: str) -> tuple[ServerAddress, str | None]:
        """The address and a token found in the URL's query (as Jupyter prints it).

        `http+unix://%2Fpath%2Fto.sock/base/` names a server on a Unix socket."""
        parsed = urlparse(url.strip())
        tokens = parse_qs(parsed.query).get("token") or []
        token = tokens[0] if tokens else None
        path = parsed.path if parsed.path.endswith("/") else parsed.path + "/"
        if parsed.scheme == "http+unix":
            socket_path = unquote(parsed.netloc)
            if not socket_path.startswith("/"):
                raise BridgeError(ErrorCode.INVALID_PARAMS,
                                  f"{url!r}: a Unix socket URL names an absolute path, "
                                  "percent-encoded (http+unix://%2Fpath%2Fto.sock/)")
            return cls(f"http://localhost{path}", socket_path), token
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"{url!r} is not a server URL (http://host:port/, https://..., "
                              "or http+unix://%2Fpath%2Fto.sock/)")
        return cls(urlunparse((parsed.scheme, parsed.netloc, path, "", "", ""))), token

    @property
    def display(self) -> str:
        if self.unix_socket is None:
            return self.base
        return f"http+unix://{quote(self.unix_socket, safe='')}{urlparse(self.base).path}"

    def url(self, path: str, query: dict[str, str] | None = None,
            websocket: bool = False) -> str:
        url = self.base + path.lstrip("/")
        if websocket:
            url = "ws" + url[len("http"):]
        return url + ("?" + urlencode(query) if query else "")


@dataclass
class JupyterServer:
    """One configured server and its HTTP session (connections are reused)."""

    server_id: str
    address: ServerAddress
    token: str | None = field(repr=False)
    ca_file: str | None = None
    name: str = ""
    version: str = ""
    has_sessions: bool = True
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        return headers

    def http(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._http is None or self._http.closed:
            connector: aiohttp.BaseConnector
            if self.address.unix_socket is not None:
                connector = aiohttp.UnixConnector(path=self.address.unix_socket)
            else:
                context = ssl.create_default_context(cafile=self.ca_file)
                connector = aiohttp.TCPConnector(ssl=context)
            self._http = aiohttp.ClientSession(connector=connector, headers=self.headers)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def describe(self) -> dict[str, Any]:
        return {"serverId": self.server_id, "url": self.address.display, "name": self.name,
                "version": self.version, "hasSessions": self.has_sessions,
                "caFile": self.ca_file}

    # ------------------------------------------------------------------ REST
    async def call(self, method: str, path: str, body: Any = None,
                   timeout: float = REQUEST_TIMEOUT,
                   allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        """One REST call; the status and the decoded JSON body (None when empty).
        Statuses in `allow` come back; other failures raise a BridgeError that says
        what the server answered."""
        import aiohttp

        url = self.address.url(path)
        headers = {}
        xsrf = self.http().cookie_jar.filter_cookies(url).get("_xsrf")  # type: ignore[arg-type]
        if xsrf is not None:
            headers["X-XSRFToken"] = xsrf.value
        try:
            async with self.http().request(
                    method, url, json=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                text = await response.text()
                status = response.status
        except TimeoutError:
            raise BridgeError(ErrorCode.SERVER_UNREACHABLE,
                              f"{self.address.display}: no answer to {method} {path} "
                              f"within {timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise BridgeError(ErrorCode.SERVER_UNREACHABLE,
                              f"{self.address.display}: cannot reach the server: {exc}"
                              ) from None
        data = _json_or_none(text)
        if status < 300 or status in allow:
            return status, data
        code = (ErrorCode.SERVER_REFUSED if status in (401, 403)
                else ErrorCode.SERVER_UNREACHABLE)
        raise BridgeError(code, self._refusal(method, path, status, data, text))

    def _refusal(self, method: str, path: str, status: int, data: Any, text: str) -> str:
        where = f"{self.address.display}: {method} {path}"
        if status in (401, 403):
            detail = _message_of(data, text)
            if detail:
                return f"{where} was refused ({status}): {detail}"
            told = "no token was given" if not self.token else "the token was refused"
            return (f"{where} was refused ({status}): {told}; give the server's token "
                    "(`jupyter server list` prints it)")
        return f"{where} failed ({status}): {_message_of(data, text) or 'no detail'}"

    async def probe(self) -> None:
        """Check the server answers and the token is accepted; learn what it offers."""
        _, about = await self.call("GET", "api")
        self.version = str((about or {}).get("version", ""))
        await self.kernelspecs()  # /api itself needs no token on jupyter_server
        # Enterprise Gateway answers 403 there, Kernel Gateway 404: neither has sessions
        status, _ = await self.call("GET", "api/sessions", allow=(403, 404, 405))
        self.has_sessions = status < 300

    async def kernelspecs(self) -> dict[str, Any]:
        _, data = await self.call("GET", "api/kernelspecs")
        if not isinstance(data, dict):
            raise BridgeError(ErrorCode.SERVER_UNREACHABLE,
                              f"{self.address.display}: /api/kernelspecs is not JSON")
        return data

    async def kernels(self) -> list[dict[str, Any]]:
        _, data = await self.call("GET", "api/kernels")
        return list(data or [])

    async def sessions(self) -> list[dict[str, Any]]:
        if not self.has_sessions:
            return []
        _, data = await self.call("GET", "api/sessions")
        return list(data or [])

    async def kernel(self, kernel_id: str) -> dict[str, Any] | None:
        """The kernel's model, or None when the server no longer has it."""
        status, data = await self.call("GET", f"api/kernels/{quote(kernel_id)}",
                                       allow=(404,))
        return data if status < 300 and isinstance(data, dict) else None


class ServerList:
    """The servers one bridge may contact: only those its client added (or the
    environment named), each by id."""

    def __init__(self) -> None:
        self._servers: dict[str, JupyterServer] = {}
        self._ids = itertools.count(1)
        self._from_environment = False

    async def add(self, url: str, token: str | None = None, ca_file: str | None = None,
                  name: str | None = None) -> JupyterServer:
        address, url_token = ServerAddress.parse(url)
        token = token or url_token
        if ca_file is not None and not await asyncio.to_thread(os.path.isfile, ca_file):
            raise BridgeError(ErrorCode.INVALID_PARAMS, f"caFile {ca_file!r} is not a file")
        existing = next((s for s in self._servers.values() if s.address == address), None)
        server = JupyterServer(existing.server_id if existing else f"server-{next(self._ids)}",
                               address, token, ca_file, name or address.display)
        try:
            await server.probe()
        except BaseException:
            await server.close()
            raise
        if existing is not None:
            await existing.close()
        self._servers[server.server_id] = server
        logger.info("server %s added: %s (version %s)", server.server_id,
                    address.display, server.version or "?")
        return server

    async def add_from_environment(self) -> None:
        """JUPYTER_SERVER_URL (and JUPYTER_TOKEN), once, for clients that cannot add."""
        if self._from_environment:
            return
        self._from_environment = True
        url = os.environ.get("JUPYTER_SERVER_URL")
        if url:
            await self.add(url, os.environ.get("JUPYTER_TOKEN") or None)

    def get(self, server_id: str) -> JupyterServer:
        try:
            return self._servers[server_id]
        except KeyError:
            known = ", ".join(self._servers) or "none"
            raise BridgeError(ErrorCode.INVALID_PARAMS,
                              f"no server {server_id!r} (added: {known})") from None

    def __iter__(self) -> Any:
        return iter(list(self._servers.values()))

    async def remove(self, server_id: str) -> JupyterServer:
        server = self.get(server_id)
        del self._servers[server_id]
        await server.close()
        return server

    async def close(self) -> None:
        for server in list(self._servers.values()):
            await server.close()


def _json_or_none(text: str) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _message_of(data: Any, text: str) -> str:
    if isinstance(data, dict):
        for key in ("message", "reason", "detail"):
            if data.get(key):
                return str(data[key])
    return text.strip()[:200]
