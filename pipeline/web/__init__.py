"""The newswire web page and JSON API (``newswire web``, ``newswire run --web``).

    service.py    what the page shows, from any store (SQLite or Elasticsearch): search with
                  filters, facets and story groups; story timelines; alerts; feed health
    highlight.py  snippets to HTML: escape first, then <mark> the matches
    format.py     plurals and times as people read them; ISO 8601 with Z for JSON
    app.py        the FastAPI app: pages, /api (OpenAPI at /openapi.json), /healthz,
                  /readyz, /metrics, security headers and the access token
    templates/    Jinja2 (autoescaped); static/ CSS and the one script file

Nothing here imports FastAPI at package level, so the CLI can use ``service`` alone.
"""
