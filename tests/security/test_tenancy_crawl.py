"""Owner A crawls every admin and API URL with owner B's ids, reading and writing: nothing of B's is shown or
changed. The URL list comes from the resolver, so a new pattern fails here until the crawl covers it."""

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from campaigns.admin.results import EXPORT_KINDS
from campaigns.models import (
    Asset,
    Audience,
    ConsentRecord,
    DataRequest,
    Event,
    JourneyExitDaily,
    JourneyExitPathsDaily,
    JourneyLabelDaily,
    JourneyRollupDay,
    JourneyWalkDaily,
    RejectedEventCount,
    Response,
    Site,
    SiteInvitation,
)
from tests.conftest import user_create

pytestmark = pytest.mark.django_db

# Every name, answer and address of B's carries this mark; it must never appear in a page A is served.
MARK = "zzbsecret"
# B's visitor: A may type it (it is echoed in A's own form), but must never get B's rows for it.
B_VISITOR = "b-visitor-1"

# Patterns a staff user's tenancy does not apply to, each with why.
NOT_CRAWLED = {
    "": "the demo redirect (DEBUG or DEMO only)",
    "healthz": "liveness, no data",
    "readyz": "readiness, no data",
    "api/w/<str:public_key>/config": "public widget endpoint: the site's key is public by design",
    "api/w/<str:public_key>/decide": "public widget endpoint: the site's key is public by design",
    "api/w/<str:public_key>/events": "public widget endpoint: the site's key is public by design",
    "api/w/<str:public_key>/magnet/<str:token>": "a lead magnet's file, behind a signed link only collect issues "
                                                 "(tests/widget/test_magnet.py: forged and other-site links)",
    "api/w/<str:public_key>/preview": "public widget endpoint: answers a signed link's token only (test_preview_api)",
    r"^static/widget/retarget\.[0-9a-f]{6,64}\.js$": "the public widget bundle",
    "api/schema/": "the API's schema, no data",
    "api/docs/": "the API's documentation page, no data",
    "admin/login/": "no user yet",
    "admin/logout/": "ends A's own session",
    "admin/password_change/": "A's own password",
    "admin/password_change/done/": "A's own password",
    "admin/jsi18n/": "translations, no data",
    "admin/(?P<url>.*)$": "the admin's catch-all (404 or a redirect to add a slash)",
    **{p: "the demo shop (DEBUG or DEMO only), no stored data" for p in (
        "demo/", "demo/blog/<slug:slug>/", "demo/product/<slug:slug>/", "demo/cart/", "demo/cart/add/",
        "demo/checkout/", "demo/thanks/")},
}
# Patterns with an id in them: which of B's objects fills it ("model" for the admin's per-model routes).
BY_SITE = "site"
BY_CAMPAIGN = "campaign"
WITH_IDS = {
    "api/sites/<int:pk>/": BY_SITE,
    "api/sites/<int:pk>/visitor-data/": BY_SITE,
    "api/sites/<int:pk>/visitor-data/export/": BY_SITE,
    "api/sites/<int:pk>/visitor-data/erase/": BY_SITE,
    "api/sites/<int:pk>/consent/": BY_SITE,
    "api/campaigns/<int:pk>/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/results/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/nps/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/nps/responses/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/feedback/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/feedback/responses/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/leads/": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/export/results.csv": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/export/nps.csv": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/export/feedback.csv": BY_CAMPAIGN,
    "api/campaigns/<int:pk>/export/leads.csv": BY_CAMPAIGN,
    "admin/campaigns/site/<int:site_id>/preview/": BY_SITE,
    "admin/campaigns/site/<int:site_id>/journeys/": BY_SITE,
    "admin/campaigns/site/<int:site_id>/journeys/setup/": BY_SITE,
    "admin/campaigns/site/<int:site_id>/journeys/intervene/": BY_SITE,
    "admin/campaigns/site/<int:site_id>/installation/origin/": BY_SITE,
    "admin/campaigns/site/<int:site_id>/installation/check/": BY_SITE,
    "admin/campaigns/campaign/<int:object_id>/results/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/winner/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/nps/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/feedback/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/leads/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/consent/": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/export/<str:kind>.csv": BY_CAMPAIGN,
    "admin/campaigns/campaign/<int:object_id>/preview-link/": BY_CAMPAIGN,
    "admin/auth/user/<id>/password/": "user",
    "admin/r/<path:content_type_id>/<path:object_id>/": "shortcut",
}
# Lists and forms without an id: A is served them, and they must not name anything of B's.
WITHOUT_IDS = {
    "api/sites/", "api/campaigns/", "api/stats/calculate", "admin/", "admin/autocomplete/",
    "admin/campaigns/site/invitations/", "admin/campaigns/campaign/calculator/", "admin/campaigns/datarequest/answer/",
    "admin/campaigns/campaign/gallery/", "admin/campaigns/campaign/describe/", "admin/campaigns/campaign/live-preview/",
    r"admin/^(?P<app_label>auth|authtoken|axes|campaigns)/$",
}
# The routes ModelAdmin.get_urls() adds for every registered model; filled with B's object of that model.
ADMIN_MODEL_ROUTES = ("", "add/", "<path:object_id>/history/", "<path:object_id>/delete/",
                      "<path:object_id>/change/", "<path:object_id>/")


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _admin_model_routes() -> dict[str, type]:
    return {f"admin/{model._meta.app_label}/{model._meta.model_name}/{route}": model
            for model in admin.site._registry for route in ADMIN_MODEL_ROUTES}


