import CoreMetrics
import Prometheus

/// The broker's counters and gauges, on swift-metrics with a Prometheus registry of their own (so two
/// brokers in one process, or a host with its own metrics system, do not collide). `/metrics` emits
/// the registry. Names follow Prometheus conventions.
struct BrokerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let connections: CoreMetrics.Gauge
    private let connectionsTotal: CoreMetrics.Counter
    private let connectionsMoved: CoreMetrics.Counter
    private let waiting: CoreMetrics.Gauge
    private let connected: CoreMetrics.Gauge
    private let sessionsConnectedTotal: CoreMetrics.Counter
    private let bytesToAgents: CoreMetrics.Counter
    private let bytesToEndUsers: CoreMetrics.Counter
    private let authFailures: CoreMetrics.Counter
    private let joinsRefused: CoreMetrics.Counter
    private let loginFailures: CoreMetrics.Counter
    private let factory: PrometheusMetricsFactory

    init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        connections = CoreMetrics.Gauge(label: "rs_connections", factory: factory)
        connectionsTotal = CoreMetrics.Counter(label: "rs_connections_total", factory: factory)
        connectionsMoved = CoreMetrics.Counter(label: "rs_connections_moved_total", factory: factory)
        waiting = CoreMetrics.Gauge(label: "rs_sessions_waiting", factory: factory)
        connected = CoreMetrics.Gauge(label: "rs_sessions_connected", factory: factory)
        sessionsConnectedTotal = CoreMetrics.Counter(label: "rs_sessions_connected_total", factory: factory)
        bytesToAgents = CoreMetrics.Counter(label: "rs_relayed_bytes_total", dimensions: [("direction", "to_agent")], factory: factory)
        bytesToEndUsers = CoreMetrics.Counter(label: "rs_relayed_bytes_total", dimensions: [("direction", "to_end_user")], factory: factory)
        authFailures = CoreMetrics.Counter(label: "rs_auth_failures_total", factory: factory)
        joinsRefused = CoreMetrics.Counter(label: "rs_joins_refused_total", factory: factory)
        loginFailures = CoreMetrics.Counter(label: "rs_login_failures_total", factory: factory)
    }

    func connectionOpened() { connectionsTotal.increment() }
    /// A connection moved to the event loop of the other side of its session.
    func connectionMoved() { connectionsMoved.increment() }
    func sessionConnected() { sessionsConnectedTotal.increment() }

    func relayed(bytes: Int, toAgent: Bool) {
        (toAgent ? bytesToAgents : bytesToEndUsers).increment(by: bytes)
    }

    /// Failed protocol authentications (bad or revoked tokens).
    func authenticationFailed() { authFailures.increment() }
    /// Failed logins (wrong e-mail or password).
    func loginFailed() { loginFailures.increment() }
    func joinRefused() { joinsRefused.increment() }

    /// A request refused by a rate limit; `what` is "login", "join", "short-link", ...
    func rateLimited(_ what: String) {
        CoreMetrics.Counter(label: "rs_rate_limited_total", dimensions: [("what", what)], factory: factory).increment()
    }

    /// Sets the gauges from the hub's counts (before each scrape).
    func refresh(connections: Int, waiting: Int, connected: Int) {
        self.connections.record(connections)
        self.waiting.record(waiting)
        self.connected.record(connected)
    }

    /// The Prometheus text exposition of everything.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
