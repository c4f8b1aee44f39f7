/// Why a protocol connection failed, as the state machines report it: a code (what the peer is told,
/// as a `CloseReason`), a human reason for logs, and where it was thrown. Equality is on the code.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: CloseReason
    public var reason: String
    public var file: String
    public var line: Int

    public init(_ code: CloseReason, _ reason: String = "", file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { reason.isEmpty ? "\(code)" : "\(code): \(reason)" }

    public static func == (a: ProtocolError, b: ProtocolError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static func malformed(_ reason: String, file: String = #fileID, line: Int = #line) -> ProtocolError {
        ProtocolError(.protocolError, reason, file: file, line: line)
    }
}
