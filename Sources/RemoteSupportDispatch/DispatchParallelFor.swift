import Dispatch
import RemoteSupportCore

/// The core's `ParallelFor` on libdispatch, for hosts that let the encoder use several cores: runs
/// `body(0..<iterations)` on libdispatch's worker threads (and the calling one) and returns when every
/// call has. The core itself has no threads; this small module is where they come from.
///
/// `body` is not `@Sendable` in `ParallelFor`'s type, but running it at once for different indices is its
/// contract (each index writes its own part of the encoder's buffers), and `concurrentPerform` returns
/// only when every call has, so the closure does not escape either: the box says so once, here.
public let dispatchParallelFor: ParallelFor = { iterations, body in
    if iterations == 1 { return body(0) }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendableBody(run: body)
        DispatchQueue.concurrentPerform(iterations: iterations) { box.run($0) }
    }
}

private struct UncheckedSendableBody: @unchecked Sendable {
    let run: (Int) -> Void
}
