"""A plugin whose import fails, as one with a missing dependency would."""

import dispatcher_missing_dependency  # noqa: F401  (does not exist, on purpose)

from instruments.base import Adapter


class BrokenAdapter(Adapter):
    kind = "broken-plugin"
