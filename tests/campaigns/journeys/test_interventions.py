"""Intervention points (exits weighted by the stage reached), the one-click draft for a point, and a campaign's
journey effect against its holdout, each against a hand count on a small seeded journey."""

import datetime as dt
import math
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from scipy import stats as sps

from campaigns import tasks
from campaigns.journeys.audiences import audience_create
from campaigns.journeys.demo import DEMO_AUDIENCE_RULE, journey_demo_apply
from campaigns.journeys.intervention_drafts import (
    EXIT_TRIGGERS,
    STAGE_TEMPLATES,
    intervention_draft_create,
    stage_templates,
)
from campaigns.journeys.interventions import intervention_points_get, path_url_rule
from campaigns.journeys.selectors import JourneyFilter
from campaigns.journeys.services import journey_setup_get
from campaigns.models import Assignment, Campaign, JourneyEffectCounts, JourneySession, JourneyVisitorStage
from campaigns.results import journey_effect
from campaigns.results.journey_effect import campaign_journey_effect
from campaigns.rules import rule_matches, zone
from campaigns.services.campaigns import campaign_input_errors
from tests.campaigns.journeys.test_admin_page import cells_of
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
DAY = T0.date()
WHERE = JourneyFilter(start=DAY - dt.timedelta(days=1), end=DAY + dt.timedelta(days=1))
BLOG, PRODUCT, CART = "/demo/blog/seo-basics/", "/demo/product/*/", "/demo/cart/"


def session_write(site, visitor, session, paths, *, last_at, steps=None, day=DAY):
    JourneySession.objects.create(
        site=site, visitor_id=visitor, session_id=session, day=day, started_at=last_at, last_at=last_at,
        steps=steps or len(paths), pageviews=steps or len(paths),
        **{f"path_{position}": path for position, path in enumerate(paths, start=1)})


def stage_write(site, visitor, stage, at):
    JourneyVisitorStage.objects.create(site=site, visitor_id=visitor, stage=stage, first_at=at, day=at.date(),
                                       path="/", session_id="")


def minutes(n):
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def journeys(site, outsider_site):
    """Seven visitors' sessions on the demo shop's groups, with the stages they reached and when."""
    journey_demo_apply(site=site)
    session_write(site, "v1", "s1", [BLOG], last_at=minutes(1))  # awareness then: 1
    stage_write(site, "v1", "awareness", minutes(0))
    session_write(site, "v1", "s2", [PRODUCT, CART], last_at=minutes(120))  # decision by then: 3
    stage_write(site, "v1", "consideration", minutes(115))
    stage_write(site, "v1", "decision", minutes(120))
    session_write(site, "v2", "s1", [PRODUCT], last_at=minutes(10))  # consideration: 2 (decision came a day later)
    stage_write(site, "v2", "consideration", minutes(10))
    stage_write(site, "v2", "decision", minutes(24 * 60))
    session_write(site, "v3", "s1", [CART], last_at=minutes(0))  # a customer since yesterday: retention, 4
    stage_write(site, "v3", "retention", minutes(-24 * 60))
    stage_write(site, "v3", "decision", minutes(0))
    session_write(site, "v4", "s1", ["/demo/unknown/"], last_at=minutes(0))  # no stage: counts as 1
    session_write(site, "v5", "s1", [BLOG] * 10, steps=12, last_at=minutes(0))  # left past the kept pages: out
    session_write(site, "v6", "s1", ["/demo/blog/x/", PRODUCT], last_at=minutes(5))  # consideration: 2
    stage_write(site, "v6", "awareness", minutes(0))
    stage_write(site, "v6", "consideration", minutes(5))
    session_write(site, "v7", "s1", [CART], last_at=minutes(3))  # decision: 3
    stage_write(site, "v7", "decision", minutes(3))
    session_write(site, "v8", "s1", [CART], last_at=minutes(0), day=DAY - dt.timedelta(days=5))  # outside the days
    session_write(outsider_site, "v9", "s1", [CART], last_at=minutes(0))  # another owner's site
    stage_write(outsider_site, "v2", "advocacy", minutes(0))  # another site's stage row of a visitor id seen here
    return site


