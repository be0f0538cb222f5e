"""Quality measurements of newswire's fuzzy stages on labelled data (../shared/eval)."""
