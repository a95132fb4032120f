"""Audiences (personas): a site's named rules over the visitor's own state, and what the tally counts of them.

What the owner edits: `Audience` (a name and a rule in the rule language, docs/rules.md). A campaign's targeting
names audiences with `{"attr": "audiences", "op": "includes", "value": [<id>]}`; the config compiler puts their
rules in place of that leaf (campaigns/targeting/compile.py), and the widget evaluates the site's audiences before
each page view (widget/src/lazy/audiences.js) and sends the ids the visitor matches with it, as
`data.audiences`.

What the tally writes, from those page views (campaigns/tally/audiences.py, both folds, in the transaction that
moves the tally's cursor): `AudienceVisitorDay` (a visitor was in an audience on a day: inserted if absent) and
`AudienceDaily` (per audience and day: `pageviews` += 1 per page view that names it, `visitors` += 1 per
AudienceVisitorDay row inserted). Ids that are not one of the site's audiences when the batch is folded are left
out. As for the journey tables, site references have no database constraint (the fold inserts these in bulk).
"""

from django.core.exceptions import ValidationError
from django.db import models

from campaigns.models.site import Site
from campaigns.targeting.validation import validate_audience_rule

__all__ = ["Audience", "AudienceDaily", "AudienceVisitorDay"]


class Audience(models.Model):
    """A named rule over the visitor's state (first touch, views per page group, stages reached, NPS band, cart,
    custom attributes ...): the visitors it matches are in the audience, page view by page view."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="audiences")
    name = models.CharField(max_length=100)
    rule = models.JSONField(
        default=dict,
        help_text='A targeting rule, e.g. {"attr": "views.Blog", "op": "gte", "value": 2} '
        "(two pages of the group Blog).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="audience_unique_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = validate_audience_rule(rule=self.rule)
        if errors:
            raise ValidationError({"rule": errors})


def _site_reference():
    return models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)


def _audience_reference():
    return models.ForeignKey(
        Audience, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )


class AudienceDaily(models.Model):
    """Page views that named an audience, and the distinct visitors among them, per day (site time zone)."""

    site = _site_reference()
    audience = _audience_reference()
    day = models.DateField()
    pageviews = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audience", "day"], name="audience_daily_unique")]
        indexes = [models.Index(fields=["site", "day"], name="audience_daily_site_day")]
        verbose_name_plural = "audience days"

    def __str__(self) -> str:
        return f"audience {self.audience_id} on {self.day}: {self.visitors} visitors"


class AudienceVisitorDay(models.Model):
    """A visitor was in an audience on a day: the distinct visitors of AudienceDaily, and the journey map's
    audience filter (the visitors whose sessions and stages it keeps)."""

    site = _site_reference()
    audience = _audience_reference()
    day = models.DateField()
    visitor_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "day", "visitor_id"], name="audience_visitor_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} in audience {self.audience_id} on {self.day}"