@pytest.fixture
def b_world(outsider, outsider_site, outsider_campaign):
    """B's rows of every kind an admin or API URL can name, each carrying MARK where it has text."""
    outsider.first_name = MARK
    outsider.email = f"{MARK}@b.example"
    outsider.save()
    Site.objects.filter(id=outsider_site.id).update(name=f"{MARK} shop")
    outsider_site.refresh_from_db()
    outsider_campaign.name = f"{MARK} popup"
    outsider_campaign.save()
    at = datetime(2026, 11, 30, tzinfo=UTC)
    common = {"site": outsider_site, "campaign_id": outsider_campaign.id, "visitor_id": B_VISITOR,
              "created_at": at}
    responses = [
        Response.objects.create(event_id=uuid.uuid4(), form="lead", name=MARK, email=f"{MARK}@lead.example", **common),
        Response.objects.create(event_id=uuid.uuid4(), form="nps", score=3, followup=MARK, **common),
        Response.objects.create(event_id=uuid.uuid4(), form="feedback", text=MARK, **common),
    ]
    record = ConsentRecord.objects.create(
        site=outsider_site, event_id=uuid.uuid4(), consent_id=f"{MARK}-consent", decided_at=at, received_at=at,
        policy_version="1", decision="granted", user_agent=MARK, url=f"https://other.example/{MARK}")
    Event.objects.create(site=outsider_site, event_id=uuid.uuid4(), type="pageview", ts=at, received_at=at,
                         visitor_id=B_VISITOR, url=f"https://other.example/{MARK}")
    request = DataRequest.objects.create(site=outsider_site, requested_by=outsider, action="export",
                                         channel="admin", lookup="visitor", lookup_hash=MARK)
    rejected = RejectedEventCount.objects.create(site=outsider_site, day=at.date(), reason=MARK, count=1)
    third = user_create("third")
    invitation = SiteInvitation.objects.create(site=outsider_site, invited_by=outsider, invitee="third", user=third)
    group = Group.objects.create(name=f"{MARK} group")
    token = Token.objects.create(user=outsider)
    attempt = AccessAttempt.objects.create(
        username=MARK, ip_address="10.0.0.9", user_agent=MARK, failures_since_start=1, get_data="", post_data="",
        http_accept="", path_info="/admin/login/")
    log = AccessLog.objects.create(username=MARK, ip_address="10.0.0.9", user_agent=MARK, http_accept="",
                                   path_info="/admin/login/")
    failure = AccessFailureLog.objects.create(username=MARK, ip_address="10.0.0.9", user_agent=MARK, http_accept="",
                                              path_info="/admin/login/", locked_out=False)
    asset = Asset.objects.create(site=outsider_site, name="zzb-guide", title=f"{MARK} guide",
                                 url=f"https://other.example/{MARK}.pdf")
    audience = Audience.objects.create(site=outsider_site, name=f"{MARK} audience",
                                       rule={"attr": "pageviews_total", "op": "gte", "value": 2})
    # B's journey map rollups (read by its map only): the crawl must neither show nor rebuild them.
    JourneyRollupDay.objects.create(site=outsider_site, day=at.date(), groups_hash=MARK, built_at=at, stale=False)
    JourneyLabelDaily.objects.create(site=outsider_site, day=at.date(), step=1, label=MARK, pageviews=1)
    # B's session rollups: the journey map of A's site must never read them.
    JourneyWalkDaily.objects.create(site=outsider_site, day=datetime(2026, 11, 20, tzinfo=UTC).date(),
                                    anchor=f"/{MARK}/", backward=False, sessions=1,
                                    steps=[[0, f"/{MARK}/", "", "left", 1]])
    JourneyExitDaily.objects.create(site=outsider_site, day=datetime(2026, 11, 20, tzinfo=UTC).date(),
                                    label=f"/{MARK}/", step=1, ordinal=1, exits=1)
    JourneyExitPathsDaily.objects.create(site=outsider_site, day=datetime(2026, 11, 20, tzinfo=UTC).date(),
                                         label=f"/{MARK}/", step=None, paths={f"/{MARK}/": 1})
    by_model = {
        Site: outsider_site.id, Asset: asset.id, Audience: audience.id,
        apps.get_model("campaigns", "Campaign"): outsider_campaign.id,
        Response: responses[0].id, ConsentRecord: record.id, DataRequest: request.id,
        RejectedEventCount: rejected.id, Group: group.id, apps.get_model("auth", "User"): outsider.id,
        apps.get_model("authtoken", "TokenProxy"): token.user_id, AccessAttempt: attempt.id, AccessLog: log.id,
        AccessFailureLog: failure.id,
    }
    return {"site": outsider_site, "campaign": outsider_campaign, "user": outsider, "models": by_model,
            "invitation": invitation, "responses": responses}


