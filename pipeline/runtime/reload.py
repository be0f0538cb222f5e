"""Alert rules and topics reloaded by a running process, validated first.

    config/alerts.yaml or topics.yaml changed (mtime, size) ─┐
    SIGHUP ──────────────────────────────────────────────────┴▶ load_settings (validates)
        valid   ──▶ new rules, topics and channels; ``generation`` + 1 (stages rebuilt)
        invalid ──▶ logged with the file and entry (ConfigError), the previous rules stay

Both runtimes call ``ConfigWatch.poll`` between batches: two ``stat`` calls when nothing
changed. Only ``topics``, ``rules`` and ``channels`` are taken from the reloaded files; the
rest of the settings (data dir, backend, overrides from the command line) stays.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from pipeline.config.settings import Settings, load_settings
from pipeline.errors import ConfigError, QuerySyntaxError
from pipeline.notify.notifier import Notifier
from pipeline.processing.alerts import AlertMatcher
from pipeline.processing.tag import Tagger

logger = logging.getLogger(__name__)
WATCHED = ("alerts.yaml", "topics.yaml")
Stamp = tuple[int, int] | None


class ConfigWatch:
    """The current settings of a long-running process, refreshed when the files change."""

    def __init__(self, settings: Settings,
                 load: Callable[[Path], Settings] = load_settings) -> None:
        self.settings = settings
        self.load = load
        self.generation = 0  # + 1 per reload that took effect
        self.requested = False  # SIGHUP: reload even if no file looks changed
        self.stamps = self._stamps()

    def _stamps(self) -> dict[str, Stamp]:
        out: dict[str, Stamp] = {}
        for name in WATCHED:
            try:
                st = (self.settings.config_dir / name).stat()
                out[name] = (st.st_mtime_ns, st.st_size)
            except OSError:
                out[name] = None
        return out

    def request(self, *_: object) -> None:
        """Reload at the next ``poll`` (the SIGHUP handler)."""
        self.requested = True

    def on_sighup(self) -> None:
        """Install ``request`` as the SIGHUP handler (main thread, POSIX; else nothing)."""
        with contextlib.suppress(ValueError, AttributeError, OSError):
            signal.signal(signal.SIGHUP, self.request)

    def poll(self) -> bool:
        """Reload when a watched file changed or SIGHUP asked; True when new rules or topics
        took effect. An invalid edit is refused with a log message: nothing changes."""
        stamps = self._stamps()
        if stamps == self.stamps and not self.requested:
            return False
        self.stamps, self.requested = stamps, False
        try:
            fresh = self.load(self.settings.config_dir)
            AlertMatcher(list(fresh.rules))  # the stages accept them (queries compile)
            Tagger(list(fresh.topics))
        except (ConfigError, QuerySyntaxError, ValueError) as exc:
            logger.error("config reload refused, the previous rules and topics stay in "
                         "force: %s", exc)
            return False
        if (fresh.rules, fresh.topics, fresh.channels) == (
                self.settings.rules, self.settings.topics, self.settings.channels):
            return False
        self.settings = self.settings.model_copy(update={
            "rules": fresh.rules, "topics": fresh.topics, "channels": fresh.channels})
        self.generation += 1
        logger.warning("config reloaded rules=%d topics=%d from=%s", len(fresh.rules),
                       len(fresh.topics), self.settings.config_dir)
        return True


def retarget(notifier: Notifier, settings: Settings) -> None:
    """Point a running notifier at reloaded rules (their channels' secrets, SMTP)."""
    notifier.rules = {rule.name: rule for rule in settings.rules}
    notifier.channels = settings.channels
