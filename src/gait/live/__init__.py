"""The live path: a source (BLE sensor, virtual sensor or a replayed recording) -> recorder +
:class:`gait.pipeline.StreamAnalyzer` -> live terminal view.

* :mod:`gait.live.sources`: :class:`ReplaySource` and the factories for BLE sources.
* :mod:`gait.live.session`: :class:`LiveSession` (recording never waits for analysis).
* :mod:`gait.live.view`: the rich terminal view.
"""

from .session import LiveSession, LiveState
from .sources import ReplaySource

__all__ = ["LiveSession", "LiveState", "ReplaySource"]
