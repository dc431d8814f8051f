"""Which instruments exist, and the one way to reach them: ``instrument_get``.

An instrument is an adapter *kind* plus a configuration:

- ``kinds``: the adapter kinds, built-in or from installed plugins' entry points;
- ``configs``: the configurations, merged from the built-ins, plugins,
  ``DISPATCHER_NB2W_BACKENDS`` and the ``Instrument`` rows;
- ``handles``: an enabled instrument (``InstrumentHandle``), which validates
  requests and describes what it offers (``instruments.descriptions``);
- ``cache``: the per-process cache of handles, and ``instrument_get``.
"""

from instruments.descriptions import SOURCE_PARAMETERS
from instruments.registry.cache import instrument_get, instruments_changed, instruments_enabled, registry_reset
from instruments.registry.handles import InstrumentHandle, ValidatedRequest
from instruments.registry.kinds import BUILTIN_KINDS, ENTRY_POINT_GROUP, KindSource, kind_problem, kinds_available

__all__ = [
    "BUILTIN_KINDS",
    "ENTRY_POINT_GROUP",
    "SOURCE_PARAMETERS",
    "InstrumentHandle",
    "KindSource",
    "ValidatedRequest",
    "instrument_get",
    "instruments_changed",
    "instruments_enabled",
    "kind_problem",
    "kinds_available",
    "registry_reset",
]
