import CRemoteSupport
import RemoteSupportCore

// The protocol's sans-IO connections (Protocol/Roles in the core) for C: one rs_conn per transport
// connection, any role. A thin skin: every rule lives in the core's state machines.

/// Runs `body` with a protocol error turned into a `CallError`: a call in the wrong state is
/// `RS_ERR_STATE`, anything else the caller passed that the core refused is `RS_ERR_INVALID_ARGUMENT`.
func proto<R>(_ body: () throws(ProtocolError) -> R) throws(CallError) -> R {
    do {
        return try body()
    } catch {
        throw CallError(error.code == .notAllowed ? RS_ERR_STATE : RS_ERR_INVALID_ARGUMENT, error.description)
    }
}

/// Runs one call on a connection handle: NULL goes to `rs_last_error()`, errors to the handle.
func withConnection(_ conn: OpaquePointer?, _ body: (ConnectionHandle) throws(CallError) -> Void) -> Int32 {
    guard let h = ConnectionHandle.from(conn) else { return nullHandle("conn") }
    return h.error.run { () throws(CallError) in try body(h) }
}

func closeReason(_ value: Int32) throws(CallError) -> CloseReason {
    guard let raw = UInt16(exactly: value) else { throw .invalid("reason \(value) is not a close reason (0 ... 65535)") }
    return CloseReason(rawValue: raw)
}

func accessMode(_ value: Int32) throws(CallError) -> AccessMode {
    switch value {
    case RS_MODE_VIEW_ONLY: .viewOnly
    case RS_MODE_CONTROL: .control
    default: throw .invalid("mode \(value) is neither RS_MODE_VIEW_ONLY nor RS_MODE_CONTROL")
    }
}

func sessionID(_ text: UnsafePointer<CChar>?) throws(CallError) -> SessionID {
    let value = try readText(text, "session_id", invalid: RS_ERR_INVALID_ARGUMENT)
    guard let id = SessionID(value) else { throw .invalid("session_id \"\(value.prefix(40))\" is not a UUID") }
    return id
}

func optionalText(_ text: UnsafePointer<CChar>?, _ name: String) throws(CallError) -> String {
    text == nil ? "" : try readText(text, name, invalid: RS_ERR_INVALID_ARGUMENT)
}

func bytes32(_ pointer: UnsafePointer<UInt8>?, _ name: String) throws(CallError) -> [UInt8] {
    guard let pointer else { throw .null(name) }
    return Array(UnsafeBufferPointer(start: pointer, count: 32))
}

// MARK: - Life

@c(rs_event_init)
public func rs_event_init(_ out_event: UnsafeMutablePointer<rs_event>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_event else { throw .null("out_event") }
        out_event.pointee = rs_event()
        out_event.pointee.struct_size = UInt32(MemoryLayout<rs_event>.size)
    }
}

@c(rs_conn_options_init)
public func rs_conn_options_init(_ out_options: UnsafeMutablePointer<rs_conn_options>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_options else { throw .null("out_options") }
        out_options.pointee = rs_conn_options(
            struct_size: UInt32(MemoryLayout<rs_conn_options>.size), handshake_timeout_ms: 10_000,
            keepalive_interval_ms: 15_000, keepalive_timeout_ms: 45_000, record_payload_size: 32_768,
            update_window: 2, compression_level: 6, threads: 1)
    }
}

