"""Stream events held past faust's own acknowledgement."""

from __future__ import annotations

from faust.types import EventT


def hold(event: EventT) -> None:
    """One more reference on the event's message, released by ``stream.ack(event)``.

    Relies on faust's ``Message.incref``/``decref``: a message is acknowledged (its offset
    may be committed) when its refcount drops to 0, and ``Stream.take_events`` releases
    exactly one reference per event, in a ``finally``, whether or not the batch was processed.
    """
    event.message.incref()
