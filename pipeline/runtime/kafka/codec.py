"""A Faust codec carrying the pydantic models as JSON (the models are the only schema).

Decoding never raises inside Faust: bytes that are not valid JSON for the topic's model
come out as an ``Undecodable`` carrying the payload and the reason, so the agent can send
them to the dead-letter topic instead of Faust skipping them silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faust.serializers.codecs import Codec
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Undecodable:
    """A message whose value is not a valid record of its topic's type."""

    payload: bytes
    error: str

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


class ModelCodec(Codec, Generic[M]):
    """JSON ⇄ one pydantic model."""

    def __init__(self, model: type[M], **kwargs: Any) -> None:
        super().__init__(model=model, **kwargs)
        self.model = model

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, bytes):  # already encoded (tests send poison this way)
            return obj
        return obj.model_dump_json().encode("utf-8")  # type: ignore[no-any-return]

    def _loads(self, s: bytes) -> M | Undecodable:
        try:
            return self.model.model_validate_json(s)
        except ValidationError as exc:
            return Undecodable(bytes(s), describe(exc))

    def clone(self, *children: Any) -> ModelCodec[M]:
        return type(self)(self.model, children=self.children + children)


def describe(exc: ValidationError) -> str:
    """A one-line reason: where and what, for the dead letter."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"{where}: {err.get('msg')}")
    return f"invalid {exc.title}: " + "; ".join(parts)