@c(rs_conn_new)
public func rs_conn_new(_ role: Int32, _ options: UnsafePointer<rs_conn_options>?, _ now_ms: UInt64,
                        _ out_conn: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_conn else { throw .null("out_conn") }
        var c = ConnectionOptions()
        var encoder = EncoderOptions()
        var parallel: ParallelFor? = nil
        if let options {
            let o = try readVersioned(options, "options", initName: "RS_CONN_OPTIONS_INIT or rs_conn_options_init")
            guard o.handshake_timeout_ms > 0, o.keepalive_interval_ms > 0, o.keepalive_timeout_ms > o.keepalive_interval_ms else {
                throw .invalid("timeouts must be positive and keepalive_timeout_ms over keepalive_interval_ms")
            }
            guard (1024...65536).contains(o.record_payload_size) else { throw .invalid("record_payload_size \(o.record_payload_size) is not in 1024 ... 65536") }
            guard (1...64).contains(o.update_window) else { throw .invalid("update_window \(o.update_window) is not in 1 ... 64") }
            guard (0...9).contains(o.compression_level) else { throw .invalid("compression_level \(o.compression_level) is not in 0 ... 9") }
            c.handshakeTimeout = UInt64(o.handshake_timeout_ms)
            c.keepaliveInterval = UInt64(o.keepalive_interval_ms)
            c.keepaliveTimeout = UInt64(o.keepalive_timeout_ms)
            c.recordPayloadSize = Int(o.record_payload_size)
            c.updateWindow = Int(o.update_window)
            encoder.compressionLevel = Int(o.compression_level)
            encoder.sparseCompressionLevel = min(4, Int(o.compression_level))
            (encoder.workers, parallel) = try parallelism(threads: o.threads)
        }
        c.software = "libremotesupport/\(String(cString: rs_version()!))"
        let machine: ConnectionHandle.Machine
        switch role {
        case RS_ROLE_END_USER:
            machine = .endUser(EndUserConnection(options: c, encoderOptions: encoder,
                                                 parallel: parallel, now: now_ms))
        case RS_ROLE_AGENT: machine = .agent(AgentConnection(options: c, now: now_ms))
        case RS_ROLE_BROKER: machine = .broker(BrokerConnection(options: c, now: now_ms))
        default: throw .invalid("role \(role) is not RS_ROLE_END_USER, RS_ROLE_AGENT or RS_ROLE_BROKER")
        }
        out_conn.pointee = OpaquePointer(Unmanaged.passRetained(ConnectionHandle(machine)).toOpaque())
    }
}

@c(rs_conn_free)
public func rs_conn_free(_ conn: OpaquePointer?) {
    guard let conn else { return }
    Unmanaged<ConnectionHandle>.fromOpaque(UnsafeRawPointer(conn)).release()
}

private let nullConnectionMessage = StaticCString("conn is NULL")

@c(rs_conn_errmsg)
public func rs_conn_errmsg(_ conn: OpaquePointer?) -> UnsafePointer<CChar>? {
    ConnectionHandle.from(conn)?.error.cString ?? nullConnectionMessage.pointer
}

@c(rs_conn_role)
public func rs_conn_role(_ conn: OpaquePointer?) -> Int32 {
    ConnectionHandle.from(conn)?.role ?? 0
}

// MARK: - Bytes, events, time

@c(rs_conn_receive)
public func rs_conn_receive(_ conn: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ length: Int, _ now_ms: UInt64) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        guard length >= 0 else { throw .invalid("length \(length) is negative") }
        guard length == 0 || data != nil else { throw .null("data") }
        h.releaseEventMemory()
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        switch h.machine {
        case .endUser(let e): e.receive(bytes, now: now_ms)
        case .agent(let a): a.receive(bytes, now: now_ms)
        case .broker(let b): b.receive(bytes, now: now_ms)
        }
    }
}

@c(rs_conn_poll)
public func rs_conn_poll(_ conn: OpaquePointer?, _ out_event: UnsafeMutablePointer<rs_event>?) -> Int32 {
    var status = RS_OK
    let result = withConnection(conn) { (h) throws(CallError) in
        guard let out_event else { throw .null("out_event") }
        let size = try checkVersionedOut(out_event, "out_event", initName: "RS_EVENT_INIT or rs_event_init")
        h.releaseEventMemory()
        var e = rs_event()
        e.struct_size = size
        switch h.machine {
        case .endUser(let c):
            guard let event = c.nextEvent() else { status = RS_NO_EVENT; return }
            h.fill(&e, with: event)
        case .agent(let c):
            guard let event = c.nextEvent() else { status = RS_NO_EVENT; return }
            h.fill(&e, with: event)
        case .broker(let c):
            guard let event = c.nextEvent() else { status = RS_NO_EVENT; return }
            h.fill(&e, with: event)
        }
        out_event.pointee = e
    }
    return result == RS_OK ? status : result
}

@c(rs_conn_take_output)
public func rs_conn_take_output(_ conn: OpaquePointer?, _ out_data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                                _ out_length: UnsafeMutablePointer<Int>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        guard let out_data else { throw .null("out_data") }
        guard let out_length else { throw .null("out_length") }
        let bytes: [UInt8]
        switch h.machine {
        case .endUser(let c): bytes = c.takeOutput()
        case .agent(let c): bytes = c.takeOutput()
        case .broker(let c): bytes = c.takeOutput()
        }
        (out_data.pointee, out_length.pointee) = h.keepOutput(bytes)
    }
}

