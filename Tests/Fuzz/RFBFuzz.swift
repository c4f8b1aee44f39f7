// libFuzzer target: the sans-IO RFB server connection fed a client's bytes (handshake and messages),
// in two pieces split where the first byte says, so partial messages are exercised too.

public func fuzzRFB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let split = min(Int(data[0]), bytes.count)
    guard var connection = try? RFBServerConnection(configuration: RFBServerConfiguration(width: 640, height: 480)) else { return 0 }
    for piece in [UnsafeRawBufferPointer(rebasing: bytes[..<split]), UnsafeRawBufferPointer(rebasing: bytes[split...])] {
        connection.receive(piece)
        do {
            while let event = try connection.nextEvent() {
                if case .message(.updateRequest(_, let rect)) = event {
                    precondition(rect.isEmpty || (rect.x >= 0 && rect.y >= 0 && rect.maxX <= 640 && rect.maxY <= 480), "request not clipped")
                }
            }
        } catch {
            precondition(connection.isClosed, "an error must close the connection")
            return 0
        }
        _ = connection.takeOutput()
    }
    return 0
}
