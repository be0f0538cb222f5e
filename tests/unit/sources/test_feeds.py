from __future__ import annotations

import httpx
import pytest

from pipeline.errors import FetchError
from pipeline.models import FeedSource
from pipeline.sources.feeds import Poller, record_failure, record_success

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>One</title><link>https://a.example/1?utm_source=x</link>
<pubDate>Thu, 13 Jun 2024 10:00:00 GMT</pubDate><description>Plain text body.</description></item>
<item><title>Bad</title><link>not a url</link></item>
</channel></rss>"""


async def test_conditional_get_and_entries() -> None:
    seen_headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=RSS, headers={"ETag": '"v1"'})

    poller = Poller(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    feed = FeedSource(url="https://feeds.example/rss")
    first = await poller.poll(feed, {})
    assert [a.title for a in first.articles] == ["One"]
    assert first.articles[0].text == "Plain text body." and first.articles[0].source == "Wire"
    assert len(first.rejected) == 1 and "url" in first.rejected[0][1]
    second = await poller.poll(feed, first.state)
    assert second.not_modified and seen_headers[1]["If-None-Match"] == '"v1"'


async def test_http_errors_are_retryable_and_reported_once() -> None:
    poller = Poller(httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: httpx.Response(503))))
    with pytest.raises(FetchError, match="HTTP 503"):
        await poller.poll(FeedSource(url="https://down.example/rss"), {})
    state: dict[str, object] = {}
    assert record_failure(state, "HTTP 503") is True
    assert record_failure(state, "HTTP 503") is False  # still failing: not reported again
    assert record_success(state, 3) is True and state["state"] == "ok"
