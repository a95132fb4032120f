"""A site's journey set-up, read and written: its page groups (with stages) and its clean-up rules."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from campaigns.journeys.paths import Cleanup, Group
from campaigns.models import CleanupRule, PageGroup, Site
from campaigns.selectors.config import config_invalidate

logger = logging.getLogger(__name__)

ROLLUPS_TASK = "campaigns.journey_rollups_refresh"  # campaigns/tasks.py's journey_rollups_refresh


def journey_setup_get(*, site: Site) -> tuple[list[Group], list[Cleanup]]:
    """The site's groups and clean-up rules as plain data, in the order they apply (what the fold and the map use)."""
    groups = [
        Group(name=row.name, rule=row.url_rule, stage=row.stage, order=row.order)
        for row in PageGroup.objects.filter(site=site).order_by("order", "id")
    ]
    rules = [
        Cleanup(pattern=row.pattern, replacement=row.replacement)
        for row in CleanupRule.objects.filter(site=site).order_by("order", "id")
    ]
    return groups, rules


def journey_setup_replace(*, site: Site, groups: Sequence[Group], cleanups: Sequence[Cleanup]) -> None:
    """Replace the site's groups and clean-up rules with these, all or nothing.

    Raises ValidationError (nothing changed) when a group's URL rule, a name, a stage or a clean-up rule is invalid.
    The counters keep their history: they are kept by cleaned path, and groups apply when the map is read. The
    map's daily rollups by label built with the old groups stop being read at once; with a worker, their rebuild
    is queued (campaigns/journeys/rollups/; without one, the map reads the counters).
    """
    group_rows = [
        PageGroup(site=site, name=group.name, url_rule=group.rule, stage=group.stage, order=group.order)
        for group in groups
    ]
    rule_rows = [
        CleanupRule(site=site, pattern=cleanup.pattern, replacement=cleanup.replacement, order=(index + 1) * 10)
        for index, cleanup in enumerate(cleanups)
    ]
    names = [row.name for row in group_rows]
    if len(set(names)) != len(names):
        raise ValidationError({"name": ["two groups have the same name"]})
    for row in (*group_rows, *rule_rows):
        row.full_clean(exclude=["site"], validate_unique=False)
    with transaction.atomic():
        PageGroup.objects.filter(site=site).delete()
        CleanupRule.objects.filter(site=site).delete()
        PageGroup.objects.bulk_create(group_rows)
        CleanupRule.objects.bulk_create(rule_rows)
        # bulk_create sends no signal: the widget config (which carries the groups) is dropped here.
        transaction.on_commit(partial(config_invalidate, public_key=site.public_key))
        transaction.on_commit(partial(_rollups_queue, site_id=site.id))


def _rollups_queue(*, site_id: int) -> None:
    """The site's rollups rebuilt by a worker (by the task's name: the tasks import the services). Not in-process,
    where the rebuild would hold the request up for minutes; a broker out of reach leaves it to beat's run."""
    task = current_app.tasks[ROLLUPS_TASK]
    if task.app.conf.task_always_eager:
        return
    try:
        task.delay(site_id=site_id)
    except BrokerError as error:
        logger.warning("journey rollups not queued (%s); beat's next run rebuilds them", error)
