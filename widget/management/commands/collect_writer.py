from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from widget.writer import writer_serve


class Command(BaseCommand):
    help = "Store the batches of concurrent collect requests together (started by retarget/gunicorn.conf.py)."

    def add_arguments(self, parser):
        parser.add_argument("--socket", required=True, help="Unix socket path the web workers connect to")

    def handle(self, *args, socket: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("the collect writer stores into PostgreSQL; on other databases the web stores alone")
        writer_serve(path=socket)
