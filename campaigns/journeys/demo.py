"""The demo shop's journey set-up: its page groups, their stages, a clean-up rule and an audience, as data, and
applying them.

The demo shop (the widget app's demo pages) serves `/demo/` (home), `/demo/blog/<slug>/` (articles, one of them on
SEO), `/demo/product/<slug>/`, `/demo/cart/`, `/demo/checkout/` and `/demo/thanks/` (after an order). A test
checks these rules against the demo's own URLs, so they cannot drift apart.
"""

from __future__ import annotations

from campaigns.journeys.audiences import audience_create, audience_update
from campaigns.journeys.paths import Cleanup, Group
from campaigns.journeys.services import journey_setup_replace
from campaigns.models import Audience, Site

DEMO_CLEANUPS = (
    # Every product page is one path: the map follows "a product", not each of them.
    Cleanup(pattern="^/demo/product/<slug>/", replacement="/demo/product/*/"),
)
DEMO_GROUPS = (
    Group(name="Blog: SEO", rule={"op": "starts_with", "value": "/demo/blog/seo"}, stage="awareness", order=10),
    Group(name="Blog", rule={"op": "starts_with", "value": "/demo/blog/"}, stage="awareness", order=20),
    Group(name="Home", rule={"op": "equals", "value": "/demo/"}, stage="awareness", order=30),
    Group(name="Product", rule={"op": "starts_with", "value": "/demo/product/"}, stage="consideration", order=40),
    Group(name="Cart", rule={"op": "equals", "value": "/demo/cart/"}, stage="decision", order=50),
    Group(name="Checkout", rule={"op": "equals", "value": "/demo/checkout/"}, stage="decision", order=60),
    # An order made: from here the visitor is a customer to keep.
    Group(name="Thank you", rule={"op": "equals", "value": "/demo/thanks/"}, stage="retention", order=70),
)


def journey_demo_apply(*, site: Site) -> None:
    """Give `site` the demo shop's groups, stages and clean-up rule (replacing its own)."""
    journey_setup_replace(site=site, groups=DEMO_GROUPS, cleanups=DEMO_CLEANUPS)


# Visitors who read an article of the blog (either group): what the demo's blog readers' slide-in targets.
DEMO_AUDIENCE_NAME = "Blog readers"
DEMO_AUDIENCE_RULE = {"any": [{"attr": "views.Blog", "op": "gte", "value": 1},
                              {"attr": "views.Blog: SEO", "op": "gte", "value": 1}]}


def audience_demo_apply(*, site: Site) -> Audience:
    """The demo shop's audience of blog readers, created or given the demo's rule again."""
    audience = Audience.objects.filter(site=site, name=DEMO_AUDIENCE_NAME).first()
    if audience is None:
        return audience_create(site=site, name=DEMO_AUDIENCE_NAME, rule=DEMO_AUDIENCE_RULE)
    return audience_update(audience=audience, name=DEMO_AUDIENCE_NAME, rule=DEMO_AUDIENCE_RULE)
