"""The rules of who is told what, as a pure function."""

from datetime import UTC, datetime, timedelta

from notifications.policy import History, Planned, SiteRules, plan_deliveries, resolve_options
from notifications.vocabulary import Channel, Event, Outcome, Role

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
ALICE = "alice@example.org"
ROOM = "!alice:localhost"
DEFAULTS = {
    "mssub": False, "msdone": True, "msfail": True, "mstout": False, "tem": 1800.0, "intsub": 1800.0,
    "mxsub": False, "mxdone": True, "mxfail": True, "mxstout": False, "tmx": 1800.0, "mxintsub": 1800.0,
}  # fmt: skip
SITE = SiteRules(defaults=DEFAULTS)


def plan(event=Event.DONE, *, owner=ALICE, duration_s=5.0, claims=None, saved=None, site=SITE, history=None):
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
    planned = by_channel(plan(Event.DONE))
    assert planned.keys() == {(Channel.EMAIL, ALICE), (Channel.MATRIX, ROOM)}
    assert all(
        p.outcome == Outcome.PENDING and p.role == Role.OWNER and p.event == Event.DONE for p in planned.values()
    )


def test_it_sends_nothing_for_public_jobs_even_on_failure_with_incident_rooms():
    site = SiteRules(defaults=DEFAULTS, matrix_bcc_rooms=("!bcc:x",), matrix_incident_rooms=("!incident:x",))
    for event in (Event.SUBMITTED, Event.DONE, Event.FAILED):
        assert plan(event, owner="", site=site, claims={"mssub": True, "mxsub": True, "mxroomid": ROOM}) == []


def test_it_sends_submitted_only_when_asked():
    assert plan(Event.SUBMITTED) == []
    planned = by_channel(plan(Event.SUBMITTED, claims={"mssub": True, "mxsub": "true", "mxroomid": ROOM}))
    assert {p.outcome for p in planned.values()} == {Outcome.PENDING}
    assert planned.keys() == {(Channel.EMAIL, ALICE), (Channel.MATRIX, ROOM)}


def test_it_skips_a_submitted_notice_within_the_interval_and_sends_after_it():
    claims = {"mssub": True, "intsub": 60, "mxsub": True, "mxintsub": "600", "mxroomid": ROOM}
    recent = History(
        last_submitted_at={
            (Channel.EMAIL, ALICE): NOW - timedelta(seconds=30),
            (Channel.MATRIX, ROOM): NOW - timedelta(seconds=120),
        }
    )
    planned = by_channel(plan(Event.SUBMITTED, claims=claims, history=recent))
    assert planned[(Channel.EMAIL, ALICE)].outcome == Outcome.SKIPPED
    assert "60 s" in planned[(Channel.EMAIL, ALICE)].reason
    assert planned[(Channel.MATRIX, ROOM)].outcome == Outcome.SKIPPED  # 120 s < 600 s

    later = History(last_submitted_at={(Channel.EMAIL, ALICE): NOW - timedelta(seconds=61)})
    assert (
        by_channel(plan(Event.SUBMITTED, claims=claims, history=later))[(Channel.EMAIL, ALICE)].outcome
        == Outcome.PENDING
    )


def test_it_refuses_a_second_done_per_recipient():
    history = History(done_planned=frozenset({(Channel.EMAIL, ALICE)}))
    planned = by_channel(plan(Event.DONE, history=history))
    assert planned[(Channel.EMAIL, ALICE)].outcome == Outcome.REFUSED
    assert planned[(Channel.MATRIX, ROOM)].outcome == Outcome.PENDING


def test_it_sends_done_only_past_the_threshold_when_stout_asks():
    claims = {"mstout": True, "tem": 100, "mxstout": True, "tmx": 10, "mxroomid": ROOM}
    planned = by_channel(plan(Event.DONE, claims=claims, duration_s=50))
    assert planned[(Channel.EMAIL, ALICE)].outcome == Outcome.SKIPPED
    assert "100 s" in planned[(Channel.EMAIL, ALICE)].reason
    assert planned[(Channel.MATRIX, ROOM)].outcome == Outcome.PENDING
    assert (
        by_channel(plan(Event.DONE, claims=claims, duration_s=101))[(Channel.EMAIL, ALICE)].outcome == Outcome.PENDING
    )
    # Without stout the threshold does not matter.
    assert (
        by_channel(plan(Event.DONE, claims={"tem": 100}, duration_s=1))[(Channel.EMAIL, ALICE)].outcome
        == Outcome.PENDING
    )


