import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RemoteSupportCore
import RemoteSupportStore
import Synchronization

/// Posts session events to the URLs the operator registered, signed with HMAC-SHA256, retried with
/// backoff, never blocking the hub.
///
/// `publish` only puts deliveries on a bounded queue (the oldest is dropped when it is full). `run()`
/// takes them off with at most `policy.concurrency` requests in flight; a failed delivery gives its slot
/// back while it waits to retry, so a dead endpoint holds slots only for its attempts (fast when refused,
/// up to the timeouts when silent). The hooks live in the store's "webhooks" setting, with their secrets.
public final class WebhookDispatcher: Sendable {
    let desk: SupportDesk
    let logger: Logger
    let policy: WebhookPolicy
    private let hooks = Mutex<[StoredWebhook]>([])
    /// Serialises reading and writing the setting (add, remove, reload) on this node.
    private let editing = WebhookSlots(1)
    private let slots: WebhookSlots
    private let queue: AsyncStream<WebhookDelivery>
    private let queueInput: AsyncStream<WebhookDelivery>.Continuation
    private let counters = Mutex(WebhookCounters())

    init(desk: SupportDesk, logger: Logger, policy: WebhookPolicy = .standard) {
        self.desk = desk
        self.logger = logger
        self.policy = policy
        slots = WebhookSlots(policy.concurrency)
        (queue, queueInput) = AsyncStream.makeStream(of: WebhookDelivery.self,
                                                     bufferingPolicy: .bufferingNewest(policy.queueCapacity))
    }

    /// What happened to deliveries so far.
    var counts: WebhookCounters { counters.withLock { $0 } }

    // MARK: Registry

    /// Loads the registered hooks from the store.
    func load() async throws {
        try await editing.withSlot {
            let stored = try await readStored()
            hooks.withLock { $0 = stored }
        }
    }

    /// Read from the store, so hooks another node added show (and are delivered to from now on).
    func list() async throws -> [Webhook] {
        try await load()
        return hooks.withLock { $0.map(\.webhook) }
    }

    /// Registers a hook; returns it and its secret (shown this once; only the store keeps it).
    func add(url: String, events: [String]?, by admin: Agent, address: String) async throws -> (Webhook, String) {
        let url = try WebhookRules.validURL(url)
        let events = try WebhookRules.validEvents(events)
        let secret = WebhookRules.newSecret()
        let hook = StoredWebhook(id: UUID().uuidString.lowercased(), url: url, events: events, secret: secret,
                                 created: Date().wholeMilliseconds)
        try await editing.withSlot {
            var current = try await readStored()
            guard current.count < WebhookRules.maximumHooks else {
                throw DomainError(.conflict, "at most \(WebhookRules.maximumHooks) webhooks can be registered")
            }
            current.append(hook)
            try await desk.store.replaceSetting(StoredWebhooks.settingName, value: try StoredWebhooks.encode(current))
            hooks.withLock { $0 = current }
        }
        try await desk.audit(AuditAction(rawValue: "webhook.added"), actor: .agent(admin), subject: url, address: address,
                             detail: events.joined(separator: ","))
        logger.notice("webhook added", metadata: ["webhook": "\(hook.id)", "host": "\(Self.host(url))"])
        return (hook.webhook, secret)
    }

    func remove(id: String, by admin: Agent, address: String) async throws {
        let removed = try await editing.withSlot {
            var current = try await readStored()
            guard let index = current.firstIndex(where: { $0.id == id }) else {
                throw DomainError(.notFound, "no webhook \(id.prefix(64))")
            }
            let removed = current.remove(at: index)
            try await desk.store.replaceSetting(StoredWebhooks.settingName, value: try StoredWebhooks.encode(current))
            hooks.withLock { $0 = current }
            return removed
        }
        try await desk.audit(AuditAction(rawValue: "webhook.removed"), actor: .agent(admin), subject: removed.url, address: address)
        logger.notice("webhook removed", metadata: ["webhook": "\(removed.id)", "host": "\(Self.host(removed.url))"])
    }

    private func readStored() async throws -> [StoredWebhook] {
        try StoredWebhooks.decode(try await desk.store.setting(StoredWebhooks.settingName))
    }

    // MARK: Queue

    /// Queues a change for each hook that wants it. Never blocks: called from the hub.
    func publish(_ change: SessionChange) {
        let targets = hooks.withLock { $0.filter { $0.wants(change.kind) } }
        guard !targets.isEmpty else { return }
        let now = Date()
        for hook in targets {
            switch queueInput.yield(WebhookDelivery(hook: hook, change: change, time: now)) {
            case .enqueued:
                counters.withLock { $0.queued += 1 }
            case .dropped:
                let dropped = counters.withLock { c in
                    c.dropped += 1
                    return c.dropped
                }
                // The first, then every thousandth: a flood must not flood the log too.
                if dropped == 1 || dropped % 1000 == 0 {
                    logger.warning("webhook queue full: dropped the oldest delivery", metadata: ["dropped": "\(dropped)"])
                }
            case .terminated:
                break  // stopped: nothing delivers any more
            @unknown default:
                break
            }
        }
    }

    // MARK: Delivery

