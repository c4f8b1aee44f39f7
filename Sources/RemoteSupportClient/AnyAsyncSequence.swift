/// An async sequence of byte buffers with its type erased (WebSocket messages or a TCP stream).
public struct AnyAsyncSequence<Element>: AsyncSequence, @unchecked Sendable {
    private let make: () -> AsyncIterator

    public init<S: AsyncSequence>(_ base: S) where S.Element == Element {
        make = {
            var iterator = base.makeAsyncIterator()
            return AsyncIterator { try await iterator.next() }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { make() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextElement: () async throws -> Element?
        public mutating func next() async throws -> Element? { try await nextElement() }
    }
}
