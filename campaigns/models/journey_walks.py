"""What the session rollups keep (campaigns/journeys/session_rollups.py): per site and day, the steps of the walks
from each label (campaigns/journeys/walks.py), so that the map's flows from a chosen page or back from a goal read a
row per day, not a row per session; and the exits of the day (campaigns/journeys/exits.py) for its intervention
points.

Written only by the session rollup task, from JourneySession rows and the site's page groups; a day's rows are
replaced whole, in one transaction with its JourneyWalkDay.
"""

from django.db import models

from campaigns.journeys.paths import PATH_MAX_LENGTH
from campaigns.models.site import Site

__all__ = ["JourneyExitDaily", "JourneyExitPathsDaily", "JourneyExitPathsWeekly", "JourneyExitWeekly",
           "JourneyWalkDaily", "JourneyWalkDay", "JourneyWalkWeek", "JourneyWalkWeekly"]


class JourneyWalkDay(models.Model):
    """A (site, day) whose walk rows were built: with which groups and from which session rows (their number and
    page views, which change whenever the fold adds to or moves a session of that day)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()
    groups_key = models.CharField(max_length=64, help_text="journey_groups_key of the groups the rows were built with.")
    sessions = models.PositiveIntegerField(default=0)
    pageviews = models.PositiveBigIntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="journey_walk_day_unique")]

    def __str__(self) -> str:
        return f"walks of {self.day}: {self.sessions} sessions"


class JourneyWalkDaily(models.Model):
    """The walks of a day's sessions from their first visit to `anchor` (forwards, or backwards when `backward`),
    in a segment: a device, source and new/returning value, each None for "any" (so that a filter reads one row a
    day). `steps` holds [column, label, next label or "", end or "", sessions] lists (walks.WalkStep)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()
    anchor = models.CharField(max_length=PATH_MAX_LENGTH)
    backward = models.BooleanField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    sessions = models.PositiveIntegerField(help_text="Sessions that reached the anchor.")
    steps = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "anchor", "backward", "day", "device", "source", "returning"],
                name="journey_walk_unique",
            )
        ]
        # The unique key is the read's index too; its NULLs ("any") are distinct, which holds nothing for the
        # "any" rows: a day's rows are only ever replaced whole, under the lock of its JourneyWalkDay.
        indexes = [models.Index(fields=["site", "day"], name="journey_walk_site_day")]
        verbose_name_plural = "journey walk days"

    def __str__(self) -> str:
        return f"walks {'to' if self.backward else 'from'} {self.anchor} on {self.day}"


class JourneyExitDaily(models.Model):
    """A day's exits (campaigns/journeys/exits.py): sessions that ended on a page of `label` at position `step`,
    whose visitor had reached the stage of `ordinal` by then, in a segment (each of device, source and
    new/returning None for "any"). Built with the day's walk rows, under the same JourneyWalkDay."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    label = models.CharField(max_length=PATH_MAX_LENGTH)
    step = models.PositiveSmallIntegerField()
    ordinal = models.PositiveSmallIntegerField()
    exits = models.PositiveIntegerField()

    class Meta:
        # A read takes one segment's rows of a period (a day holds some rows of "any", many of each segment):
        # led by the segment, and covering, so that it is an index-only scan.
        indexes = [
            models.Index(fields=["site", "day"], name="journey_exit_site_day"),
            models.Index(fields=["site", "device", "source", "returning", "day"], name="journey_exit_segment",
                         include=["label", "step", "ordinal", "exits"]),
        ]
        verbose_name_plural = "journey exit days"

    def __str__(self) -> str:
        return f"exits from {self.label} at step {self.step} on {self.day}"


class JourneyExitPathsDaily(models.Model):
    """The most exited cleaned paths of a label on a day, at a step (None: at any step), in a segment (as
    JourneyExitDaily): `paths` is {path: exits}, capped (exits.PATHS_KEPT), so that the campaigns that run on a
    point are matched against its most exited paths without reading the session rows."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    label = models.CharField(max_length=PATH_MAX_LENGTH)
    step = models.PositiveSmallIntegerField(null=True)
    paths = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["site", "day"], name="journey_exit_paths_site_day"),
                   models.Index(fields=["site", "label", "step", "device", "source", "returning", "day"],
                                name="journey_exit_paths_label")]
        verbose_name_plural = "journey exit paths days"

    def __str__(self) -> str:
        return f"paths exited from {self.label} on {self.day}"


class JourneyWalkWeek(models.Model):
    """A week (Monday to Sunday) of a site whose day rows of walks and exits were summed into JourneyWalkWeekly,
    JourneyExitWeekly and JourneyExitPathsWeekly rows (campaigns/journeys/walk_weeks.py): with which groups and
    when. Read in place of its days while every day of it was built with those groups before `built_at`."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    week = models.DateField(help_text="Its Monday.")
    groups_key = models.CharField(max_length=64)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "week"], name="journey_walk_week_unique")]

    def __str__(self) -> str:
        return f"walks of the week of {self.week}"


class JourneyWalkWeekly(models.Model):
    """JourneyWalkDaily summed over a week: the same fields, with `week` (its Monday) for the day."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    week = models.DateField()
    anchor = models.CharField(max_length=PATH_MAX_LENGTH)
    backward = models.BooleanField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    sessions = models.PositiveIntegerField(help_text="Sessions that reached the anchor.")
    steps = models.JSONField()

    class Meta:
        indexes = [
            models.Index(fields=["site", "anchor", "backward", "week"], name="journey_walk_week_read"),
            models.Index(fields=["site", "week"], name="journey_walk_weekly_site_week"),
        ]
        verbose_name_plural = "journey walk weeks"

    def __str__(self) -> str:
        return f"walks {'to' if self.backward else 'from'} {self.anchor} in the week of {self.week}"


class JourneyExitWeekly(models.Model):
    """JourneyExitDaily summed over a week: the same fields, with `week` (its Monday) for the day."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    week = models.DateField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    label = models.CharField(max_length=PATH_MAX_LENGTH)
    step = models.PositiveSmallIntegerField()
    ordinal = models.PositiveSmallIntegerField()
    exits = models.PositiveIntegerField()

    class Meta:
        # As JourneyExitDaily's: a read takes one segment's rows of some weeks, from the index alone.
        indexes = [
            models.Index(fields=["site", "week"], name="journey_exit_weekly_site_week"),
            models.Index(fields=["site", "device", "source", "returning", "week"], name="journey_exit_week_segment",
                         include=["label", "step", "ordinal", "exits"]),
        ]
        verbose_name_plural = "journey exit weeks"

    def __str__(self) -> str:
        return f"exits from {self.label} at step {self.step} in the week of {self.week}"


class JourneyExitPathsWeekly(models.Model):
    """JourneyExitPathsDaily summed over a week: every path its days kept, with its exits summed (not capped again,
    so that a period reads the same sums from weeks as from their days)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    week = models.DateField()
    device = models.CharField(max_length=8, null=True)
    source = models.CharField(max_length=64, null=True)
    returning = models.BooleanField(null=True)
    label = models.CharField(max_length=PATH_MAX_LENGTH)
    step = models.PositiveSmallIntegerField(null=True)
    paths = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["site", "week"], name="journey_exit_paths_site_week"),
                   models.Index(fields=["site", "label", "step", "device", "source", "returning", "week"],
                                name="journey_exit_paths_week_label")]
        verbose_name_plural = "journey exit paths weeks"

    def __str__(self) -> str:
        return f"paths exited from {self.label} in the week of {self.week}"
