"""Seed clearly labelled simulated journeys for a site, so its journey map has something to read before real traffic.

    manage.py journeys_seed --site <id or name> [--days 30] [--visitors 600]

Readers who never buy, searchers from an ad who leave at the cart and returning buyers, on the demo shop's paths,
with the source `simulated/<kind>` (campaigns/journeys/simulate.py). Running it again replaces the site's
simulated rows and leaves real traffic's rows alone; `--clear` only removes them.
"""

from django.core.management.base import BaseCommand, CommandError

from campaigns.journeys.simulate import journeys_simulate, journeys_simulated_delete
from campaigns.models import Site


def site_find(text: str) -> Site:
    """The site with this id, else with this exact name."""
    site = Site.objects.filter(id=int(text)).first() if text.isdigit() else None
    site = site or Site.objects.filter(name=text).order_by("id").first()
    if site is None:
        raise CommandError(f"no site with the id or name {text!r}")
    return site


class Command(BaseCommand):
    help = "Write simulated journeys (source simulated/<kind>) into a site's journey counters."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="The site's id or exact name.")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--visitors", type=int, default=600)
        parser.add_argument("--seed", type=int, default=0, help="The same seed writes the same journeys.")
        parser.add_argument("--clear", action="store_true", help="Only remove the site's simulated journeys.")

    def handle(self, *args, site, days, visitors, seed, clear, **options):
        found = site_find(site)
        if clear:
            journeys_simulated_delete(site=found)
            self.stdout.write(f"Simulated journeys removed from {found}.")
            return
        if not 1 <= days <= 366 or not 0 <= visitors <= 1_000_000:
            raise CommandError("--days must be from 1 to 366 and --visitors from 0 to 1,000,000")
        written = journeys_simulate(site=found, days=days, visitors=visitors, seed=seed)
        self.stdout.write(
            f"Simulated journeys for {found} (source simulated/reader, simulated/searcher, simulated/buyer): "
            f"{visitors} visitors over {days} days; rows written: "
            + ", ".join(f"{table} {count}" for table, count in written.items())
        )
