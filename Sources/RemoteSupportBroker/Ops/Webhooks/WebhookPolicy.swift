/// How the dispatcher queues, spreads and retries deliveries. Tests use milliseconds.
public struct WebhookPolicy: Sendable {
    /// Attempts per delivery, the first included.
    public var attempts: Int
    /// The wait after the first failed attempt; doubled after each further one, up to `maximumDelay`.
    public var firstDelay: Duration
    public var maximumDelay: Duration
    /// Deliveries waiting to start; when full the oldest is dropped (and counted).
    public var queueCapacity: Int
    /// Requests in flight at once, over all hooks.
    public var concurrency: Int
    /// Deliveries waiting to retry at once; past it a failed delivery is given up (bounds memory when
    /// endpoints are down).
    public var maximumRetrying: Int
    public var connectTimeout: Duration
    /// For the whole request: connecting, sending and the response.
    public var requestTimeout: Duration
    /// How often the hooks are read again from the store (other broker nodes may have changed them).
    public var refreshInterval: Duration

    public init(attempts: Int = 8, firstDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(300),
                queueCapacity: Int = 10_000, concurrency: Int = 16, maximumRetrying: Int = 10_000,
                connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(10),
                refreshInterval: Duration = .seconds(60)) {
        self.attempts = max(1, attempts)
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.queueCapacity = max(1, queueCapacity)
        self.concurrency = max(1, concurrency)
        self.maximumRetrying = max(0, maximumRetrying)
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.refreshInterval = refreshInterval
    }

    public static let standard = WebhookPolicy()

    /// The wait after failed attempt number `attempt` (1-based): first, 2×first, 4×first, ... capped.
    public func delay(after attempt: Int) -> Duration {
        var delay = firstDelay
        for _ in 1..<max(1, attempt) {
            delay *= 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }
}
