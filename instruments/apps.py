from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_delete, post_save


class InstrumentsConfig(AppConfig):
    name = "instruments"
    verbose_name = "Instruments"

    def ready(self) -> None:
        from instruments.checks import check_instrument_kinds
        from instruments.models import Instrument
        from instruments.registry import instruments_changed

        checks.register(check_instrument_kinds, "instruments")

        def changed(**kwargs) -> None:
            instruments_changed()

        post_save.connect(changed, sender=Instrument, weak=False, dispatch_uid="instruments_changed_save")
        post_delete.connect(changed, sender=Instrument, weak=False, dispatch_uid="instruments_changed_delete")
