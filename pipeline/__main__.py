"""``python -m pipeline`` runs the ``newswire`` command line."""

from pipeline.cli import main

main()