def test_intervention_points_rank_as_counted_by_hand(journeys):
    groups, _cleanups = journey_setup_get(site=journeys)
    on_cart = popup_campaign_create(site=journeys, name="Cart nudge",
                                    targeting={"attr": "path", "op": "equals", "value": "/demo/cart"})
    with_cart = popup_campaign_create(site=journeys, name="Products with a cart", status="paused", targeting={
        "all": [{"attr": "path", "op": "starts_with", "value": "/demo/product/"},
                {"attr": "cart.count", "op": "gt", "value": 0}]})
    popup_campaign_create(site=journeys, name="Not on the demo",
                          targeting={"not": {"attr": "path", "op": "starts_with", "value": "/demo/"}})
    popup_campaign_create(site=journeys, name="Gone", status="archived")

    points = intervention_points_get(site=journeys, where=WHERE, groups=groups)

    # Cart: v1 at decision (3), v3 at retention (4), v7 at decision (3) -> 10 over 3 exits, mostly decision.
    # Product: v2 (2) and v6 (2) -> 4. Blog: SEO: v1's first session (1); /demo/unknown/: v4 without a stage (1).
    pages = [(p.label, p.exits, p.lost, p.stage) for p in points["pages"]]
    assert pages == [("Cart", 3, 10, "decision"), ("Product", 2, 4, "consideration"),
                     ("/demo/unknown/", 1, 1, "awareness"), ("Blog: SEO", 1, 1, "awareness")]
    steps = [(p.label, p.step, p.exits, p.lost) for p in points["steps"]]
    assert steps == [("Cart", 1, 2, 7), ("Cart", 2, 1, 3), ("Product", 1, 1, 2), ("Product", 2, 1, 2),
                     ("/demo/unknown/", 1, 1, 1), ("Blog: SEO", 1, 1, 1)]
    running = {p.label: [(c.id, c.always) for c in p.campaigns] for p in points["pages"]}
    assert running == {"Cart": [(on_cart.id, True)], "Product": [(with_cart.id, False)], "/demo/unknown/": [],
                       "Blog: SEO": []}


def test_the_map_lists_the_points_and_offers_a_draft_for_each(client, owner, journeys):
    client.force_login(owner)
    html = client.get(reverse("admin:campaigns_site_journeys", args=[journeys.id]),
                      {"since": WHERE.start.isoformat(), "until": WHERE.end.isoformat()}).content.decode()
    rows = cells_of(html, "intervention-pages")
    assert rows[1][:5] == ("Cart", "any", "3", "10", "Decision (3)")
    assert "the furthest stage" in html  # the help text says how the stage at an exit is known
    form = re.search(r'<tr data-label="Cart">.*?</tr>', html, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form and 'value="exit_discount"' in form and 'value="decision"' in form


def test_one_click_makes_a_draft_that_validates_and_opens_in_the_editors(owner, outsider, journeys):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = reverse("admin:campaigns_site_intervention_draft", args=[journeys.id])
    point = {"kind": "group", "label": "Cart", "stage": "decision", "template": "exit_discount"}
    assert client.post(url, point).status_code == 403  # no CSRF token
    map_page = client.get(reverse("admin:campaigns_site_journeys", args=[journeys.id]))
    token = map_page.cookies["csrftoken"].value
    response = client.post(url, {**point, "csrfmiddlewaretoken": token})

    draft = Campaign.objects.get(site=journeys)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[draft.id])
    assert draft.status == Campaign.Status.DRAFT and draft.message_type == "lead"
    # The Cart group's rule, and the offer's own condition that does not name a page.
    assert draft.targeting == {"all": [{"attr": "path", "op": "equals", "value": "/demo/cart/"},
                                       {"attr": "pageviews_session", "op": "gte", "value": 2}]}
    assert draft.triggers == list(EXIT_TRIGGERS)
    assert campaign_input_errors(campaign=draft, fields={}, variants=None) == []
    editors = client.get(response["Location"])
    assert editors.status_code == 200 and draft.name in editors.content.decode()

    outsider_client = Client()
    outsider_client.force_login(outsider)
    assert outsider_client.post(url, point).status_code == 404
    assert Campaign.objects.filter(site=journeys).count() == 1


