"""Article identity: a stable hash of the canonical URL (GUID, then content, as fallbacks)."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_")
_TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src",
                    "cmpid", "ito", "ns_mchannel", "ns_source", "ns_campaign", "amp", "outputType"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same article from several feeds has one form."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if host.startswith("amp."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    for amp_suffix in ("/amp/", "/amp", ".amp"):
        if path.endswith(amp_suffix) and len(path) > len(amp_suffix):
            path = path[: -len(amp_suffix)] + ("/" if amp_suffix == "/amp/" else "")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k not in _TRACKING_PARAMS
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:20]


def article_id(url: str | None, guid: str | None = None, content: str | None = None) -> str:
    """The article id: hash of canonical URL, else of the GUID, else of the content."""
    if url:
        return _digest("url", canonical_url(url))
    if guid:
        return _digest("guid", guid.strip())
    if content:
        return _digest("content", " ".join(content.split()).lower())
    raise ValueError("an article needs a url, a guid or content to have an id")