def _b_rows(world) -> dict:
    """Every stored row of B's, as values: the crawl's writes must leave them exactly as they were."""
    site = world["site"]
    rows = {}
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        if "site" in names:
            rows[model.__name__] = sorted(map(repr, model.objects.filter(site=site).values()))
    rows["Site"] = list(Site.objects.filter(id=site.id).values())
    rows["members"] = sorted(site.members.values_list("id", flat=True))
    rows["Variant"] = sorted(map(repr, apps.get_model("campaigns", "Variant").objects.filter(
        campaign__site=site).values()))
    for model, pk in world["models"].items():
        rows[f"{model.__name__}#{pk}"] = sorted(map(repr, model._default_manager.filter(pk=pk).values()))
    return rows


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _fill(route: str, value) -> str:
    """The route with each of its parameters replaced by `value` (as text)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(value), route)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _urls_of(world) -> list[tuple[str, str]]:
    """(route, URL) for every crawled route, with B's ids where the route takes one."""
    urls = []
    for route in sorted(set(_routes(get_resolver().url_patterns))):
        if route in NOT_CRAWLED:
            continue
        if route in _admin_model_routes():
            model = _admin_model_routes()[route]
            urls.append((route, _fill(route, world["models"][model])))
        elif route in WITHOUT_IDS:
            if "app_label" in route:
                urls += [(route, f"/admin/{label}/") for label in ("auth", "authtoken", "axes", "campaigns")]
            else:
                urls.append((route, "/" + route))
        elif WITH_IDS[route] == "shortcut":
            content_type = ContentType.objects.get_for_model(Site).id
            urls.append((route, f"/admin/r/{content_type}/{world['site'].id}/"))
        elif "<str:kind>" in route:
            urls += [(route, f"/admin/campaigns/campaign/{world['campaign'].id}/export/{kind}.csv")
                     for kind in EXPORT_KINDS]
        else:
            key = WITH_IDS[route]
            value = world[key].id if key in ("site", "campaign", "user") else None
            urls.append((route, _fill(route, value)))
    return urls


