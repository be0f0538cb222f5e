"""Article identity: the canonical link, else the GUID (scoped to its feed when it is only
unique there), else the content."""

from __future__ import annotations

import pytest

from pipeline.identity import article_id, identity_keys, scoped_guid


def test_identity_falls_back_from_link_to_guid_to_content() -> None:
    by_link = article_id("https://www.news.example/a/?utm_source=rss", "tag:x,2024:1", "text")
    assert by_link == article_id("https://news.example/a")
    by_guid = article_id(None, "tag:x,2024:1", "text")
    assert by_guid != by_link and by_guid == article_id(None, " tag:x,2024:1 ", "other")
    assert article_id(None, None, "Some  TEXT") == article_id(None, None, "some text")
    with pytest.raises(ValueError, match="url, a guid or content"):
        article_id(None, None, None)


@pytest.mark.parametrize(("guid", "unique"), [
    ("tag:blogs.gnome.example,2024:post-1", True),
    ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", True),
    ("https://news.example/a", True),
    ("1225c695-cfb8-4ebb-aaaa-80da344efa6a", True),
    ("1", False),
    ("513abd71e4b0fe58c655c105:513abd71e4b0fe58c655c111", False),
])
def test_feed_local_guids_are_scoped_by_their_feed(guid: str, unique: bool) -> None:
    scoped = scoped_guid(guid, "https://feed.example/rss")
    assert (scoped == guid) is unique
    assert (scoped_guid(guid, "https://other.example/rss") == scoped) is unique
    assert scoped_guid("  ", "https://feed.example/rss") is None


def test_keys_without_a_link() -> None:
    keys = identity_keys(None, "tag:x,2024:1", "A title long enough", "body " * 40)
    assert keys[0] == "guid:tag:x,2024:1" and keys[1].startswith("fp:")
    assert identity_keys(None, "1", None, "short") == []  # nothing that is unique anywhere
