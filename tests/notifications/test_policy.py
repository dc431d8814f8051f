"""The rules of who is told what, as a pure function."""

from datetime import UTC, datetime, timedelta

from notifications.policy import (
    BCC,
    DONE,
    EMAIL,
    FAILED,
    INCIDENT,
    MATRIX,
    OWNER,
    PENDING,
    REFUSED,
    SKIPPED,
    SUBMITTED,
    History,
    Planned,
    SiteRules,
    plan_deliveries,
    resolve_options,
)

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
ALICE = "alice@example.org"
ROOM = "!alice:localhost"
DEFAULTS = {
    "mssub": False, "msdone": True, "msfail": True, "mstout": False, "tem": 1800.0, "intsub": 1800.0,
    "mxsub": False, "mxdone": True, "mxfail": True, "mxstout": False, "tmx": 1800.0, "mxintsub": 1800.0,
}  # fmt: skip
SITE = SiteRules(defaults=DEFAULTS)


def plan(event=DONE, *, owner=ALICE, duration_s=5.0, claims=None, saved=None, site=SITE, history=None):
    return plan_deliveries(
        event=event,
        owner=owner,
        duration_s=duration_s,
        claims=claims if claims is not None else {"mxroomid": ROOM},
        saved=saved or {},
        site=site,
        history=history or History(),
        now=NOW,
    )


def by_channel(planned: list[Planned]) -> dict[tuple[str, str], Planned]:
    return {(p.channel, p.recipient): p for p in planned}


def test_it_sends_done_by_email_and_matrix_by_default():
    planned = by_channel(plan(DONE))
    assert planned.keys() == {(EMAIL, ALICE), (MATRIX, ROOM)}
    assert all(p.outcome == PENDING and p.role == OWNER and p.event == DONE for p in planned.values())


def test_it_sends_nothing_for_public_jobs_even_on_failure_with_incident_rooms():
    site = SiteRules(defaults=DEFAULTS, matrix_bcc_rooms=("!bcc:x",), matrix_incident_rooms=("!incident:x",))
    for event in (SUBMITTED, DONE, FAILED):
        assert plan(event, owner="", site=site, claims={"mssub": True, "mxsub": True, "mxroomid": ROOM}) == []


def test_it_sends_submitted_only_when_asked():
    assert plan(SUBMITTED) == []
    planned = by_channel(plan(SUBMITTED, claims={"mssub": True, "mxsub": "true", "mxroomid": ROOM}))
    assert {p.outcome for p in planned.values()} == {PENDING}
    assert planned.keys() == {(EMAIL, ALICE), (MATRIX, ROOM)}


def test_it_skips_a_submitted_notice_within_the_interval_and_sends_after_it():
    claims = {"mssub": True, "intsub": 60, "mxsub": True, "mxintsub": "600", "mxroomid": ROOM}
    recent = History(
        last_submitted_at={(EMAIL, ALICE): NOW - timedelta(seconds=30), (MATRIX, ROOM): NOW - timedelta(seconds=120)}
    )
    planned = by_channel(plan(SUBMITTED, claims=claims, history=recent))
    assert planned[(EMAIL, ALICE)].outcome == SKIPPED
    assert "60 s" in planned[(EMAIL, ALICE)].reason
    assert planned[(MATRIX, ROOM)].outcome == SKIPPED  # 120 s < 600 s

    later = History(last_submitted_at={(EMAIL, ALICE): NOW - timedelta(seconds=61)})
    assert by_channel(plan(SUBMITTED, claims=claims, history=later))[(EMAIL, ALICE)].outcome == PENDING


def test_it_refuses_a_second_done_per_recipient():
    history = History(done_planned=frozenset({(EMAIL, ALICE)}))
    planned = by_channel(plan(DONE, history=history))
    assert planned[(EMAIL, ALICE)].outcome == REFUSED
    assert planned[(MATRIX, ROOM)].outcome == PENDING