def test_every_url_pattern_is_crawled_or_said_why_not(b_world):
    """A new URL fails here until it is put in WITH_IDS, WITHOUT_IDS or NOT_CRAWLED (with why), and a newly
    registered admin model until B has a row of it in b_world."""
    routes = set(_routes(get_resolver().url_patterns))
    admin_routes = _admin_model_routes()
    known = set(NOT_CRAWLED) | set(WITH_IDS) | WITHOUT_IDS | set(admin_routes)
    assert sorted(routes - known) == []
    assert sorted((set(WITH_IDS) | WITHOUT_IDS) - routes) == []  # no stale entry
    assert sorted(m.__name__ for m in admin.site._registry if m not in b_world["models"]) == []


def test_owner_a_reads_nothing_of_b_on_any_url(client, owner, site, campaign, b_world):
    client.force_login(owner)
    leaks, opened = [], []
    for route, url in _urls_of(b_world):
        for query in ("", f"?site={b_world['site'].id}&site__id__exact={b_world['site'].id}"
                          f"&campaign={b_world['campaign'].id}&q={MARK}"):
            response = client.get(url + query)
            body = _text(response)
            if MARK in body.lower():
                leaks.append(f"{url}{query} ({response.status_code})")
            takes_b_id = route in WITH_IDS or ("<path:object_id>" in route)
            if route.endswith("<path:object_id>/") and response.status_code == 302:
                # The admin's bare object URL redirects to its change page, crawled on its own.
                assert response["Location"] == url + "change/"
            elif takes_b_id and response.status_code not in (403, 404, 405):
                opened.append(f"{url}{query} answered {response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert not opened, "\n".join(opened)


WRITE_BODY = {"name": "Hijacked", "post": "yes", "_save": "1", "status": "archived", "winner": "1",
              "visitor_id": B_VISITOR, "action": "erase", "confirm": "erase"}


def test_owner_a_writes_nothing_of_b_on_any_url(client, owner, site, campaign, b_world):
    client.force_login(owner)
    before = _b_rows(b_world)
    answered = []
    b_ids = {"site": b_world["site"].id, "campaign": b_world["campaign"].id,
             "invitation": b_world["invitation"].id, "answer": "accept", "lookup": "visitor", "subject": "visitor"}
    for route, url in _urls_of(b_world):
        takes_b_id = route in WITH_IDS or "<path:object_id>" in route
        form = {**WRITE_BODY, **b_ids}
        responses = [("POST form", client.post(url, form))]
        for method in ("post", "put", "patch", "delete"):
            responses.append((method.upper(), getattr(client, method)(
                url, data=json.dumps(form), content_type="application/json")))
        for how, response in responses:
            if MARK in _text(response).lower():
                answered.append(f"{how} {url}: B's data in the answer ({response.status_code})")
            redirect = route.endswith("<path:object_id>/") and response.status_code == 302
            if redirect and response["Location"] == url + "change/":
                continue  # to the change page, written to on its own
            if takes_b_id and response.status_code not in (403, 404, 405):
                answered.append(f"{how} {url} answered {response.status_code}")
    assert not answered, "\n".join(answered)
    assert _b_rows(b_world) == before
    assert not b_world["site"].members.filter(id=owner.id).exists()


def test_every_admin_action_on_b_rows_changes_and_shows_nothing(client, owner, site, campaign, b_world):
    client.force_login(owner)
    before = _b_rows(b_world)
    request = RequestFactory().get("/admin/")
    request.user = owner
    leaks = []
    for model, model_admin in admin.site._registry.items():
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for action in model_admin.get_actions(request):
            response = client.post(changelist, {"action": action, "_selected_action": [b_world["models"][model]],
                                                "post": "yes", "confirm": "erase"})
            if MARK in _text(response).lower():
                leaks.append(f"{action} on {changelist} ({response.status_code})")
    assert not leaks, "\n".join(leaks)
    assert _b_rows(b_world) == before
