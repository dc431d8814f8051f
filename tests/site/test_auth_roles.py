"""Role checks: one function raises, one answers yes or no."""

import pytest

from dispatcher_site.auth import Caller, RolesMissing, TokenRequired, caller_may_use, require_roles, roles_parse
from dispatcher_site.roles import Guarded, RolesNeeded

alice = Caller(sub="alice@example.org", email="alice@example.org", roles=frozenset({"general"}))
manager = Caller(sub="staff@example.org", roles=frozenset({"general", "job manager"}))


def test_require_roles_passes_with_every_role():
    require_roles(manager, ["general", "job manager"], what="inspect the state for a given job_id")
    require_roles(alice, [], what="instrument empty")


def test_an_action_refused_names_the_roles_held_and_missing_as_the_earlier_dispatcher_did():
    with pytest.raises(RolesMissing) as caught:
        require_roles(alice, ["unige-hpc-full", "general"], what="inspect the state for a given job_id")
    error = caught.value
    assert error.status_code == 403
    assert error.missing == ["unige-hpc-full"]
    assert error.message == (
        "Unfortunately, your privileges are not sufficient to inspect the state for a given job_id.\n"
        "Your privilege roles include ['general'], but the following roles are missing: unige-hpc-full."
    )


def test_several_missing_roles_are_sorted_and_comma_separated():
    with pytest.raises(RolesMissing) as caught:
        require_roles(alice, "unige-hpc-full, oda workflow developer", what="refresh your token")
    assert caught.value.message.endswith("the following roles are missing: oda workflow developer, unige-hpc-full.")


def test_the_roles_held_are_quoted_as_the_token_gives_them():
    token_order = Caller(
        sub="d@example.org", roles=frozenset({"soldier", "general"}), claims={"roles": "soldier, general"}
    )
    with pytest.raises(RolesMissing) as caught:
        require_roles(token_order, ["job manager"], what="inspect the state for a given job_id")
    assert "Your privilege roles include ['soldier', 'general'], but" in caught.value.message


def test_a_public_caller_asked_for_an_actions_role_is_asked_for_a_token():
    with pytest.raises(TokenRequired) as caught:
        require_roles(Caller.public(), ["general"], what="inspect the state for a given job_id")
    assert (caught.value.status_code, caught.value.message) == (403, "A token must be provided.")


def test_an_instrument_refused_says_so_in_the_earlier_words():
    needed = RolesNeeded({"oda workflow developer"}, guarded=Guarded.INSTRUMENT)
    for caller in (alice, Caller.public()):
        with pytest.raises(RolesMissing) as caught:
            require_roles(caller, needed, what="instrument empty-development")
        assert caught.value.message == (
            "Unfortunately, your priviledges are not sufficient to make the request for this instrument.\n"
        )


def test_a_product_refused_lists_each_missing_role_with_its_reason():
    needed = RolesNeeded(
        {"general", "unige-hpc-full", "other"},
        guarded=Guarded.PRODUCT,
        reasons={"general": "general role is needed for p>50", "unige-hpc-full": "unige-hpc-full is needed too"},
    )
    with pytest.raises(RolesMissing) as caught:
        require_roles(Caller.public(), needed, what="empty/numerical")
    assert caught.value.missing == ["general", "other", "unige-hpc-full"]
    assert caught.value.message == (
        "Unfortunately, your priviledges are not sufficient to make the request"
        " for this particular product and parameter combination.\n"
        "- Your priviledge roles include []\n"
        "- You are lacking all of the following roles:\n"
        " - general: general role is needed for p>50\n"
        " - other: please refer to support for details\n"
        " - unige-hpc-full: unige-hpc-full is needed too\n"
        "You can request support if you think you should be able to make this request."
    )


def test_roles_needed_keep_their_reasons_when_joined():
    needed = RolesNeeded({"a"}, guarded=Guarded.PRODUCT, reasons={"a": "why a", "z": "not needed, dropped"})
    joined = needed.with_roles(RolesNeeded({"b"}, reasons={"b": "why b"}))
    assert joined == {"a", "b"} and joined.guarded is Guarded.PRODUCT
    assert joined.reasons == {"a": "why a", "b": "why b"}


def test_caller_may_use_is_the_same_rule_as_a_yes_or_no():
    assert caller_may_use(alice, [])
    assert caller_may_use(alice, ["general"])
    assert not caller_may_use(alice, ["general", "oda workflow developer"])
    assert not caller_may_use(Caller.public(), ["general"])
    assert caller_may_use(Caller.public(), ())


def test_a_single_role_string_is_one_role_not_its_letters():
    assert alice.missing_roles("job manager") == ["job manager"]
    assert alice.has_roles("general")


def test_roles_parse_accepts_lists_and_comma_strings():
    assert roles_parse(["a", " b ", ""]) == frozenset({"a", "b"})
    assert roles_parse("a, b,,c ") == frozenset({"a", "b", "c"})
    assert roles_parse(None) == frozenset()


def test_job_manager_is_a_role():
    assert manager.is_job_manager
    assert not alice.is_job_manager
