from markupsafe import Markup

from pipeline.web.highlight import marked, safe_href


def test_escape_first_then_mark() -> None:
    out = marked('<b onclick="x()">[[pact]]</b> & [[<i>]]')
    assert isinstance(out, Markup)
    assert str(out) == ('&lt;b onclick=&#34;x()&#34;&gt;<mark>pact</mark>&lt;/b&gt; &amp; '
                        '<mark>&lt;i&gt;</mark>')


def test_unpaired_markers_stay_text() -> None:
    assert str(marked("a [[b")) == "a [[b"
    assert str(marked("a ]] b [[c]]")) == "a ]] b <mark>c</mark>"


def test_only_http_links() -> None:
    assert safe_href("https://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x"):
        assert safe_href(bad) == "#"