def test_it_sends_done_only_past_the_threshold_when_stout_asks():
    claims = {"mstout": True, "tem": 100, "mxstout": True, "tmx": 10, "mxroomid": ROOM}
    planned = by_channel(plan(DONE, claims=claims, duration_s=50))
    assert planned[(EMAIL, ALICE)].outcome == SKIPPED
    assert "100 s" in planned[(EMAIL, ALICE)].reason
    assert planned[(MATRIX, ROOM)].outcome == PENDING
    assert by_channel(plan(DONE, claims=claims, duration_s=101))[(EMAIL, ALICE)].outcome == PENDING
    # Without stout the threshold does not matter.
    assert by_channel(plan(DONE, claims={"tem": 100}, duration_s=1))[(EMAIL, ALICE)].outcome == PENDING


def test_it_sends_failed_when_enabled_only():
    assert {p.channel for p in plan(FAILED)} == {EMAIL, MATRIX}
    assert plan(FAILED, claims={"msfail": False, "mxfail": "0", "mxroomid": ROOM}) == []


def test_disable_email_and_matrix_as_oda_api_sets_them():
    # `oda-api token modify --disable-email --disable-matrix`
    claims = {"mssub": False, "msdone": False, "mxsub": False, "mxdone": False, "mxroomid": ROOM}
    assert plan(DONE, claims=claims) == []


def test_claims_override_saved_preferences_which_override_site_defaults():
    saved = {"msdone": False, "mxroomid": "!saved:localhost", "intsub": 5.0}
    options = resolve_options(claims={"msdone": "yes"}, saved=saved, defaults=DEFAULTS)
    assert options["msdone"] is True
    assert options["mxroomid"] == "!saved:localhost"
    assert options["intsub"] == 5.0
    assert options["tem"] == 1800.0
    planned = by_channel(plan(DONE, claims={}, saved=saved))
    assert planned.keys() == {(MATRIX, "!saved:localhost")}


def test_a_malformed_claim_falls_back_instead_of_disabling():
    options = resolve_options(claims={"msdone": "maybe", "tem": "soon", "intsub": -3}, saved={}, defaults=DEFAULTS)
    assert options["msdone"] is True
    assert options["tem"] == 1800.0
    assert options["intsub"] == 1800.0


def test_saved_email_address_replaces_the_token_subject():
    planned = plan(DONE, claims={}, saved={"email": "alice.work@example.org"})
    assert [p.recipient for p in planned] == ["alice.work@example.org"]


def test_an_owner_that_is_not_an_email_gets_no_mail():
    assert [p.channel for p in plan(DONE, owner="alice-id")] == [MATRIX]


def test_bcc_email_rides_on_the_owners_mail():
    site = SiteRules(defaults=DEFAULTS, email_bcc=("ops@example.org",))
    mail = by_channel(plan(DONE, site=site))[(EMAIL, ALICE)]
    assert mail.bcc == ("ops@example.org",)


def test_bcc_rooms_get_a_copy_following_the_matrix_rules():
    site = SiteRules(defaults=DEFAULTS, matrix_bcc_rooms=("!bcc:x", ROOM))
    planned = by_channel(plan(DONE, site=site))
    assert planned[(MATRIX, "!bcc:x")].role == BCC
    assert planned[(MATRIX, ROOM)].role == OWNER  # listed once, as the owner's room
    assert len(planned) == 3
    # No submitted copy unless the job asks for submitted notices.
    assert plan(SUBMITTED, site=site) == []
    # A copy room still gets its copy when the user has no room of their own.
    assert (MATRIX, "!bcc:x") in by_channel(plan(DONE, site=site, claims={}))


def test_incident_rooms_hear_of_failures_only_whatever_the_user_chose():
    site = SiteRules(defaults=DEFAULTS, matrix_incident_rooms=("!incident:x",))
    failed = by_channel(plan(FAILED, site=site, claims={"mxfail": False, "msfail": False}))
    assert failed.keys() == {(MATRIX, "!incident:x")}
    assert failed[(MATRIX, "!incident:x")].role == INCIDENT
    assert (MATRIX, "!incident:x") not in by_channel(plan(DONE, site=site))


def test_a_channel_the_site_has_not_configured_plans_nothing():
    site = SiteRules(defaults=DEFAULTS, email_enabled=False, matrix_enabled=False)
    assert plan(DONE, site=site) == []
    only_mail = SiteRules(defaults=DEFAULTS, matrix_enabled=False)
    assert [p.channel for p in plan(DONE, site=only_mail)] == [EMAIL]


def test_progress_and_other_events_plan_nothing():
    assert plan("progress") == []
    assert plan("aborted") == []
