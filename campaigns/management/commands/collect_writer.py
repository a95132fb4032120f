from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from campaigns.ingest.writer import writer_serve


class Command(BaseCommand):
    help = "Store the batches of concurrent collect requests together (started by retarget/gunicorn.conf.py)."

    def add_arguments(self, parser):
        parser.add_argument("--socket", required=True, help="Unix socket path the web workers connect to")
        parser.add_argument("--parent", type=int, help="end when this process is no longer the parent (gunicorn's "
                                                        "master passes its own id); by default the parent at start")

    def handle(self, *args, socket: str, parent: int | None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("the collect writer stores into PostgreSQL; on other databases the web stores alone")
        writer_serve(path=socket, parent=parent)