def test_the_maps_audience_goes_into_the_draft_and_another_sites_audience_is_refused(
        client, owner, outsider_site, journeys):
    readers = audience_create(site=journeys, name="Blog readers", rule=DEMO_AUDIENCE_RULE)
    theirs = audience_create(site=outsider_site, name="Their readers", rule=DEMO_AUDIENCE_RULE)
    client.force_login(owner)
    html = client.get(reverse("admin:campaigns_site_journeys", args=[journeys.id]),
                      {"audience": readers.id}).content.decode()
    form = re.search(r'<tr data-label="Cart">.*?</tr>', html, re.S).group(0)
    assert f'<option value="{readers.id}" selected>Blog readers</option>' in form  # the map's filter, preselected
    assert "Their readers" not in html
    url = reverse("admin:campaigns_site_intervention_draft", args=[journeys.id])
    point = {"kind": "group", "label": "Cart", "stage": "decision", "template": "exit_discount"}

    refused = client.post(url, {**point, "audience": theirs.id}, follow=True)
    assert f"No draft was created: the audience #{theirs.id} is not one of this site&#x27;s audiences." in (
        refused.content.decode())
    assert not Campaign.objects.filter(site=journeys).exists()

    response = client.post(url, {**point, "audience": readers.id})
    draft = Campaign.objects.get(site=journeys)
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[draft.id])
    assert draft.targeting == {"all": [{"attr": "path", "op": "equals", "value": "/demo/cart/"},
                                       {"attr": "pageviews_session", "op": "gte", "value": 2},
                                       {"attr": "audiences", "op": "includes", "value": [readers.id]}]}
    assert campaign_input_errors(campaign=draft, fields={}, variants=None) == []
    client.post(url, {**point, "audience": ""})  # every visitor: no audience condition
    assert Campaign.objects.filter(site=journeys).exclude(id=draft.id).get().targeting["all"][-1]["attr"] == (
        "pageviews_session")


def test_a_draft_for_a_path_with_an_id_matches_its_pages_and_keeps_a_cart_recovery_exit_trigger(owner, journeys):
    groups, _cleanups = journey_setup_get(site=journeys)
    draft = intervention_draft_create(site=journeys, owner=owner, kind="path", label="/demo/order/*/",
                                      stage="decision", groups=groups, template_key="cart_recovery")
    page, cart = draft.targeting["all"]
    assert page == path_url_rule(path="/demo/order/*/")
    assert rule_matches(rule=page, context={"url": "https://shop.example/demo/order/42/"})
    assert not rule_matches(rule=page, context={"url": "https://shop.example/demo/order/42/items/"})
    assert cart == {"attr": "cart.count", "op": "gt", "value": 0}
    assert draft.triggers == [{"type": "cart_abandonment", "via": "exit_intent"}]
    with pytest.raises(ValueError, match="not one offered"):
        intervention_draft_create(site=journeys, owner=owner, kind="group", label="Cart", stage="awareness",
                                  groups=groups, template_key="cart_recovery")


