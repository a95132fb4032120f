"""Intervention points: the pages where visitors are lost, weighted by how far along their journey they were, with the
campaigns that already run there.

The definitions (docs/interventions.md, "Intervention points", says the same for owners):

- **An exit** is a session's last page: the cleaned path at position `steps` of a JourneySession row. A session with
  more steps than the row keeps (JourneySession.PATH_FIELDS) went on past them, so its exit page is not known and it
  is left out; so is a session whose last position is still empty (a page view not counted yet).
- **The stage the visitor had reached at the exit** is the highest stage (awareness 1 … advocacy 5) among the
  visitor's JourneyVisitorStage rows whose `first_at` is at or before the session's `last_at` (the time of its last
  page view): the furthest stage they had reached by the moment they left, in this session or an earlier one. The
  exit page's own stage counts, since its page view is at or before `last_at`. A visitor who had reached no stage
  counts as awareness (1): they had at least seen the site. Stage rows are written with the groups of the day they
  were folded (models/journeys.py), the page's label with today's groups.
- **Visitors lost** at a point is the sum of those ordinals over its exits, so a decision-stage visitor who leaves
  weighs three awareness visitors. A point is a page (its group's name, or the cleaned path when no group has it),
  and a page at a step (the position of the exit page in its session).

Counted in SQL (campaigns/journeys/exits.py: exits by label or path, step and ordinal, from the daily exit rollups
of the days built with the current groups and from the session rows for the others); only grouped rows reach Python.
A point's campaigns are matched against its PATHS_MATCHED most exited paths: with rollups, the most exited among
those each day kept (exits.PATHS_KEPT per label and step).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from campaigns.journeys.exits import ExitCount, intervention_exits_read, kept_paths
from campaigns.journeys.paths import STAGES, Group, labeller
from campaigns.models import Campaign, Site
from campaigns.rules import rule_matches
from campaigns.targeting.preview import url_for_site

if TYPE_CHECKING:
    from campaigns.journeys.selectors import JourneyFilter

# Points listed on the map, most visitors lost first.
POINTS_LISTED = 10
# The most exited paths of a point that campaigns' URL targeting is matched against (a group can hold hundreds).
PATHS_MATCHED = 20
# The attributes of a targeting leaf that a page decides; every other leaf depends on the visitor.
URL_ATTRS = frozenset({"url", "path", "host"})
# The campaigns that may run on a page (an archived one runs nowhere).
CAMPAIGN_STATUSES = (Campaign.Status.ACTIVE, Campaign.Status.PAUSED, Campaign.Status.DRAFT)

# A cleaned path's placeholder for a dropped id stands for one path segment in a URL rule.
_ID_SEGMENT = re.compile(r"(?<=/)\*(?=/|$)")


@dataclass(frozen=True)
class RunningCampaign:
    id: int
    name: str
    status: str
    # True: its URL targeting matches the page; None: it does for some visitors (other conditions decide).
    always: bool


@dataclass
class InterventionPoint:
    """A page (its label: a group's name or a cleaned path), or a page at a step, and the visitors lost there."""

    label: str
    step: int | None
    exits: int = 0
    lost: int = 0  # the exits weighted by the ordinal of the stage reached
    by_ordinal: dict[int, int] = field(default_factory=dict)  # exits by the ordinal of the stage reached
    paths: dict[str, int] = field(default_factory=dict)  # exits by cleaned path
    group: Group | None = None
    campaigns: list[RunningCampaign] = field(default_factory=list)

    @property
    def stage(self) -> str:
        """The stage most of its exiting visitors had reached (on a tie, the further one): what a message there
        should speak to."""
        ordinal = max(self.by_ordinal.items(), key=lambda item: (item[1], item[0]))[0] if self.by_ordinal else 1
        return STAGES[max(ordinal, 1) - 1]

    @property
    def kind(self) -> str:
        return "group" if self.group is not None else "path"


def intervention_points_rank(
    *, exits: Iterable[ExitCount], groups: Sequence[Group], by_step: bool = False, limit: int = POINTS_LISTED
) -> list[InterventionPoint]:
    """Points by visitors lost (then exits, then label): pages, or pages at a step when `by_step`."""
    label = labeller(groups=groups)
    by_name = {group.name: group for group in groups}
    points: dict[tuple[str, int | None], InterventionPoint] = {}
    for row in exits:
        name = row.path if row.labelled else label(row.path)
        key = (name, row.step if by_step else None)
        point = points.get(key)
        if point is None:
            point = points[key] = InterventionPoint(label=name, step=key[1], group=by_name.get(name))
        point.exits += row.exits
        point.lost += row.exits * row.ordinal
        point.by_ordinal[row.ordinal] = point.by_ordinal.get(row.ordinal, 0) + row.exits
        if not row.labelled:  # a rollup's paths are added by intervention_points_get
            point.paths[row.path] = point.paths.get(row.path, 0) + row.exits
    ranked = sorted(points.values(), key=lambda p: (-p.lost, -p.exits, p.label, p.step or 0))
    return ranked[:limit]


def _url_verdict(node: object, url: str) -> bool | None:
    """A targeting tree evaluated on the page alone, in three values: True (matches on this page whoever the visitor
    is), False (never on this page), None (it depends on the visitor). Each URL leaf is the rule language's own
    evaluation (`campaigns.rules.rule_matches`); every other leaf is unknown."""
    if node is None:
        return True
    if not isinstance(node, dict):
        return False
    if "all" in node or "any" in node:
        children = node.get("all", node.get("any"))
        if not isinstance(children, list):
            return False
        verdicts = [_url_verdict(child, url) for child in children]
        decisive = False if "all" in node else True
        if decisive in verdicts:
            return decisive
        return None if None in verdicts else not decisive
    if "not" in node:
        verdict = _url_verdict(node["not"], url) if isinstance(node["not"], dict) else True
        return None if verdict is None else not verdict
    if node.get("attr") not in URL_ATTRS:
        return None
    return rule_matches(rule=node, context={"url": url})


def campaigns_running_on(*, site: Site, paths: Iterable[str], campaigns: Sequence[Campaign],
                         verdicts_seen: dict | None = None) -> list[RunningCampaign]:
    """The campaigns whose URL targeting matches one of the paths (as a page of the site's first origin).
    `verdicts_seen` keeps each (campaign, path)'s verdict across calls: the points of a map share most paths."""
    seen = {} if verdicts_seen is None else verdicts_seen
    found = []
    for campaign in campaigns:
        verdicts = []
        for path in paths:
            if (campaign.id, path) not in seen:
                seen[campaign.id, path] = _url_verdict(campaign.targeting, url_for_site(site=site, path=path))
            verdicts.append(seen[campaign.id, path])
        if True in verdicts or None in verdicts:
            found.append(RunningCampaign(id=campaign.id, name=campaign.name, status=campaign.status,
                                         always=True in verdicts))
    return found


def intervention_points_get(
    *, site: Site, where: JourneyFilter, groups: Sequence[Group], limit: int = POINTS_LISTED
) -> dict[str, list[InterventionPoint]]:
    """The map's intervention points: {"pages": ..., "steps": ...}, each with the campaigns that run there. The
    exits (exits.intervention_exits_read: the rollups of the days built with these groups, the session rows of the
    others), the paths kept of the built days for the points listed, and the site's campaigns."""
    read = intervention_exits_read(site=site, where=where, groups=groups)
    exits = read.exits
    ranked = {
        "pages": intervention_points_rank(exits=exits, groups=groups, limit=limit),
        "steps": intervention_points_rank(exits=exits, groups=groups, by_step=True, limit=limit),
    }
    campaigns = list(Campaign.objects.filter(site=site, status__in=CAMPAIGN_STATUSES).order_by("-priority", "id")
                     .only("id", "name", "status", "targeting"))
    kept = kept_paths(site=site, where=where, read=read,
                      points={(point.label, point.step) for points in ranked.values() for point in points})
    for points in ranked.values():
        for point in points:
            for path, count in kept.get((point.label, point.step), {}).items():
                point.paths[path] = point.paths.get(path, 0) + count
    verdicts_seen: dict = {}
    for points in ranked.values():
        for point in points:
            most_exited = sorted(point.paths, key=lambda path: (-point.paths[path], path))[:PATHS_MATCHED]
            point.campaigns = campaigns_running_on(site=site, paths=most_exited, campaigns=campaigns,
                                                   verdicts_seen=verdicts_seen)
    return ranked


def path_url_rule(*, path: str) -> dict[str, Any]:
    """A targeting leaf for the pages a cleaned path stands for: `path equals` it, or, when an id was dropped from
    it ("/order/*/"), a regular expression in which each `*` stands for one path segment."""
    if not _ID_SEGMENT.search(path):
        return {"attr": "path", "op": "equals", "value": path}
    parts = _ID_SEGMENT.split(path.rstrip("/"))
    return {"attr": "path", "op": "regex", "value": "^" + "[^/]+".join(re.escape(part) for part in parts) + "/?$"}


def group_url_rule(*, group: Group) -> dict[str, Any]:
    """A targeting leaf for a page group's pages: its URL rule on the `path` attribute."""
    rule = group.rule if isinstance(group.rule, dict) else {}
    leaf = {"attr": "path", "op": rule.get("op"), "value": rule.get("value")}
    if rule.get("case_sensitive") is True:
        leaf["case_sensitive"] = True
    return leaf

