"""The journey map's daily rollups by label: what a worker sums from the journey counters so the map reads little.

The counters stay the truth (JourneyPageDaily, JourneyTransitionDaily: by cleaned path, campaigns/models/journeys.py)
and groups still apply when the map is read; these tables are a cache of one day's counters summed by label (a page
group's name, or a path in no group) with the groups `JourneyRollupDay.groups_hash` names. The map reads a day from
them only while that hash is the site's current one, and from the counters otherwise
(campaigns/journeys/rollups/ builds and reads them). Each day is rebuilt whole, in one transaction, by the
`campaigns.journey_rollups_refresh` task.

JourneyEffectCounts is the same kind of cache for a campaign's journey effect (campaigns/results/journey_effect.py):
its counts as the `campaigns.journey_effects_refresh` task last counted them, for campaigns too big to count on
each read.

A segment field left empty (NULL) means "any": a day holds a row for every combination of device, source and
new/returning with each of them given or "any" (GROUP BY CUBE), so every filter the map offers reads its own rows
and sums only over days.
"""

from django.db import models

from campaigns.journeys.paths import PATH_MAX_LENGTH
from campaigns.models.site import Campaign, Site

__all__ = ["JourneyEffectCounts", "JourneyLabelDaily", "JourneyLabelMoveDaily", "JourneyLabelMoveWeekly",
           "JourneyLabelWeekly", "JourneyRollupCursor", "JourneyRollupDay", "JourneyRollupWeek", "JourneyStageDaily",
           "JourneyStageDay"]


def _site_reference():
    return models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)


def _label_field():
    return models.CharField(max_length=PATH_MAX_LENGTH, help_text="A page group's name, or a path in no group.")


def _segment_fields():
    return {
        "device": models.CharField(max_length=8, null=True, blank=True),
        "source": models.CharField(max_length=64, null=True, blank=True),
        "returning": models.BooleanField(null=True, blank=True),
    }


# Reads are by site and segment over a range of days (of moves, over the steps a flow shows too); rebuilds delete
# by site and day. No unique constraint: "any" is NULL, which a unique key would not compare, and each day's rows
# are written by one statement.
def _indexes(prefix: str, *read: str) -> list[models.Index]:
    return [
        models.Index(fields=["site", "device", "source", "returning", *read], name=f"{prefix}_read"),
        models.Index(fields=["site", "day"], name=f"{prefix}_day"),
    ]


class JourneyLabelDaily(models.Model):
    """Page views by label at a step, per day and segment; `moves_out` are the moves out of the label to the next
    step (whose exits are `pageviews - moves_out`), kept here so the exit table reads no move rows."""

    site = _site_reference()
    day = models.DateField()
    step = models.PositiveSmallIntegerField()
    label = _label_field()
    device, source, returning = _segment_fields().values()
    pageviews = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)
    moves_out = models.BigIntegerField(default=0)

    class Meta:
        indexes = _indexes("journey_label", "day")
        verbose_name_plural = "journey label days"

    def __str__(self) -> str:
        return f"{self.label} at step {self.step} on {self.day}: {self.pageviews}"


class JourneyLabelMoveDaily(models.Model):
    """Moves from a label to the next one, by the step moved to, per day and segment."""

    site = _site_reference()
    day = models.DateField()
    step = models.PositiveSmallIntegerField()
    from_label = _label_field()
    label = _label_field()
    device, source, returning = _segment_fields().values()
    count = models.BigIntegerField(default=0)

    class Meta:
        indexes = _indexes("journey_label_move", "step", "day")
        verbose_name_plural = "journey label move days"

    def __str__(self) -> str:
        return f"{self.from_label} -> {self.label} at step {self.step} on {self.day}: {self.count}"


class JourneyRollupDay(models.Model):
    """Whether a site's day of rollups can be read, and whether it is due for a rebuild.

    `groups_hash` names the groups the day was built with ("" before its first build): the map reads the day's
    rollups only when it is the hash of the site's groups now. `stale` says the day needs a rebuild: page views of
    that day were folded after `built_at`, or the site's groups changed (then `built_at` is emptied too, so the
    rebuild does not wait as a day with new page views does).
    """

    site = _site_reference()
    day = models.DateField()
    groups_hash = models.CharField(max_length=64, blank=True, default="")
    built_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="journey_rollup_day_unique")]
        indexes = [models.Index(fields=["day"], name="journey_rollup_stale", condition=models.Q(stale=True))]

    def __str__(self) -> str:
        return f"rollup of {self.day}{' (stale)' if self.stale else ''}"


