"""The journey map: a site's page groups, stages and clean-up rules, and the counters the tally's journey fold writes.

What the owner edits: `CleanupRule` (ordered rewrites of page paths) and `PageGroup` (a URL rule, an order and a
journey stage). What the tally writes, from page views: `JourneyPageDaily`, `JourneyTransitionDaily`,
`JourneySession` and `JourneyVisitorStage`.

How the fold fills them (in both tally folds, in the transaction that moves the tally's cursor, so each page view
is counted once):

1. A page view carries, besides its event fields, `data.journey = {"prev": <the previous page's URL or path in the
   session, or null>, "step": <its position in the session, 1 for the first page>}` and the visitor's
   `data.segment = {"source", "returning"}`, which the collect endpoint makes from what the widget's journey carries
   (campaigns/tally/segments.py `visit_segment`, and `segment_of` for both folds, with the device collect read from
   the User-Agent). A page view without `data.journey` (an older widget) is left out of these tables.
2. The path and the previous path are cleaned with `campaigns.journeys.paths.path_clean` and the site's clean-up
   rules as they are when the batch is folded; `prev` counts only when `step` > 1. A step that is not an integer
   from 1 up leaves the page view out. The step is kept as sent up to MAX_STEP and as STEP_LATER beyond it, so a
   long session adds no rows (and a session row's `steps` stops at STEPS_CAP, whatever a client sends). The day
   is the event's time (`ts`) in the site's time zone, as for the other daily counters.
3. `JourneyPageDaily` (day, step, path, segment) gets `pageviews += 1`, and `entries += 1` when there is no
   previous path. `JourneyTransitionDaily` (day, step, previous path, path, segment) gets `count += 1` when there
   is one. So for every key, pageviews = entries + the transitions into it, and the exits of a path at a step are
   its page views minus the transitions out of it at the next step.
4. `JourneySession` (visitor, session) is inserted if absent, else merged: `path_<step>` is set when still empty,
   and `path_<step - 1>` from the previous path when still empty (positions, not arrival order, decide what is
   kept, and the first value written for a position stays); `started_at` and `day` follow the earliest time seen,
   `last_at` the latest, `steps` the highest step, `pageviews` adds one; the segment is that of the first page view
   folded (a session's page views share one, unless a later page brought other utm parameters).
5. The cleaned path's page group (`group_of`, groups as they are when the batch is folded) gives a stage; when it
   has one, `JourneyVisitorStage` (visitor, stage) is inserted if absent, else its `first_at` becomes the earlier
   of the two, and `day`, `path`, `session_id` and the segment follow the earlier one.

Every table has a unique key over what a row counts, so the SQL fold writes `INSERT ... ON CONFLICT DO UPDATE` and
the Python fold the same merge; sums and the min/max/fill-if-empty merges give the same rows whatever the order in
which page views arrive. A duplicate page view never reaches the fold (the event's id is unique per site), and a
reload is a page view like another: a step from a path to itself.

Site references are foreign keys without a database constraint, as on Event: the fold inserts these by the ten
thousand, the unique keys all start with the site, and deleting a site still deletes them (Django's collector).
"""

from django.core.exceptions import ValidationError
from django.db import models

from campaigns.journeys.paths import PATH_MAX_LENGTH, cleanup_rule_problems, url_rule_problems
from campaigns.models.site import Site

__all__ = [
    "CleanupRule",
    "JourneyPageDaily",
    "JourneySession",
    "JourneyTransitionDaily",
    "JourneyVisitorStage",
    "PageGroup",
    "Stage",
]

# Steps are counted one by one up to here (the map shows at most 10), and together as STEP_LATER beyond.
MAX_STEP = 10
STEP_LATER = MAX_STEP + 1
# The highest step a session row records: a client's number, bounded so it always fits the column.
STEPS_CAP = 1_000_000
# The positions a session row keeps.
SESSION_PATHS = 10


class Stage(models.TextChoices):
    """The journey stages, in their order (campaigns.targeting.vocabulary.STAGES)."""

    AWARENESS = "awareness", "Awareness"
    CONSIDERATION = "consideration", "Consideration"
    DECISION = "decision", "Decision"
    RETENTION = "retention", "Retention"
    ADVOCACY = "advocacy", "Advocacy"


def _site_reference():
    return models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)


def _path_field(**options):
    return models.CharField(max_length=PATH_MAX_LENGTH, **options)


class PageGroup(models.Model):
    """Pages the journey map shows as one node, and the journey stage they belong to.

    Applied when the map is read (counts are kept by cleaned path), so editing a group re-groups the past too;
    the per-visitor stage rows are the exception, written with the groups of the day they were folded.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="page_groups")
    name = models.CharField(max_length=100)
    url_rule = models.JSONField(
        help_text='Which cleaned paths are in the group, as a URL goal\'s rule: {"op": "starts_with", '
        '"value": "/blog/seo/"}; op is one of equals, contains, starts_with, ends_with, regex.',
    )
    order = models.PositiveIntegerField(default=0, help_text="Groups are tried lowest first; the first match wins.")
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True, default="")

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="page_group_unique_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = url_rule_problems(rule=self.url_rule)
        if errors:
            raise ValidationError({"url_rule": errors})


class CleanupRule(models.Model):
    """An ordered rewrite of page paths before they are counted (campaigns.journeys.paths.Cleanup).

    Query strings, fragments and ids (digits, UUIDs, long hexadecimal strings) are dropped without a rule. A rule
    applies to the page views folded after it is saved: counts already kept stay under the paths they had.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="cleanup_rules")
    order = models.PositiveIntegerField(default=0)
    pattern = models.CharField(
        max_length=500,
        help_text="A regular expression; <name> stands for one path segment, e.g. /product/<slug>/",
    )
    replacement = _path_field(blank=True, help_text="Plain text, e.g. /product/*/")

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.pattern} -> {self.replacement}"

    def clean(self) -> None:
        errors = cleanup_rule_problems(pattern=self.pattern, replacement=self.replacement)
        if errors:
            by_field: dict[str, list[str]] = {}
            for message in errors:
                by_field.setdefault(message.split(":", 1)[0], []).append(message)
            raise ValidationError(by_field)


