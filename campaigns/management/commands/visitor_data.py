"""`manage.py visitor_data export|erase --site ID (--visitor V | --email E)`: answer a data-subject request.

export prints the person's data on the site as one JSON document; erase erases it and prints what was found and
erased. Both are logged as DataRequest rows (channel "command", no user).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import DataRequest, Site
from campaigns.selectors.visitor_data import LookupInvalid, visitor_data_json
from campaigns.services.visitor_data import VisitorDataBusy, visitor_data_erase, visitor_data_export

NO_SITE = "no site with id {site_id}"


class Command(BaseCommand):
    help = "Export or erase everything stored for one visitor id or e-mail address on a site (see PRIVACY.md)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=[DataRequest.Action.EXPORT, DataRequest.Action.ERASE])
        parser.add_argument("--site", type=int, required=True, help="The site's id.")
        parser.add_argument("--visitor", default="", help="A visitor id, as the widget stored it.")
        parser.add_argument("--email", default="", help="An e-mail address sent in a form.")

    def handle(self, *args, **options):
        site = Site.objects.filter(id=options["site"]).first()
        if site is None:
            raise CommandError(NO_SITE.format(site_id=options["site"]))
        lookup = {"visitor_id": options["visitor"], "email": options["email"]}
        try:
            if options["action"] == DataRequest.Action.EXPORT:
                _request, export = visitor_data_export(site=site, requested_by=None,
                                                       channel=DataRequest.Channel.COMMAND, **lookup)
                self.stdout.write(visitor_data_json(export=export))
                return
            done = visitor_data_erase(site=site, requested_by=None, channel=DataRequest.Channel.COMMAND, **lookup)
        except (LookupInvalid, VisitorDataBusy) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps({"request": done.id, "visitors": done.visitors, "found": done.found,
                                      "erased": done.erased}))
