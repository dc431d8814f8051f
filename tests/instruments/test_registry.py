import logging

import pytest
from django.core import checks
from django.utils import timezone

from instruments import registry
from instruments.exceptions import ParameterError, QueryTypeRefused, UnknownInstrument, UnknownProduct
from instruments.models import Instrument
from instruments.registry import instrument_get, instruments_enabled
from instruments.services import instruments_set_enabled

pytestmark = pytest.mark.django_db

BUILTIN = {
    "empty",
    "empty-async",
    "empty-semi-async",
    "empty-development",
    "empty-with-conf",
    "empty-async-return-progress",
    "empty-with-posix-path",
    "demo-lightcurve",
}


def names() -> set[str]:
    return {handle.name for handle in instruments_enabled()}


def test_it_offers_the_builtin_instruments():
    assert BUILTIN <= names()
    handle = instrument_get("empty-development")
    assert handle.kind == "empty-development"
    assert handle.roles == frozenset({"oda workflow developer"})
    assert set(instrument_get("empty").products()) == {
        "dummy", "numerical", "file_dummy", "failing", "parametrical", "echo", "restricted", "structured", "optional"
    }  # fmt: skip
    assert set(instrument_get("empty-async").products()) == {"dummy", "dummy-log-submit", "numerical"}
    assert set(instrument_get("empty-semi-async").products()) == {"dummy", "numerical"}
    assert set(instrument_get("empty-with-conf").products()) == {"dummy"}
    assert set(instrument_get("empty-async-return-progress").products()) == {"dummy"}
    assert set(instrument_get("empty-with-posix-path").products()) == {"file_dummy"}
    assert set(instrument_get("demo-lightcurve").products()) == {"lightcurve"}


def test_an_unknown_instrument_is_refused_naming_none_of_the_installed_ones():
    # Whoever reads the message may not see every instrument: each interface lists those its caller may use.
    with pytest.raises(UnknownInstrument) as caught:
        instrument_get("nope")
    assert caught.value.status_code == 400
    assert str(caught.value) == "Instrument 'nope' is not installed; /instr-list names the instruments you may use."
    assert BUILTIN <= set(caught.value.installed_instruments)


def test_a_disabled_instrument_is_hidden_at_once():
    row = Instrument.objects.get(name="empty-async")
    row.enabled = False
    row.save()
    assert "empty-async" not in names()
    with pytest.raises(UnknownInstrument):
        instrument_get("empty-async")


def test_the_enable_service_hides_and_shows_instruments():
    pk = Instrument.objects.get(name="empty-semi-async").pk
    assert instruments_set_enabled(instrument_ids=[pk], enabled=False) == 1
    assert "empty-semi-async" not in names()
    instruments_set_enabled(instrument_ids=[pk], enabled=True)
    assert instrument_get("empty-semi-async").kind == "empty-semi-async"


def test_a_change_made_elsewhere_is_seen_after_the_ttl(settings):
    assert "empty-async" in names()
    # update() sends no signal here: like the admin of another process, which stamps updated_at.
    Instrument.objects.filter(name="empty-async").update(enabled=False, updated_at=timezone.now())
    settings.INSTRUMENTS_CACHE_TTL_S = 3600
    assert "empty-async" in names()  # still cached
    settings.INSTRUMENTS_CACHE_TTL_S = 0
    assert "empty-async" not in names()


def test_cached_lookups_do_not_touch_the_database(django_assert_num_queries):
    instrument_get("empty").validate("echo", {})  # warm
    with django_assert_num_queries(0):
        handle = instrument_get("empty")
        handle.validate("numerical", {"p": "20"})
        handle.roles_for("numerical", {"p": 20.0})
        instruments_enabled()


def test_an_unchanged_instrument_keeps_its_handle_when_another_changes():
    empty = instrument_get("empty")
    Instrument.objects.create(name="another", kind="empty")
    assert "another" in names()
    assert instrument_get("empty") is empty
    row = Instrument.objects.get(name="empty")
    row.settings = {"timeout_s": 7}
    row.save()
    assert instrument_get("empty") is not empty
    assert instrument_get("empty").timeout_s == 7.0


