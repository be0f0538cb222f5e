"""HEAD answers like GET without a body (monitors and link checkers send HEAD)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/", "/?q=agreement", "/story/s-pact", "/alerts", "/feeds",
                                  "/api/search?q=pact", "/api/stories", "/healthz", "/readyz",
                                  "/metrics", "/static/style.css", "/openapi.json"])
def test_head_is_get_without_the_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]


def test_head_of_a_missing_page_is_404(client: TestClient) -> None:
    assert client.head("/story/nope").status_code == 404
    assert client.head("/nothing-here").status_code == 404


def test_other_methods_are_still_refused(client: TestClient) -> None:
    assert client.post("/").status_code == 405
