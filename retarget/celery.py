import os

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retarget.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, safe to close after its connection was collected.

    When Redis goes away, Celery's consumer first collects the broken connection (which drops the transport's link
    to it) and then closes it. If the first close was cut short, the second one restores the unacknowledged messages
    (a `countdown` task held by the worker) through a new pool built from that link, now None: an AttributeError that
    kills the worker instead of the connection error that Celery expects and survives. Raised as that error here,
    the worker reconnects; the message stays in Redis's unacked set, restored after the visibility timeout, or is
    gone with a Redis that restarted empty (the tally's periodic drain does the same work).
    """

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.ConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


app = Celery("retarget")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