    /// Delivers until the task is cancelled; then drops what is pending (logged) and closes the client.
    /// Call once: the queue has one reader.
    func run() async {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(policy.connectTimeout), read: TimeAmount(policy.requestTimeout)))
        configuration.decompression = .disabled
        // We retry with backoff ourselves; the pool's own retries would hold a slot on a refused port until
        // the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration,
                                backgroundActivityLogger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.refreshPeriodically() }
            var iterator = queue.makeAsyncIterator()
            // A slot first, then a delivery: while all slots are busy, new events wait in the bounded queue.
            while await slots.acquire() {
                guard let delivery = await iterator.next() else {
                    slots.release()
                    break
                }
                counters.withLock { $0.queued -= 1 }
                group.addTask { await self.carry(delivery, client: client) }
            }
            group.cancelAll()
        }
        queueInput.finish()
        let c = counts
        let pending = max(0, c.queued) + c.abandoned
        if pending > 0 {
            logger.notice("webhooks stopped: \(pending) pending deliveries dropped")
        }
        do {
            try await client.shutdown()
        } catch {
            logger.warning("webhook HTTP client did not shut down cleanly: \(error)")
        }
    }

    /// One delivery through its attempts. Entered holding a slot; holds one only while posting.
    private func carry(_ delivery: WebhookDelivery, client: HTTPClient) async {
        let metadata: Logger.Metadata = ["webhook": "\(delivery.hook.id)", "delivery": "\(delivery.id)", "event": "\(delivery.event)"]
        let body: [UInt8]
        do {
            body = try delivery.body()
        } catch {
            slots.release()
            counters.withLock { $0.failed += 1 }
            logger.error("webhook delivery cannot be encoded: \(error)", metadata: metadata)
            return
        }
        var attempt = 1
        while true {
            let outcome = await post(delivery, body: body, client: client)
            slots.release()
            switch outcome {
            case .delivered:
                counters.withLock { $0.delivered += 1 }
                logger.debug("webhook delivered", metadata: metadata.merging(["attempt": "\(attempt)"]) { $1 })
                return
            case .gone:
                counters.withLock { $0.failed += 1 }
                logger.warning("webhook endpoint answered 410 Gone: not retried", metadata: metadata)
                return
            case .failed(let reason):
                if Task.isCancelled {
                    counters.withLock { $0.abandoned += 1 }
                    return
                }
                guard attempt < policy.attempts else {
                    counters.withLock { $0.failed += 1 }
                    logger.warning("webhook delivery given up after \(attempt) attempts: \(reason)", metadata: metadata)
                    return
                }
                guard isRegistered(delivery.hook.id) else { return }  // removed meanwhile: nobody wants it
                let admitted = counters.withLock { c in
                    guard c.retrying < policy.maximumRetrying else { return false }
                    c.retrying += 1
                    return true
                }
                guard admitted else {
                    counters.withLock { $0.failed += 1 }
                    logger.warning("webhook delivery given up: too many deliveries waiting to retry (\(reason))", metadata: metadata)
                    return
                }
                let delay = policy.delay(after: attempt)
                logger.debug("webhook attempt \(attempt) failed: \(reason); retrying in \(delay)", metadata: metadata)
                let resumed: Bool
                do {
                    try await Task.sleep(for: delay)
                    resumed = await slots.acquire()
                } catch {
                    resumed = false
                }
                counters.withLock { $0.retrying -= 1 }
                guard resumed else {
                    counters.withLock { $0.abandoned += 1 }
                    return
                }
                attempt += 1
            }
        }
    }

    private enum Outcome {
        case delivered
        case gone
        case failed(String)
    }

    /// One attempt. Logs nothing itself: the body and the secret never reach the log.
    private func post(_ delivery: WebhookDelivery, body: [UInt8], client: HTTPClient) async -> Outcome {
        // Signed afresh on each attempt: receivers may refuse old timestamps.
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: delivery.hook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "rs-broker/\(Broker.version)")
        request.headers.add(name: "X-RS-Event", value: delivery.event)
        request.headers.add(name: "X-RS-Delivery", value: delivery.id)
        request.headers.add(name: "X-RS-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-RS-Signature",
                            value: WebhookDelivery.signature(secret: delivery.hook.secret, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: TimeAmount(policy.requestTimeout))
            // Read what the receiver says (bounded, ignored) so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .delivered
            case 410: return .gone
            default: return .failed("HTTP \(response.status.code)")
            }
        } catch {
            return .failed(Broker.describe(error))
        }
    }

    private func isRegistered(_ id: String) -> Bool {
        hooks.withLock { $0.contains { $0.id == id } }
    }

    /// Other broker nodes on the same store may add or remove hooks: read them again now and then.
    private func refreshPeriodically() async {
        while true {
            do {
                try await Task.sleep(for: policy.refreshInterval)
            } catch {
                return
            }
            do {
                try await load()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cannot reload webhooks: \(error)")
            }
        }
    }

    /// The host only: a hook's URL may carry a token in its path or query.
    static func host(_ url: String) -> String {
        URLComponents(string: url)?.host ?? "?"
    }
}

/// Deliveries by outcome (for tests and the shutdown log).
struct WebhookCounters: Sendable, Hashable {
    /// On the queue, not yet started.
    var queued = 0
    /// Waiting to retry.
    var retrying = 0
    var delivered = 0
    /// Given up: attempts used up, 410 Gone, or too many waiting to retry.
    var failed = 0
    /// Pushed off the full queue.
    var dropped = 0
    /// Left behind by a shutdown while retrying or in flight.
    var abandoned = 0
}
