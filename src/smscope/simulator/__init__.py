"""The operator simulator: a real SMSC on a socket whose outcomes come from a profile.

:mod:`~smscope.simulator.profile` reads profiles, :mod:`~smscope.simulator.planner`
draws each message's fate, :mod:`~smscope.simulator.deliveries` writes receipts and
replies as deliver_sm, :mod:`~smscope.simulator.smsc` runs the SMSC, and
:mod:`~smscope.simulator.record` counts what it did.
"""

from __future__ import annotations

from smscope.simulator.profile import BUILTIN_PROFILES, Profile, load_profile
from smscope.simulator.record import Record
from smscope.simulator.smsc import Simulator, SimulatorError, run_until_signalled

__all__ = [
    "BUILTIN_PROFILES",
    "Profile",
    "Record",
    "Simulator",
    "SimulatorError",
    "load_profile",
    "run_until_signalled",
]
