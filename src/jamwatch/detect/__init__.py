"""Stage ``detect``: jamming events, their sources, and spoofing episodes."""

from jamwatch.detect.base import JAMMING, LOCALIZERS, SPOOFING, choose
from jamwatch.detect.events import EVENTS, EventConfig, JammingStream, detect_jamming
from jamwatch.detect.localize import SOURCES, LocalizeConfig, locate_sources
from jamwatch.detect.pipeline import detect, events_table
from jamwatch.detect.spoofing import EPISODES, SpoofingConfig, detect_spoofing

__all__ = [
    "EPISODES",
    "EVENTS",
    "JAMMING",
    "LOCALIZERS",
    "SOURCES",
    "SPOOFING",
    "EventConfig",
    "JammingStream",
    "LocalizeConfig",
    "SpoofingConfig",
    "choose",
    "detect",
    "detect_jamming",
    "detect_spoofing",
    "events_table",
    "locate_sources",
]
