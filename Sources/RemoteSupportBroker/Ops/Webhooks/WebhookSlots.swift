import Synchronization

/// A counting semaphore for async code: bounds the requests in flight, and (with one slot) serialises
/// the registry's read-modify-write of the store. Waiters are served first come, first served.
final class WebhookSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        /// Waiters cancelled before they got to register their continuation.
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    init(_ count: Int) {
        state = Mutex(State(free: count))
    }

    /// Takes a slot, waiting for one; false when the task is cancelled (then no slot is held).
    func acquire() async -> Bool {
        if Task.isCancelled { return false }
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        let acquired = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { s in
                    if s.cancelledEarly.remove(id) != nil { return false }
                    if s.free > 0 {
                        s.free -= 1
                        return true
                    }
                    s.waiters.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                if let i = s.waiters.firstIndex(where: { $0.id == id }) { return s.waiters.remove(at: i).continuation }
                s.cancelledEarly.insert(id)
                return nil
            }
            waiter?.resume(returning: false)
        }
        // A cancellation that came after the slot was granted left its mark: clear it.
        state.withLock { _ = $0.cancelledEarly.remove(id) }
        return acquired
    }

    /// Gives a slot back (to the longest waiter, if any).
    func release() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: true)
    }

    /// Runs `body` holding a slot; throws CancellationError when cancelled while waiting.
    func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        guard await acquire() else { throw CancellationError() }
        defer { release() }
        return try await body()
    }
}
