"""Article identity: a stable hash of the canonical URL (GUID, then content, as fallbacks).

    canonical_url        scheme and host case, default ports, ``www.``/``amp.``/``m.`` hosts,
                         trailing slash, fragments, tracking parameters (utm_*, fbclid,
                         gclid, ...), AMP variants (/amp, .amp, ?amp=1, AMP-cache URLs)
    article_id           hash of the canonical URL, else of the GUID, else of the content
    scoped_guid          a GUID as an identity: as is when globally unique (a URL, a tag: or
                         urn: URI, a UUID), else qualified by its feed ("1" in two feeds)
    identity_keys        every key under which an article may be met again in another feed:
                         its canonical URL, a globally unique GUID, a content fingerprint
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "__twitter", "_hs")
_TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src",
                    "cmpid", "ito", "ns_mchannel", "ns_source", "ns_campaign", "amp",
                    "outputtype", "at_medium", "at_campaign", "smid",
                    "s_cid", "wt.mc_id", "xtor", "guccounter", "ocid", "_ga"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_PREFIXES = ("www.", "amp.", "m.", "mobile.")
_AMP_CACHE = re.compile(r"^/(?:[a-z]/)?(?:s/)?(?P<rest>[^/]+\..+)$")
_GUID_UNIQUE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|[0-9a-f-]{32,36}$)", re.I)
_TAGS = re.compile(r"<[^>]+>")


def _unwrap_amp_cache(host: str, path: str) -> str | None:
    """``https://example-com.cdn.ampproject.org/c/s/example.com/a`` → ``https://example.com/a``."""
    if not host.endswith(".cdn.ampproject.org"):
        return None
    match = _AMP_CACHE.match(path)
    return f"https://{match.group('rest')}" if match else None


def _amp_path(path: str) -> str:
    for suffix in ("/amp/", "/amp", ".amp", ".amp.html"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)] + (".html" if suffix == ".amp.html" else "")
            break
    if path.startswith("/amp/") and len(path) > 5:
        path = path[4:]
    return path.replace("/amp/", "/")


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same article from several feeds has one form."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    unwrapped = _unwrap_amp_cache(host, parts.path)
    if unwrapped:
        return canonical_url(unwrapped + (f"?{parts.query}" if parts.query else ""))
    scheme = parts.scheme.lower() or "http"
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix):]
            break
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _amp_path(parts.path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_PARAMS
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


def scoped_guid(guid: str | None, feed_url: str) -> str | None:
    """The GUID as an identity: a feed-local one ("1", "post-17") is only unique within
    its feed, so it is qualified by the feed's URL."""
    guid = (guid or "").strip()
    if not guid:
        return None
    return guid if _GUID_UNIQUE.match(guid) else f"{feed_url}#guid={guid}"


def content_fingerprint(title: str | None, body: str | None) -> str | None:
    """A hash of the title and the start of the text, once tags, case and spacing are gone;
    None when there is too little to tell articles apart (a title alone is not enough)."""
    text = " ".join(_TAGS.sub(" ", unquote(body or "")).split()).lower()
    heading = " ".join((title or "").split()).lower()
    if len(heading) < 8 or len(text) < 80:
        return None
    return _digest("fp", f"{heading}\n{text[:1000]}")


def identity_keys(url: str | None, guid: str | None, title: str | None,
                  body: str | None) -> list[str]:
    """Keys that identify one article across feeds (a GUID only when globally unique)."""
    keys = [f"url:{canonical_url(url)}"] if url else []
    guid = (guid or "").strip()
    if guid and _GUID_UNIQUE.match(guid):
        plain_url = guid.startswith(("http://", "https://")) and "#" not in guid
        keys.append(f"guid:{canonical_url(guid) if plain_url else guid}")
    fingerprint = content_fingerprint(title, body)
    if fingerprint:
        keys.append(f"fp:{fingerprint}")
    return keys
