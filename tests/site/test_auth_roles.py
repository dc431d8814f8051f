"""Role checks: one function raises, one answers yes or no."""

import pytest

from dispatcher_site.auth import Caller, RolesMissing, caller_may_use, require_roles, roles_parse

alice = Caller(sub="alice@example.org", email="alice@example.org", roles=frozenset({"general"}))
manager = Caller(sub="staff@example.org", roles=frozenset({"general", "job manager"}))


def test_require_roles_passes_with_every_role():
    require_roles(manager, ["general", "job manager"], what="inspecting the dispatcher's state")
    require_roles(alice, [], what="instrument empty")


def test_require_roles_names_the_missing_roles():
    with pytest.raises(RolesMissing) as caught:
        require_roles(alice, ["unige-hpc-full", "general"], what="empty/numerical with p above 50")
    error = caught.value
    assert error.status_code == 403
    assert error.missing == ["unige-hpc-full"]
    assert error.message == (
        "Unfortunately, your privileges are not sufficient for empty/numerical with p above 50; "
        "the following roles are missing: unige-hpc-full"
    )


def test_several_missing_roles_are_sorted_and_comma_separated():
    with pytest.raises(RolesMissing) as caught:
        require_roles(alice, "unige-hpc-full, oda workflow developer", what="instrument empty-development")
    assert caught.value.message.endswith("the following roles are missing: oda workflow developer, unige-hpc-full")


def test_public_callers_have_no_roles():
    with pytest.raises(RolesMissing) as caught:
        require_roles(Caller.public(), ["general"], what="instrument empty")
    assert caught.value.missing == ["general"]


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
