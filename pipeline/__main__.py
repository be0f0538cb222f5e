"""``python -m pipeline`` runs the ``newswire`` command line."""

from pipeline.cli.app import main

main()
