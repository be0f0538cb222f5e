"""Safety of fetched input: where a redirect may lead, and XML that declares entities.

    AddressGuard      refuses a redirect to a loopback / private / link-local address unless
                      the feed itself is configured on such an address (or the setting
                      ``allow_private_redirects`` is on). Its classifier is injectable (tests).
    check_xml         refuses a document whose DOCTYPE declares entities (billion laughs,
                      external entities) before any parser sees it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from pipeline.sources.errors import FeedError

Classifier = Callable[[str], Awaitable[bool]]  # host -> "is internal"
_PROLOG_BYTES = 256 * 1024
_SUBSET = re.compile(r"<!DOCTYPE[^\[>]*\[(.*?)(\]\s*>|$)", re.S | re.I)


def _internal_ip(value: str) -> bool:
    ip = ipaddress.ip_address(value.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified
            or ip.is_reserved or ip.is_multicast)


async def internal_host(host: str) -> bool:
    """True when ``host`` is, or resolves to, a loopback/private/link-local address."""
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return _internal_ip(host)
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                             type=socket.SOCK_STREAM)
    except OSError:
        return False  # unresolvable: the fetch itself will fail with a network error
    return any(_internal_ip(str(info[4][0])) for info in infos)


class AddressGuard:
    """Decides whether a redirect from a feed to ``target`` may be followed."""

    def __init__(self, allow_private: bool = False, classify: Classifier | None = None) -> None:
        self.allow_private = allow_private
        self.classify = classify or internal_host

    async def check_redirect(self, feed_url: str, target: str) -> None:
        if self.allow_private:
            return
        target_host = urlsplit(target).hostname or ""
        if not await self.classify(target_host):
            return
        if await self.classify(urlsplit(feed_url).hostname or ""):
            return  # the feed itself is configured on an internal address
        raise FeedError(f"redirect to internal address {target_host} refused "
                        "(set allow_private_redirects to permit it)", kind="unsafe_redirect")


def _prolog(content: bytes) -> str:
    head = content[:_PROLOG_BYTES]
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head.decode("utf-16-le", errors="ignore")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head.decode("utf-16-be", errors="ignore")
    return head.decode("latin-1")


def check_xml(content: bytes) -> None:
    """Raise FeedError(kind="unsafe_xml") when the document declares entities."""
    text = _prolog(content)
    if "<!DOCTYPE" not in text and "<!doctype" not in text:
        return
    match = _SUBSET.search(text)
    if match and ("<!ENTITY" in match.group(1).upper() or not match.group(2)):
        raise FeedError("XML entity declarations refused (possible XML bomb or external "
                        "entity)", kind="unsafe_xml")