class JourneyRollupCursor(models.Model):
    """One row: the (tx, id) of the last event whose day the rollups have marked stale (the tally's order,
    TallyCursor). Every event past it and up to the tally's cursor has been counted and not yet looked at."""

    last_tx = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"journey rollup cursor at ({self.last_tx}, {self.last_id})"


class JourneyStageDaily(models.Model):
    """The stage funnel's day (campaigns/journeys/funnel_rollups.py): the visitors who first reached `stage` that day
    in a segment (each field None for "any"), those of them who reached the next stage at or after, and the
    histogram of their times to it (campaigns/journeys/funnel.py's buckets): `coarse` is [count per coarse bucket],
    `fine` {coarse bucket: [count per fine bucket]}, read for one coarse bucket at a time."""

    site = _site_reference()
    day = models.DateField()
    stage = models.CharField(max_length=16)
    device, source, returning = _segment_fields().values()
    visitors = models.PositiveIntegerField()
    converted = models.PositiveIntegerField()
    coarse = models.JSONField(default=list)
    fine = models.JSONField(default=dict)

    class Meta:
        indexes = _indexes("journey_stage_daily", "day")
        verbose_name_plural = "journey stage days"

    def __str__(self) -> str:
        return f"{self.stage} on {self.day}: {self.visitors}"


class JourneyStageDay(models.Model):
    """Whether a site's day of the stage funnel was built (`built_at`) and is due for a rebuild (`stale`): a stage
    row of that day was written or moved, or the next stage's row of one of its visitors was (the funnel_rollups
    module's docstring says how it is found)."""

    site = _site_reference()
    day = models.DateField()
    built_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="journey_stage_day_unique")]
        indexes = [models.Index(fields=["day"], name="journey_stage_day_stale", condition=models.Q(stale=True))]

    def __str__(self) -> str:
        return f"stage funnel of {self.day}{' (stale)' if self.stale else ''}"


class JourneyLabelWeekly(models.Model):
    """JourneyLabelDaily summed over a week, Monday to Sunday (`week`: its Monday), read in place of its days while
    JourneyRollupWeek says it may be (campaigns/journeys/rollups/weeks.py)."""

    site = _site_reference()
    week = models.DateField()
    step = models.PositiveSmallIntegerField()
    label = _label_field()
    device, source, returning = _segment_fields().values()
    pageviews = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)
    moves_out = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["site", "device", "source", "returning", "week"], name="journey_label_week_read"),
            models.Index(fields=["site", "week"], name="journey_label_week_site"),
        ]
        verbose_name_plural = "journey label weeks"

    def __str__(self) -> str:
        return f"{self.label} at step {self.step} in the week of {self.week}: {self.pageviews}"


class JourneyLabelMoveWeekly(models.Model):
    """JourneyLabelMoveDaily summed over a week (as JourneyLabelWeekly)."""

    site = _site_reference()
    week = models.DateField()
    step = models.PositiveSmallIntegerField()
    from_label = _label_field()
    label = _label_field()
    device, source, returning = _segment_fields().values()
    count = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["site", "device", "source", "returning", "step", "week"],
                                name="journey_label_move_week_read"),
                   models.Index(fields=["site", "week"], name="journey_label_move_week_site")]
        verbose_name_plural = "journey label move weeks"

    def __str__(self) -> str:
        return f"{self.from_label} -> {self.label} at step {self.step} in the week of {self.week}: {self.count}"


class JourneyRollupWeek(models.Model):
    """A week (Monday to Sunday) whose label rollups were summed, with which groups and when: read in place of its
    days while all seven were built with the same groups before `built_at`."""

    site = _site_reference()
    week = models.DateField(help_text="Its Monday.")
    groups_hash = models.CharField(max_length=64)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "week"], name="journey_rollup_week_unique")]

    def __str__(self) -> str:
        return f"label rollups of the week of {self.week}"


class JourneyEffectCounts(models.Model):
    """A campaign's journey effect counts, exposed and holdout, as the worker last counted them from its assignments
    and its visitors' stage rows (`counted_at`; None until the first count is done). `claimed_until`: a task run
    counting it now, which the others leave alone until then."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    exposed = models.BigIntegerField(default=0)
    exposed_moved_on = models.BigIntegerField(default=0)
    exposed_converted = models.BigIntegerField(default=0)
    holdout = models.BigIntegerField(default=0)
    holdout_moved_on = models.BigIntegerField(default=0)
    holdout_converted = models.BigIntegerField(default=0)
    counted_at = models.DateTimeField(null=True)
    claimed_until = models.DateTimeField(null=True)

    class Meta:
        verbose_name_plural = "journey effect counts"

    def __str__(self) -> str:
        return f"journey effect of campaign {self.campaign_id} as of {self.counted_at}"
