"""Prometheus metrics of one chat replica, served at /metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """Own registry per app, so two apps in one process (tests) don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connected = Gauge(
            "escala_chat_connected_clients", "Connected clients", registry=self.registry
        )
        self.sessions = Gauge(
            "escala_chat_engine_sessions",
            "Engine.IO sessions open (handshaken, connected to the chat or not)",
            registry=self.registry,
        )
        self.messages_in = Counter(
            "escala_chat_messages_in", "Chat messages received", registry=self.registry
        )
        self.messages_out = Counter(
            "escala_chat_messages_out", "Chat messages broadcast", registry=self.registry
        )
        self.messages_delivered = Counter(
            "escala_chat_messages_delivered",
            "Chat messages written to this replica's clients (each broadcast's recipients "
            "here, its own broadcasts and those relayed from other replicas)",
            registry=self.registry,
        )
        self.errors = Counter(
            "escala_chat_errors", "Client input rejected", ["reason"], registry=self.registry
        )
        self.latency = Histogram(
            "escala_chat_event_seconds",
            "Time to handle one client event",
            ["event"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