def _hand_counted(site, outsider_site):
    """A campaign with a holdout whose journey effect is counted by hand below: exposed 5 (3 moved on, 2
    converted), holdout 4 (1 moved on, 1 converted)."""
    campaign = popup_campaign_create(site=site, name="Nudge", control_share=0.5)
    variant = campaign.variants.first()
    arms = {"e1": variant.id, "e2": variant.id, "e3": variant.id, "e4": variant.id, "e5": variant.id,
            "h1": None, "h2": None, "h3": None, "h4": None}
    converted = {"e1", "e2", "h3"}
    for visitor, variant_id in arms.items():
        Assignment.objects.create(site=site, campaign_id=campaign.id, variant_id=variant_id, visitor_id=visitor,
                                  first_exposed_at=T0, converted_on=DAY if visitor in converted else None)
    other = popup_campaign_create(site=site, name="Other")
    Assignment.objects.create(site=site, campaign_id=other.id, variant_id=None, visitor_id="h1", first_exposed_at=T0)
    for visitor, stage, at in (
        ("e1", "awareness", -60), ("e1", "consideration", 60),  # 1 -> 2 after: moved on
        ("e2", "awareness", -60), ("e2", "decision", 2 * 24 * 60),  # 1 -> 3, a stage skipped: moved on
        ("e3", "consideration", -60), ("e3", "awareness", 60),  # 2, then only a lower stage: not
        ("e4", "awareness", 60),  # none -> 1: moved on
        ("e5", "advocacy", -60),  # already at the last stage: cannot
        ("h1", "awareness", -60),  # nothing after: not
        ("h2", "awareness", -60), ("h2", "consideration", 0),  # reached at the moment of assignment: not after
        ("h3", "consideration", 180),  # none -> 2: moved on
    ):
        stage_write(site, visitor, stage, minutes(at))
    stage_write(outsider_site, "h1", "decision", minutes(60))  # another site's row for the same visitor id
    return campaign


def test_the_journey_effect_of_a_campaign_with_a_holdout_matches_a_hand_count(client, owner, site, outsider_site):
    campaign = _hand_counted(site, outsider_site)
    effect = campaign_journey_effect(campaign=campaign)
    assert effect.as_of is None  # a small campaign: counted on the read

    assert (effect.exposed.visitors, effect.exposed.moved_on, effect.exposed.converted) == (5, 3, 2)
    assert (effect.holdout.visitors, effect.holdout.moved_on, effect.holdout.converted) == (4, 1, 1)
    for comparison, (pe, ph) in ((effect.moved_on, (3 / 5, 1 / 4)), (effect.converted, (2 / 5, 1 / 4))):
        ve, vh = pe * (1 - pe) / 5, ph * (1 - ph) / 4  # Welch's t on two proportions
        dof = (ve + vh) ** 2 / (ve ** 2 / 4 + vh ** 2 / 3)
        width = sps.t.ppf(0.975, dof) * math.sqrt(ve + vh)
        assert comparison.difference == pytest.approx(pe - ph)
        assert comparison.ci == pytest.approx((pe - ph - width, pe - ph + width))
        assert (comparison.exposed_share, comparison.holdout_share) == pytest.approx((pe, ph))

    client.force_login(owner)
    results = client.get(reverse("admin:campaigns_campaign_results", args=[campaign.id])).content.decode()
    row = cells_of(results, "journey-effects")[1]
    assert row[:5] == ("Nudge", "5", "4", "3 (60 %)", "1 (25 %)")
    assert row[5] == "+35 pp"
    journey_map = client.get(reverse("admin:campaigns_site_journeys", args=[site.id])).content.decode()
    assert cells_of(journey_map, "journey-effects")[1][:3] == ("Nudge", "5", "4")


