import pytest

from instruments.models import Instrument
from instruments.registry import instruments_enabled

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/instruments/instrument/"


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("staff", "staff@example.org", "pw"))
    return client


def test_it_lists_instruments_with_kind_and_state(staff_client):
    answer = staff_client.get(CHANGELIST, {"q": "async"})
    assert answer.status_code == 200
    listed = {instrument.name for instrument in answer.context["cl"].result_list}
    assert listed == {"empty-async", "empty-semi-async", "empty-async-return-progress"}
    assert "empty-async" in answer.content.decode()
    disabled = staff_client.get(CHANGELIST, {"enabled__exact": "0"})
    assert list(disabled.context["cl"].result_list) == []


def test_the_disable_action_hides_instruments_from_the_registry(staff_client):
    assert "empty-async" in {h.name for h in instruments_enabled()}
    pk = Instrument.objects.get(name="empty-async").pk
    answer = staff_client.post(CHANGELIST, {"action": "disable", "_selected_action": [pk]}, follow=True)
    assert "1 instrument(s) disabled." in answer.content.decode()
    assert Instrument.objects.get(pk=pk).enabled is False
    assert "empty-async" not in {h.name for h in instruments_enabled()}


def test_the_form_refuses_an_unknown_kind(staff_client):
    fields = {"name": "new-one", "kind": "nonsense", "settings": "{}", "roles": "[]", "product_roles": "{}"}
    answer = staff_client.post(f"{CHANGELIST}add/", {**fields, "enabled": "on", "description": ""})
    assert answer.status_code == 200
    assert "Unknown kind &#x27;nonsense&#x27;; available:" in answer.content.decode()
    assert not Instrument.objects.filter(name="new-one").exists()


def test_the_form_refuses_malformed_roles(staff_client):
    fields = {"name": "new-one", "kind": "empty", "settings": "{}", "roles": '"general"', "product_roles": "{}"}
    answer = staff_client.post(f"{CHANGELIST}add/", {**fields, "enabled": "on", "description": ""})
    assert "Roles must be a JSON list of role names" in answer.content.decode()
    fields["roles"] = '["general"]'
    answer = staff_client.post(f"{CHANGELIST}add/", {**fields, "enabled": "on", "description": ""})
    assert answer.status_code == 302
    assert {h.name: h.roles for h in instruments_enabled()}["new-one"] == {"general"}
