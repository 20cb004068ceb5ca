import pytest

from clinic.celery import app
from clinic.tasks import ping
from clinic.tests.celery_worker import celery_worker


@pytest.mark.redis
def test_ping_goes_through_a_real_worker_on_redis(redis_url):
    old = dict(app.conf)
    app.conf.update(broker_url=redis_url, result_backend=redis_url, broker_transport_options={})
    app._pool = None
    try:
        with celery_worker(redis_url) as worker:
            result = ping.delay()
            assert result.get(timeout=60) == "pong"
            assert worker.poll() is None
    finally:
        app.conf.update(
            broker_url=old["broker_url"],
            result_backend=old["result_backend"],
            broker_transport_options=old["broker_transport_options"],
        )
        app._pool = None