def test_it_sends_failed_when_enabled_only():
    assert {p.channel for p in plan(Event.FAILED)} == {Channel.EMAIL, Channel.MATRIX}
    assert plan(Event.FAILED, claims={"msfail": False, "mxfail": "0", "mxroomid": ROOM}) == []


def test_disable_email_and_matrix_as_oda_api_sets_them():
    # `oda-api token modify --disable-email --disable-matrix`
    claims = {"mssub": False, "msdone": False, "mxsub": False, "mxdone": False, "mxroomid": ROOM}
    assert plan(Event.DONE, claims=claims) == []


def test_claims_override_saved_preferences_which_override_site_defaults():
    saved = {"msdone": False, "mxroomid": "!saved:localhost", "intsub": 5.0}
    options = resolve_options(claims={"msdone": "yes"}, saved=saved, defaults=DEFAULTS)
    assert options["msdone"] is True
    assert options["mxroomid"] == "!saved:localhost"
    assert options["intsub"] == 5.0
    assert options["tem"] == 1800.0
    planned = by_channel(plan(Event.DONE, claims={}, saved=saved))
    assert planned.keys() == {(Channel.MATRIX, "!saved:localhost")}


def test_a_malformed_claim_falls_back_instead_of_disabling():
    options = resolve_options(claims={"msdone": "maybe", "tem": "soon", "intsub": -3}, saved={}, defaults=DEFAULTS)
    assert options["msdone"] is True
    assert options["tem"] == 1800.0
    assert options["intsub"] == 1800.0


def test_saved_email_address_replaces_the_token_subject():
    planned = plan(Event.DONE, claims={}, saved={"email": "alice.work@example.org"})
    assert [p.recipient for p in planned] == ["alice.work@example.org"]


def test_an_owner_that_is_not_an_email_gets_no_mail():
    assert [p.channel for p in plan(Event.DONE, owner="alice-id")] == [Channel.MATRIX]


def test_bcc_email_rides_on_the_owners_mail():
    site = SiteRules(defaults=DEFAULTS, email_bcc=("ops@example.org",))
    mail = by_channel(plan(Event.DONE, site=site))[(Channel.EMAIL, ALICE)]
    assert mail.bcc == ("ops@example.org",)


def test_bcc_rooms_get_a_copy_following_the_matrix_rules():
    site = SiteRules(defaults=DEFAULTS, matrix_bcc_rooms=("!bcc:x", ROOM))
    planned = by_channel(plan(Event.DONE, site=site))
    assert planned[(Channel.MATRIX, "!bcc:x")].role == Role.BCC
    assert planned[(Channel.MATRIX, ROOM)].role == Role.OWNER  # listed once, as the owner's room
    assert len(planned) == 3
    # No submitted copy unless the job asks for submitted notices.
    assert plan(Event.SUBMITTED, site=site) == []
    # A copy room still gets its copy when the user has no room of their own.
    assert (Channel.MATRIX, "!bcc:x") in by_channel(plan(Event.DONE, site=site, claims={}))


def test_incident_rooms_hear_of_failures_only_whatever_the_user_chose():
    site = SiteRules(defaults=DEFAULTS, matrix_incident_rooms=("!incident:x",))
    failed = by_channel(plan(Event.FAILED, site=site, claims={"mxfail": False, "msfail": False}))
    assert failed.keys() == {(Channel.MATRIX, "!incident:x")}
    assert failed[(Channel.MATRIX, "!incident:x")].role == Role.INCIDENT
    assert (Channel.MATRIX, "!incident:x") not in by_channel(plan(Event.DONE, site=site))


def test_a_channel_the_site_has_not_configured_plans_nothing():
    site = SiteRules(defaults=DEFAULTS, email_enabled=False, matrix_enabled=False)
    assert plan(Event.DONE, site=site) == []
    only_mail = SiteRules(defaults=DEFAULTS, matrix_enabled=False)
    assert [p.channel for p in plan(Event.DONE, site=only_mail)] == [Channel.EMAIL]


def test_progress_and_other_events_plan_nothing():
    assert plan("progress") == []
    assert plan("aborted") == []