def test_validate_normalizes_fills_defaults_and_names_unused():
    result = instrument_get("empty").validate("numerical", {"p": "20", "RA": "83.63", "bogus": "1", "alpha": "2"})
    assert result.params == {
        "src_name": "1E 1740.7-2942",
        "RA": 83.63,
        "DEC": -29.74516667,
        "T1": "2017-03-06T13:26:48.000",
        "T2": "2017-03-06T15:32:27.000",
        "T_format": "isot",
        "p_list": None,
        "p": 20.0,
    }
    assert result.unused == ["alpha", "bogus"]


def test_validate_gives_the_same_params_for_the_same_meaning():
    handle = instrument_get("empty")
    iso = handle.validate("echo", {"T1": "2017-03-06T13:26:48", "T_format": "isot"}).params
    mjd = handle.validate("echo", {"T1": "57818.56027777778", "T_format": "mjd"}).params
    assert iso == mjd


def test_validate_refuses_bad_values_with_the_parameter_named():
    with pytest.raises(ParameterError) as caught:
        instrument_get("empty").validate("numerical", {"p": "900"})
    assert str(caught.value) == "Parameter p wrong value 900: must be at most 800"
    with pytest.raises(
        UnknownProduct,
        match="its products: dummy, echo, failing, file_dummy, numerical, optional, parametrical, restricted, str",
    ):
        instrument_get("empty").validate("spectrum", {})


def test_validate_checks_the_query_type_when_given():
    handle = instrument_get("empty")
    assert handle.product("dummy").query_types == frozenset({"Dummy"})
    handle.validate("dummy", {}, query_type="Dummy")
    with pytest.raises(QueryTypeRefused, match="answers query_type Dummy, not 'Real'"):
        handle.validate("dummy", {}, query_type="Real")


def test_roles_come_from_instrument_product_row_and_values():
    handle = instrument_get("empty")
    assert handle.roles_for("echo", {}) == frozenset()
    assert handle.roles_for("numerical", {"p": 10.0}) == {"general"}
    assert handle.roles_for("numerical", {"p": 51.0}) == {"general", "unige-hpc-full"}
    assert instrument_get("empty-development").roles_for("dummy", {}) == {"oda workflow developer"}
    row = Instrument.objects.get(name="empty")
    row.product_roles = {"echo": ["echo-users"]}
    row.save()
    assert instrument_get("empty").roles_for("echo", {}) == {"echo-users"}


def test_nb2w_backends_from_the_environment_are_instruments(settings, monkeypatch):
    # Stand-in for the nb2workflow kind: only the registry's wiring is under test here.
    monkeypatch.setitem(registry.BUILTIN_KINDS, "nb2workflow", "instruments.builtin.empty.EmptyAdapter")
    registry.registry_reset()
    settings.NB2W_BACKENDS = {"fake-nb": "http://127.0.0.1:9/"}
    handle = instrument_get("fake-nb")
    assert handle.kind == "nb2workflow"
    assert handle.settings == {"url": "http://127.0.0.1:9/"}
    # A row of the same name takes precedence, e.g. to disable it.
    Instrument.objects.create(name="fake-nb", kind="nb2workflow", settings={"url": "http://x/"}, enabled=False)
    assert "fake-nb" not in names()


def test_an_unknown_kind_is_reported_by_the_system_check_and_skipped(caplog):
    Instrument.objects.create(name="ghost", kind="no-such-kind")
    messages = checks.run_checks(tags=["instruments"])
    assert [(m.id, m.obj) for m in messages] == [("instruments.W001", "Instrument ghost")]
    assert "unknown kind 'no-such-kind'" in messages[0].msg
    with caplog.at_level(logging.WARNING, logger="instruments.registry"):
        assert "ghost" not in names()
    assert "instrument 'ghost' skipped: its kind 'no-such-kind' is unavailable" in caplog.text
    assert BUILTIN <= names()


def test_a_kind_that_fails_to_import_is_reported_by_the_system_check(monkeypatch):
    monkeypatch.setitem(registry.BUILTIN_KINDS, "shaky", "instruments.no_such_module.Adapter")
    registry.registry_reset()
    Instrument.objects.create(name="shaky-one", kind="shaky")
    messages = checks.run_checks(tags=["instruments"])
    assert [m.id for m in messages] == ["instruments.W002"]
    assert "ModuleNotFoundError" in messages[0].msg
    assert "shaky-one" not in names()


def test_the_system_check_is_quiet_for_the_builtins():
    assert checks.run_checks(tags=["instruments"]) == []
