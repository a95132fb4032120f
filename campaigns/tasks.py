"""Celery tasks: thin and idempotent; ids in, one service call. Beat runs the periodic ones."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.ingest import refusals
from campaigns.journeys import rollups, session_rollups
from campaigns.journeys.services import journey_setup_get
from campaigns.models import Campaign, Site
from campaigns.results import journey_effect
from campaigns.selectors.counters import campaigns_auto_allocated
from campaigns.services import allocation, events, retention
from campaigns.tally.drain import tally_drain as tally_drain_all

logger = logging.getLogger(__name__)

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    # A deadlock or a lost connection is worth another try; the work is claimed, so a retry never double counts.
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 5,
    "retry_backoff": True,
    "retry_backoff_max": 60,
}


@shared_task(name="campaigns.tally_drain", **TASK_OPTIONS)
def tally_drain(*, batch_size: int | None = None, **kwargs) -> int:
    events.worker_seen_note()
    counted = tally_drain_all(batch_size=batch_size) if batch_size else tally_drain_all()
    if counted:
        logger.info("tally_drain: counted %s events", counted)
    return counted


@shared_task(name="campaigns.allocation_update", **TASK_OPTIONS)
def allocation_update(*, campaign_id: int | None = None, **kwargs) -> None:
    """One campaign, or (from beat) every active automatic campaign, each in its own task."""
    if campaign_id is None:
        for campaign_id in campaigns_auto_allocated().values_list("id", flat=True):
            allocation_update.delay(campaign_id=campaign_id)
        return
    campaign = Campaign.objects.filter(id=campaign_id).first()
    if campaign is None:
        logger.info("allocation_update: campaign %s is gone", campaign_id)
        return
    allocation.allocation_update(campaign=campaign)


@shared_task(name="campaigns.refusals_flush", **TASK_OPTIONS)
def refusals_flush(**kwargs) -> int:
    moved = refusals.refusals_flush()
    if moved:
        logger.info("refusals_flush: %s refusals counted", moved)
    return moved


@shared_task(name="campaigns.events_expire", **TASK_OPTIONS)
def events_expire(*, site_id: int | None = None, **kwargs) -> None:
    """One site, or (from beat) every site, each in its own task."""
    if site_id is None:
        for site_id in Site.objects.values_list("id", flat=True):
            events_expire.delay(site_id=site_id)
        return
    site = Site.objects.filter(id=site_id).first()
    if site is None:
        logger.info("events_expire: site %s is gone", site_id)
        return
    retention.events_expire(site=site)


@shared_task(name="campaigns.journey_rollups_refresh", **TASK_OPTIONS)
def journey_rollups_refresh(*, site_id: int | None = None, **kwargs) -> int:
    """The journey map's stale days rebuilt, newest first (from beat: every site's; after a group edit: one
    site's). Days are claimed one by one, so runs that overlap share the work."""
    if site_id is not None and not Site.objects.filter(id=site_id).exists():
        logger.info("journey_rollups_refresh: site %s is gone", site_id)
        return 0
    built = rollups.journey_rollups_refresh(site_id=site_id)
    if built:
        logger.info("journey_rollups_refresh: %s days rebuilt", built)
    return built


@shared_task(name="campaigns.journey_effects_refresh", **TASK_OPTIONS)
def journey_effects_refresh(**kwargs) -> int:
    """The journey effect counts of the campaigns with a holdout that are due, each claimed so that runs that
    overlap share them."""
    counted = journey_effect.journey_effects_refresh()
    if counted:
        logger.info("journey_effects_refresh: %s campaigns counted", counted)
    return counted


@shared_task(name="campaigns.journey_walks_update", **TASK_OPTIONS)
def journey_walks_update(*, site_id: int | None = None, full: bool = False, **kwargs) -> None:
    """One site's session rollups, or (from beat) every site's, each in its own task."""
    if site_id is None:
        for site_id in Site.objects.values_list("id", flat=True):
            journey_walks_update.delay(site_id=site_id, full=full)
        return
    site = Site.objects.filter(id=site_id).first()
    if site is None:
        logger.info("journey_walks_update: site %s is gone", site_id)
        return
    groups, _cleanups = journey_setup_get(site=site)
    built = session_rollups.journey_walks_update(site=site, groups=groups, full=full)
    if built:
        logger.info("journey_walks_update: site %s, %s days built", site_id, built)
