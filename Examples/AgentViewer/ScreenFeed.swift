import NIOConcurrencyHelpers
import RemoteSupportCore

/// What the network side (PeerSession's tasks) tells the window (the main thread): a new screen (size
/// or format), the rectangles changed since the window last looked, the title, and the end. The window
/// takes it all at once with `take()`; the pixels themselves stay in the decoder and are read under
/// the session's lock.
final class ScreenFeed: @unchecked Sendable {
    struct Changes {
        /// A new screen (screen-info): the texture must be made again, and all of it drawn.
        var newScreen = false
        /// Changed rectangles (at most `maximumRectangles`; more are merged into their bounding box).
        var changed: [Rect] = []
        var title: String?
        /// The viewer is done: the window closes.
        var finished = false
    }

    static let maximumRectangles = 64
    private let lock = NIOLock()
    private var pending = Changes()

    func newScreen() {
        lock.withLock {
            pending.newScreen = true
            pending.changed = []
        }
    }

    func changed(_ rects: [Rect]) {
        lock.withLock {
            pending.changed += rects
            if pending.changed.count > Self.maximumRectangles {
                let all = pending.changed
                let x = all.map(\.x).min()!, y = all.map(\.y).min()!
                pending.changed = [Rect(x: x, y: y, width: all.map(\.maxX).max()! - x, height: all.map(\.maxY).max()! - y)]
            }
        }
    }

    func setTitle(_ title: String) { lock.withLock { pending.title = title } }
    func finish() { lock.withLock { pending.finished = true } }

    /// What changed since the last call (`finished` stays set).
    func take() -> Changes {
        lock.withLock {
            let taken = pending
            pending = Changes(finished: taken.finished)
            return taken
        }
    }
}