class JourneyPageDaily(models.Model):
    """Page views of a cleaned path at a step of their session, per day (site time zone) and segment.

    `entries` counts those without a previous path (a session's first page). With JourneyTransitionDaily, the exits
    of a path at a step are its page views minus the transitions out of it at the next step. Written only by the
    tally (see the module's docstring).
    """

    site = _site_reference()
    day = models.DateField()
    step = models.PositiveSmallIntegerField(help_text=f"1 to {MAX_STEP}; {STEP_LATER} for any later step.")
    path = _path_field()
    device = models.CharField(max_length=8, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    returning = models.BooleanField(default=False)
    pageviews = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day", "step", "path", "device", "source", "returning"], name="journey_page_unique"
            )
        ]
        verbose_name_plural = "journey page days"

    def __str__(self) -> str:
        return f"{self.path} at step {self.step} on {self.day}: {self.pageviews}"


class JourneyTransitionDaily(models.Model):
    """Moves from a cleaned path to the next one in a session, by the step of the page moved to, per day and segment.

    Written only by the tally (see the module's docstring); `from_path` is the previous page's cleaned path.
    """

    site = _site_reference()
    day = models.DateField()
    step = models.PositiveSmallIntegerField(help_text=f"The step moved to: 2 to {MAX_STEP}, {STEP_LATER} for later.")
    from_path = _path_field()
    path = _path_field()
    device = models.CharField(max_length=8, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    returning = models.BooleanField(default=False)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day", "step", "from_path", "path", "device", "source", "returning"],
                name="journey_transition_unique",
            )
        ]
        verbose_name_plural = "journey transition days"

    def __str__(self) -> str:
        return f"{self.from_path} -> {self.path} at step {self.step} on {self.day}: {self.count}"


class JourneySession(models.Model):
    """One row per session: its first SESSION_PATHS cleaned paths by position, whatever the order they arrived in.

    "From a chosen page", "backwards from a goal" and the share of all visitors are read from these rows
    (campaigns.journeys.flow.flow_from_sessions). `steps` is the highest step seen: a session with more steps than
    kept positions went on past them, and an empty position below `steps` is a page view not counted (yet).
    Written only by the tally (see the module's docstring).
    """

    site = _site_reference()
    visitor_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64)
    day = models.DateField(help_text="The day of the earliest page view seen (site time zone).")
    started_at = models.DateTimeField()
    last_at = models.DateTimeField()
    steps = models.PositiveIntegerField(default=0)
    pageviews = models.PositiveIntegerField(default=0)
    device = models.CharField(max_length=8, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    returning = models.BooleanField(default=False)
    path_1 = _path_field(null=True, blank=True)
    path_2 = _path_field(null=True, blank=True)
    path_3 = _path_field(null=True, blank=True)
    path_4 = _path_field(null=True, blank=True)
    path_5 = _path_field(null=True, blank=True)
    path_6 = _path_field(null=True, blank=True)
    path_7 = _path_field(null=True, blank=True)
    path_8 = _path_field(null=True, blank=True)
    path_9 = _path_field(null=True, blank=True)
    path_10 = _path_field(null=True, blank=True)

    PATH_FIELDS = tuple(f"path_{position}" for position in range(1, SESSION_PATHS + 1))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "visitor_id", "session_id"], name="journey_session_unique")
        ]
        indexes = [models.Index(fields=["site", "day"], name="journey_session_site_day")]

    def __str__(self) -> str:
        return f"session {self.session_id} of {self.visitor_id}"

    @property
    def paths(self) -> tuple[str, ...]:
        """The kept paths in order, up to the first empty position."""
        found = []
        for name in self.PATH_FIELDS:
            value = getattr(self, name)
            if value is None:
                break
            found.append(value)
        return tuple(found)


class JourneyVisitorStage(models.Model):
    """When a visitor first reached a journey stage (a page of a group with that stage), and on which path.

    The stage funnel (campaigns.journeys.funnel.stage_funnel) is read from these rows: visitors per stage,
    conversion to the next and the time between them. Written only by the tally (see the module's docstring), with
    the groups as they were when the page view was folded.
    """

    site = _site_reference()
    visitor_id = models.CharField(max_length=64)
    stage = models.CharField(max_length=16, choices=Stage.choices)
    first_at = models.DateTimeField()
    day = models.DateField(help_text="The day of first_at (site time zone).")
    path = _path_field()
    session_id = models.CharField(max_length=64, blank=True, default="")
    device = models.CharField(max_length=8, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    returning = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "visitor_id", "stage"], name="journey_visitor_stage_unique")
        ]
        indexes = [models.Index(fields=["site", "stage", "day"], name="journey_stage_site_day")]

    def __str__(self) -> str:
        return f"{self.visitor_id} reached {self.stage} at {self.first_at:%Y-%m-%d %H:%M}"
