"""``console``: one line per alert on the console."""

from __future__ import annotations

from pipeline.models import AlertEvent
from pipeline.notify.channel import DeliveryContext
from pipeline.notify.render import render
from pipeline.notify.spec import check_console


class ConsoleChannel:
    scheme = "console"

    def validate(self, target: str) -> None:
        check_console(target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        print(render(event), file=context.out, flush=True)
