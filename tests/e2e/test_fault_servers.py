"""The private servers of the fault tests start, stop for real (the port refuses), and come back."""

import socket

import pytest

from tests.faults import PrivatePostgres, PrivateRedis, private_postgres_fixture, private_redis_fixture  # noqa: F401

pytestmark = pytest.mark.e2e


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_private_redis_stops_and_starts_again(private_redis: PrivateRedis):
    import redis

    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    assert private_redis.port < 32768
    assert client.ping()
    private_redis.stop()
    assert _refused(private_redis.port)
    with pytest.raises(redis.ConnectionError):
        client.ping()
    private_redis.start()
    assert client.ping()


def test_private_postgres_keeps_its_data_across_an_outage(private_postgres: PrivatePostgres):
    import psycopg

    assert private_postgres.port < 32768
    with psycopg.connect(private_postgres.url.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute("CREATE TABLE kept (n int)")
        db.execute("INSERT INTO kept VALUES (42)")
    private_postgres.stop()
    assert _refused(private_postgres.port)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(private_postgres.url.replace("postgres://", "postgresql://"), connect_timeout=2)
    private_postgres.start()
    with psycopg.connect(private_postgres.url.replace("postgres://", "postgresql://")) as db:
        assert db.execute("SELECT n FROM kept").fetchone() == (42,)
