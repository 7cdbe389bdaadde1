"""A session on the site's keyspace: the one place that opens a Cassandra connection.

Every Cassandra-backed store (historian, journal, paging, lease, credentials, commands) gets
its session from :func:`connect`, with the consistency, timeouts, authentication, replication
and reconnection policy the site config gives.
"""

from __future__ import annotations

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy

from core.config.schema import Cassandra


def connect(s: Cassandra, password: str | None) -> tuple[Cluster, Session]:
    """A session on the keyspace, created with the configured replication if it is new (blocking)."""
    profile = ExecutionProfile(
        consistency_level=ConsistencyLevel.name_to_value[s.consistency],
        request_timeout=s.timeout_s,
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=s.local_datacenter)),
    )
    auth = PlainTextAuthProvider(s.username, password) if s.username else None
    cluster = Cluster(
        s.contact_points, port=s.port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        auth_provider=auth, connect_timeout=s.timeout_s, protocol_version=5,
        reconnection_policy=ExponentialReconnectionPolicy(0.5, 2.0),  # back within seconds of an outage
    )  # fmt: skip
    try:
        session = cluster.connect()
        if s.replication == "SimpleStrategy":
            replication = f"{{'class': 'SimpleStrategy', 'replication_factor': {s.replication_factor}}}"
        else:
            dcs = ", ".join(f"'{dc}': {n}" for dc, n in s.datacenters.items())
            replication = f"{{'class': 'NetworkTopologyStrategy', {dcs}}}"
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {s.keyspace} WITH replication = {replication}")
        session.set_keyspace(s.keyspace)
    except Exception:
        cluster.shutdown()
        raise
    return cluster, session
