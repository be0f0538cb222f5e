"""newswire: watch news feeds, clean, tag, cluster into stories, index, alert."""

__version__ = "0.1.0"
