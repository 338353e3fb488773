"""Celery's Redis transport (kombu), reusing one synchronous Redis client per channel.

kombu builds a new ``redis.Redis`` object for every acknowledgement and every delivery it records
(``Channel.conn_or_acquire``). The object is only a front for the channel's connection pool, but
building one costs more than the pipeline it then sends: measured in bench/flows, about 5% of a
flows worker's CPU. A Redis client is thread-safe and takes a connection from the pool per
command, so one per channel serves every thread; it is rebuilt whenever kombu replaces the
channel's pool (after a connection error). Used for ``redis://`` brokers (config.settings sets
``CELERY_BROKER_TRANSPORT``); the real-worker tests and the Redis fault test run through it.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
