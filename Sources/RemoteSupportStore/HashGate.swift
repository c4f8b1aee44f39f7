import Dispatch
import RemoteSupportCore
import Synchronization

/// Runs password hashes (scrypt: ~128 MiB and a few tenths of a second each) at most `slots` at a time,
/// off the async executor's threads, with at most `maximumWaiting` queued behind them. A login flood gets
/// `.rateLimited` ("busy") instead of exhausting memory or starving every other request.
public final class HashGate: Sendable {
    public let slots: Int
    public let maximumWaiting: Int
    let queue = DispatchQueue(label: "remotesupport.password-hash", attributes: .concurrent)
    let state = Mutex(State())

    struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    public init(slots: Int = 2, maximumWaiting: Int = 32) {
        self.slots = max(1, slots)
        self.maximumWaiting = max(0, maximumWaiting)
    }

    /// Runs `work` when a slot is free; `.rateLimited` at once if the queue is full.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// How many hashes run and wait now (for metrics and tests).
    public var load: (running: Int, waiting: Int) {
        state.withLock { ($0.running, $0.waiting.count) }
    }

    func acquire() async throws {
        enum Decision { case go, wait, refuse }
        let decision: Decision = state.withLock { state in
            if state.running < slots { state.running += 1; return .go }
            return state.waiting.count < maximumWaiting ? .wait : .refuse
        }
        switch decision {
        case .go:
            return
        case .refuse:
            throw DomainError(.rateLimited, "the server is busy checking passwords; try again shortly", retryAfter: 1)
        case .wait:
            await withCheckedContinuation { continuation in
                let admitted: Bool = state.withLock { state in
                    // A slot may have freed between the decision and here.
                    if state.running < slots { state.running += 1; return true }
                    state.waiting.append(continuation)
                    return false
                }
                if admitted { continuation.resume() }
            }
        }
    }

    func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()  // the slot passes straight to the next waiter
        }
        next?.resume()
    }
}