def test_a_campaign_too_big_to_count_on_a_page_is_counted_by_the_worker(client, owner, site, outsider_site,
                                                                         monkeypatch, settings):
    monkeypatch.setattr(journey_effect, "LIVE_ASSIGNMENTS", 8)  # the campaign's 9 assignments are too many
    campaign = _hand_counted(site, outsider_site)
    settings.JOURNEY_EFFECTS_KEPT = False  # no worker (tasks in-process): the page counts every campaign itself
    assert campaign_journey_effect(campaign=campaign).as_of is None
    settings.JOURNEY_EFFECTS_KEPT = True
    client.force_login(owner)
    pages = (reverse("admin:campaigns_campaign_results", args=[campaign.id]),
             reverse("admin:campaigns_site_journeys", args=[site.id]))
    for url in pages:  # not counted yet: said so, and no figures
        html = client.get(url).content.decode()
        assert "Being counted: Nudge." in html and 'id="journey-effects"' not in html
    assert campaign_journey_effect(campaign=campaign) is None

    assert tasks.journey_effects_refresh() == 1
    effect = campaign_journey_effect(campaign=campaign)
    assert (effect.exposed.visitors, effect.exposed.moved_on, effect.exposed.converted) == (5, 3, 2)
    assert (effect.holdout.visitors, effect.holdout.moved_on, effect.holdout.converted) == (4, 1, 1)
    assert effect.as_of is not None and effect.moved_on.difference == pytest.approx(3 / 5 - 1 / 4)
    for url in pages:
        html = client.get(url).content.decode()
        assert cells_of(html, "journey-effects")[1][1:3] == ("5", "4") and "Being counted" not in html
        assert timezone.localtime(effect.as_of, zone(site.time_zone)).strftime("as of %Y-%m-%d %H:%M") in html

    # Counted again only when due: the kept counts are read meanwhile.
    Assignment.objects.create(site=site, campaign_id=campaign.id, variant_id=None, visitor_id="h5",
                              first_exposed_at=T0)
    assert journey_effect.journey_effects_refresh() == 0
    assert campaign_journey_effect(campaign=campaign).holdout.visitors == 4
    later = timezone.now() + dt.timedelta(seconds=journey_effect.REFRESH_SECONDS + 1)
    assert journey_effect.journey_effects_refresh(now=later) == 1
    assert campaign_journey_effect(campaign=campaign).holdout.visitors == 5
    # A run that finds the campaign held by another leaves it to that one.
    JourneyEffectCounts.objects.filter(campaign_id=campaign.id).update(
        claimed_until=timezone.now() + dt.timedelta(minutes=5))
    assert journey_effect.journey_effects_refresh(now=later + dt.timedelta(hours=1)) == 0
    # Within the read's own budget a campaign is counted there, fresh; past it the kept counts are read.
    monkeypatch.setattr(journey_effect, "LIVE_ASSIGNMENTS", 10)
    assert campaign_journey_effect(campaign=campaign).as_of is None
    small = popup_campaign_create(site=site, name="Small", control_share=0.5)
    for visitor, variant_id in (("s1", None), ("s2", small.variants.first().id)):
        Assignment.objects.create(site=site, campaign_id=small.id, variant_id=variant_id, visitor_id=visitor,
                                  first_exposed_at=T0)
    effects, pending = journey_effect.journey_effects_read(campaigns=[small, campaign])
    assert [(e.campaign_id, e.as_of is None) for e in effects] == [(small.id, True), (campaign.id, False)]
    assert not pending
    # An archived campaign is counted once a day, not every ten minutes.
    JourneyEffectCounts.objects.filter(campaign_id=campaign.id).update(claimed_until=None)
    Campaign.objects.filter(id=campaign.id).update(status=Campaign.Status.ARCHIVED)
    assert journey_effect.journey_effects_due(now=later + dt.timedelta(hours=1)) == [small]  # never counted
    assert campaign in journey_effect.journey_effects_due(now=later + dt.timedelta(days=1, seconds=1))


def test_a_checkout_or_a_cart_preselects_its_own_template_among_the_decision_stage_ones():
    assert stage_templates(stage="decision", label="Checkout")[0] == "checkout_survey"
    assert stage_templates(stage="decision", label="/cart/")[0] == "cart_recovery"
    assert stage_templates(stage="decision", label="Product")[0] == "exit_discount"
    assert sorted(stage_templates(stage="decision", label="Checkout")) == sorted(STAGE_TEMPLATES["decision"])
    # A page's template is preselected only where the stage offers it.
    assert stage_templates(stage="awareness", label="Checkout") == STAGE_TEMPLATES["awareness"]
