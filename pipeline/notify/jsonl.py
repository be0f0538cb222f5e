"""``jsonl:PATH``: append each alert as one JSON line (PATH relative to the data dir)."""

from __future__ import annotations

from pipeline.models import AlertEvent
from pipeline.notify.channel import DeliveryContext, local_path
from pipeline.notify.spec import check_jsonl


class JsonlChannel:
    scheme = "jsonl"

    def validate(self, target: str) -> None:
        check_jsonl(target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        path = local_path(context, target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(event.model_dump_json(exclude={"state", "error", "attempts"}) + "\n")
