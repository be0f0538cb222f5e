"""Polite HTTP for feeds and pages: one fetch = redirects checked hop by hop, a per-host
concurrency limit and minimum delay, a whole-request deadline and a size cap enforced while
streaming the (decompressed: gzip, deflate, brotli) body.

Redirects are followed by hand so that every hop is checked: a loop or too many hops stops,
a hop to an internal address is refused (AddressGuard), and when every hop was permanent
(301/308) the final URL is reported as ``moved_to`` so the poller can remember it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.sources.errors import FeedError
from pipeline.sources.safety import AddressGuard
from pipeline.sources.schedule import retry_after

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


@dataclass(frozen=True)
class HttpPolicy:
    timeout: float = 20.0  # seconds per request (from its turn for the host), body included
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    host_concurrency: int = 2
    host_min_delay: float = 0.5
    user_agent: str = "newswire"


@dataclass
class Fetched:
    status: int
    url: str
    content: bytes = b""
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    moved_to: str | None = None


class HostLimiter:
    """At most ``concurrency`` requests in flight per host, starts ``min_delay`` apart."""

    def __init__(self, concurrency: int, min_delay: float) -> None:
        self.concurrency = max(1, concurrency)
        self.min_delay = max(0.0, min_delay)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        sem = self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))
        async with sem:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, 0.0))
            self._next_start[host] = start + self.min_delay
            if start > now:
                await asyncio.sleep(start - now)
            yield


class Fetcher:
    """GETs with politeness and safety; clients per proxy share one transport choice."""

    def __init__(self, policy: HttpPolicy | None = None, client: httpx.AsyncClient | None = None,
                 guard: AddressGuard | None = None) -> None:
        self.policy = policy or HttpPolicy()
        self.guard = guard or AddressGuard()
        self.limiter = HostLimiter(self.policy.host_concurrency, self.policy.host_min_delay)
        self._clients: dict[str | None, httpx.AsyncClient] = {}
        if client is not None:
            self._clients[None] = client

    def _client(self, proxy: str | None) -> httpx.AsyncClient:
        if proxy not in self._clients:
            self._clients[proxy] = httpx.AsyncClient(
                proxy=proxy, follow_redirects=False,
                timeout=httpx.Timeout(self.policy.timeout, connect=min(10.0, self.policy.timeout)),
                limits=httpx.Limits(max_connections=128, max_keepalive_connections=128))
        return self._clients[proxy]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def get(self, url: str, headers: Mapping[str, str] | None = None,
                  proxy: str | None = None) -> Fetched:
        """Fetch ``url``; raises FeedError with a kind (timeout, network, http, ...)."""
        request_headers = {"User-Agent": self.policy.user_agent, **(headers or {})}
        try:
            return await self._follow(url, request_headers, self._client(proxy))
        except TimeoutError as exc:
            raise FeedError(f"no complete answer within {self.policy.timeout:g} s "
                            "(server too slow)", kind="timeout") from exc
        except httpx.TimeoutException as exc:
            raise FeedError(f"timed out ({type(exc).__name__})", kind="timeout") from exc
        except httpx.HTTPError as exc:
            raise FeedError(f"network error: {type(exc).__name__} {exc}".strip(),
                            kind="network") from exc

    async def _follow(self, url: str, headers: dict[str, str],
                      client: httpx.AsyncClient) -> Fetched:
        origin, seen, permanent = url, {url}, True
        for _ in range(self.policy.max_redirects + 1):
            async with self.limiter.slot(urlsplit(url).hostname or ""), \
                    asyncio.timeout(self.policy.timeout), \
                    client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                location = response.headers.get("location")
                if status in _REDIRECTS and location:
                    await self._read(response)  # drained: the connection can be reused
                    target = urljoin(url, location)
                    if target in seen:
                        raise FeedError(f"redirect loop at {target}", kind="redirect_loop")
                    await self.guard.check_redirect(origin, target)
                    permanent = permanent and status in _PERMANENT
                    seen.add(target)
                    url = target
                    continue
                moved = url if permanent and url != origin else None
                if status == 304:
                    await response.aread()  # no body; lets the connection be reused
                    return Fetched(304, url, headers=response.headers, moved_to=moved)
                if status >= 400:
                    raise _status_error(status, response.headers)
                content = await self._read(response)
                return Fetched(status, url, content, response.headers, moved)
        raise FeedError(f"more than {self.policy.max_redirects} redirects",
                        kind="redirect_loop")

    async def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        cap = self.policy.max_bytes
        if declared.isdigit() and int(declared) > cap and not response.headers.get(
                "content-encoding"):
            raise FeedError(f"response larger than {cap} bytes (declared {declared})",
                            kind="too_large")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FeedError(f"response larger than {cap} bytes (stopped reading)",
                                kind="too_large")
            chunks.append(chunk)
        return b"".join(chunks)


def _status_error(status: int, headers: httpx.Headers) -> FeedError:
    wait = retry_after(headers.get("retry-after"), time.time())
    kind = "gone" if status == 410 else "http"
    words = {404: "not found", 410: "gone", 403: "forbidden", 401: "unauthorized",
             429: "too many requests", 500: "server error", 502: "bad gateway",
             503: "service unavailable", 504: "gateway timeout"}.get(status, "error")
    return FeedError(f"HTTP {status} {words}", kind=kind, status=status, retry_after=wait)