@c(rs_conn_tick)
public func rs_conn_tick(_ conn: OpaquePointer?, _ now_ms: UInt64) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        switch h.machine {
        case .endUser(let c): c.tick(now: now_ms)
        case .agent(let c): c.tick(now: now_ms)
        case .broker(let c): c.tick(now: now_ms)
        }
    }
}

@c(rs_conn_next_wakeup)
public func rs_conn_next_wakeup(_ conn: OpaquePointer?, _ out_ms: UnsafeMutablePointer<UInt64>?) -> Int32 {
    var status = RS_OK
    let result = withConnection(conn) { (h) throws(CallError) in
        guard let out_ms else { throw .null("out_ms") }
        let wakeup: UInt64?
        switch h.machine {
        case .endUser(let c): wakeup = c.nextWakeup
        case .agent(let c): wakeup = c.nextWakeup
        case .broker(let c): wakeup = c.nextWakeup
        }
        if let wakeup { out_ms.pointee = wakeup } else { status = RS_NO_DEADLINE }
    }
    return result == RS_OK ? status : result
}

@c(rs_conn_close)
public func rs_conn_close(_ conn: OpaquePointer?, _ reason: Int32, _ message: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let r = try closeReason(reason)
        let text = try optionalText(message, "message")
        switch h.machine {
        case .endUser(let c): c.close(r, text)
        case .agent(let c): c.close(r, text)
        case .broker(let c): c.close(r, text)
        }
    }
}

@c(rs_conn_connection_lost)
public func rs_conn_connection_lost(_ conn: OpaquePointer?, _ now_ms: UInt64, _ out_can_resume: UnsafeMutablePointer<Int32>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        guard let out_can_resume else { throw .null("out_can_resume") }
        switch h.machine {
        case .broker(let b):
            b.connectionLost()
            out_can_resume.pointee = 0
        case .endUser(let c): out_can_resume.pointee = c.connectionLost(now: now_ms) ? 1 : 0
        case .agent(let c): out_can_resume.pointee = c.connectionLost(now: now_ms) ? 1 : 0
        }
    }
}

@c(rs_conn_reconnect)
public func rs_conn_reconnect(_ conn: OpaquePointer?, _ now_ms: UInt64) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let p = try h.peerConnection("rs_conn_reconnect")
        try proto { () throws(ProtocolError) in try p.reconnect(now: now_ms) }
    }
}

@c(rs_conn_sas)
public func rs_conn_sas(_ conn: OpaquePointer?, _ out_text: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        guard let out_text else { throw .null("out_text") }
        let p = try h.peerConnection("rs_conn_sas")
        guard let sas = p.shortAuthenticationString else { throw CallError(RS_ERR_STATE, "no session keys yet") }
        out_text.pointee = h.keepSAS(sas)
    }
}

// MARK: - End user and agent

@c(rs_conn_send_clipboard)
public func rs_conn_send_clipboard(_ conn: OpaquePointer?, _ text: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let value = try readText(text, "text", invalid: RS_ERR_INVALID_ARGUMENT, maxBytes: SessionMessage.maximumClipboardBytes)
        switch h.machine {
        case .endUser(let c): try proto { () throws(ProtocolError) in try c.sendClipboard(value) }
        case .agent(let c): try proto { () throws(ProtocolError) in try c.sendClipboard(value) }
        case .broker: throw CallError(RS_ERR_STATE, "rs_conn_send_clipboard is for an end user's or an agent's connection")
        }
    }
}

@c(rs_conn_send_chat)
public func rs_conn_send_chat(_ conn: OpaquePointer?, _ text: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let value = try readText(text, "text", invalid: RS_ERR_INVALID_ARGUMENT, maxBytes: SessionMessage.maximumChatBytes)
        switch h.machine {
        case .endUser(let c): try proto { () throws(ProtocolError) in try c.sendChat(value) }
        case .agent(let c): try proto { () throws(ProtocolError) in try c.sendChat(value) }
        case .broker: throw CallError(RS_ERR_STATE, "rs_conn_send_chat is for an end user's or an agent's connection")
        }
    }
}

@c(rs_conn_end_session)
public func rs_conn_end_session(_ conn: OpaquePointer?, _ reason: Int32, _ message: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let r = try closeReason(reason)
        let text = try optionalText(message, "message")
        switch h.machine {
        case .endUser(let c): c.endSession(r, text)
        case .agent(let c): try proto { () throws(ProtocolError) in try c.endSession(r, text) }
        case .broker: throw CallError(RS_ERR_STATE, "rs_conn_end_session is for an end user's or an agent's connection")
        }
    }
}
