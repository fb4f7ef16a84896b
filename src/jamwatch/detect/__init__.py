"""Stage ``detect``: jamming events, their sources, and spoofing episodes."""

from jamwatch.detect.base import JAMMING, LOCALIZERS, SPOOFING, choose
from jamwatch.detect.changes import EventChange, EventLog
from jamwatch.detect.events import JAMMING_EVENTS, EventConfig, detect_jamming
from jamwatch.detect.observe import LocalizeConfig
from jamwatch.detect.pipeline import detect
from jamwatch.detect.sources import SOURCES, locate_sources
from jamwatch.detect.spoofing import EPISODES, SpoofingConfig, detect_spoofing
from jamwatch.detect.stream import DetectStream, StreamConfig

__all__ = [
    "EPISODES",
    "JAMMING",
    "JAMMING_EVENTS",
    "LOCALIZERS",
    "SOURCES",
    "SPOOFING",
    "DetectStream",
    "EventChange",
    "EventConfig",
    "EventLog",
    "LocalizeConfig",
    "SpoofingConfig",
    "StreamConfig",
    "choose",
    "detect",
    "detect_jamming",
    "detect_spoofing",
    "locate_sources",
]
