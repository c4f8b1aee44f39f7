import CRemoteSupport
import RemoteSupportCore

// The calls of each role on an rs_conn: the end user's, the agent's and the broker's.

// MARK: - End user

@c(rs_conn_join)
public func rs_conn_join(_ conn: OpaquePointer?, _ method: Int32, _ credential: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?,
                         _ machine: UnsafePointer<CChar>?, _ os: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_join")
        let value = try readText(credential, "credential", invalid: RS_ERR_INVALID_ARGUMENT)
        let info = EndUserInfo(name: try readText(name, "name", invalid: RS_ERR_INVALID_ARGUMENT),
                               machineName: try readText(machine, "machine", invalid: RS_ERR_INVALID_ARGUMENT),
                               operatingSystem: try readText(os, "os", invalid: RS_ERR_INVALID_ARGUMENT))
        let c: JoinCredential
        switch method {
        case RS_JOIN_LINK: c = .link(value)
        case RS_JOIN_CONNECTION_ID: c = .connectionID(value)
        default: throw .invalid("method \(method) is neither RS_JOIN_LINK nor RS_JOIN_CONNECTION_ID")
        }
        try proto { () throws(ProtocolError) in try e.join(c, info) }
    }
}

@c(rs_conn_consent)
public func rs_conn_consent(_ conn: OpaquePointer?, _ mode: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_consent")
        let m: AccessMode? = mode == RS_MODE_DECLINE ? nil : try accessMode(mode)
        try proto { () throws(ProtocolError) in try e.consent(m) }
    }
}

@c(rs_conn_share_frame)
public func rs_conn_share_frame(_ conn: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ length: Int, _ width: UInt32, _ height: UInt32,
                                _ stride: Int, _ format: UnsafePointer<rs_pixel_format>?, _ out_sent: UnsafeMutablePointer<Int32>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_share_frame")
        guard let pixels else { throw .null("pixels") }
        guard let out_sent else { throw .null("out_sent") }
        let f = try PixelFormat.from(format, "format")
        let w = Int(width), ht = Int(height)
        let view = try codec { () throws(CodecError) in
            try FrameView(base: UnsafeRawPointer(pixels), width: w, height: ht, stride: stride, format: f)
        }
        guard length >= 0, stride * (ht - 1) + w * f.bytesPerPixel <= length else {
            throw .invalid("length \(length) is less than the \(stride * (ht - 1) + w * f.bytesPerPixel) bytes the frame needs")
        }
        out_sent.pointee = try proto { () throws(ProtocolError) in try e.shareFrame(view) } ? 1 : 0
    }
}

@c(rs_conn_send_cursor_position)
public func rs_conn_send_cursor_position(_ conn: OpaquePointer?, _ x: UInt32, _ y: UInt32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_send_cursor_position")
        try proto { () throws(ProtocolError) in try e.sendCursorPosition(x: Int(x), y: Int(y)) }
    }
}

@c(rs_conn_send_cursor_shape)
public func rs_conn_send_cursor_shape(_ conn: OpaquePointer?, _ hot_x: UInt32, _ hot_y: UInt32, _ width: UInt32, _ height: UInt32,
                                      _ rgba: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_send_cursor_shape")
        guard width <= 256, height <= 256 else { throw .invalid("a cursor is at most 256x256, not \(width)x\(height)") }
        let needed = Int(width) * Int(height) * 4
        guard length == needed else { throw .invalid("length \(length) is not width * height * 4 = \(needed)") }
        guard needed == 0 || rgba != nil else { throw .null("rgba") }
        let pixels = needed == 0 ? [] : Array(UnsafeBufferPointer(start: rgba, count: needed))
        try proto { () throws(ProtocolError) in
            try e.sendCursorShape(hotX: Int(hot_x), hotY: Int(hot_y), width: Int(width), height: Int(height), rgba: pixels)
        }
    }
}

@c(rs_conn_set_access)
public func rs_conn_set_access(_ conn: OpaquePointer?, _ mode: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_set_access")
        let m = try accessMode(mode)
        try proto { () throws(ProtocolError) in try e.setAccess(m) }
    }
}

@c(rs_conn_set_paused)
public func rs_conn_set_paused(_ conn: OpaquePointer?, _ paused: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let e = try h.endUser("rs_conn_set_paused")
        try proto { () throws(ProtocolError) in try e.setPaused(paused != 0) }
    }
}

// MARK: - Agent

@c(rs_conn_authenticate)
public func rs_conn_authenticate(_ conn: OpaquePointer?, _ token: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_authenticate")
        let value = try readText(token, "token", invalid: RS_ERR_INVALID_ARGUMENT, maxBytes: 512)
        try proto { () throws(ProtocolError) in try a.authenticate(token: value) }
    }
}

@c(rs_conn_connect)
public func rs_conn_connect(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ mode: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_connect")
        let id = try sessionID(session_id)
        let m = try accessMode(mode)
        try proto { () throws(ProtocolError) in try a.connect(to: id, mode: m) }
    }
}

@c(rs_conn_send_pointer)
public func rs_conn_send_pointer(_ conn: OpaquePointer?, _ x: Int32, _ y: Int32, _ buttons: UInt32, _ wheel_x: Int32, _ wheel_y: Int32,
                                 _ out_sent: UnsafeMutablePointer<Int32>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_send_pointer")
        guard let out_sent else { throw .null("out_sent") }
        guard buttons <= 0xFFFF else { throw .invalid("buttons 0x\(String(buttons, radix: 16)) has bits over 15") }
        out_sent.pointee = try proto { () throws(ProtocolError) in
            try a.sendPointer(x: Int(x), y: Int(y), buttons: UInt16(buttons), wheelX: Int(wheel_x), wheelY: Int(wheel_y))
        } ? 1 : 0
    }
}

@c(rs_conn_send_key)
public func rs_conn_send_key(_ conn: OpaquePointer?, _ keysym: UInt32, _ down: Int32, _ out_sent: UnsafeMutablePointer<Int32>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_send_key")
        guard let out_sent else { throw .null("out_sent") }
        out_sent.pointee = try proto { () throws(ProtocolError) in try a.sendKey(keysym: keysym, down: down != 0) } ? 1 : 0
    }
}

@c(rs_conn_request_refresh)
public func rs_conn_request_refresh(_ conn: OpaquePointer?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_request_refresh")
        try proto { () throws(ProtocolError) in try a.requestRefresh() }
    }
}

@c(rs_conn_screen)
public func rs_conn_screen(_ conn: OpaquePointer?, _ out_pixels: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                           _ out_width: UnsafeMutablePointer<UInt32>?, _ out_height: UnsafeMutablePointer<UInt32>?,
                           _ out_stride: UnsafeMutablePointer<Int>?, _ out_format: UnsafeMutablePointer<rs_pixel_format>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let a = try h.agent("rs_conn_screen")
        guard let out_pixels, let out_width, let out_height, let out_stride, let out_format else { throw .null("an out_ pointer") }
        guard let screen = a.screen else { throw CallError(RS_ERR_STATE, "no screen yet") }
        out_pixels.pointee = screen.pixels.assumingMemoryBound(to: UInt8.self)
        out_width.pointee = UInt32(screen.width)
        out_height.pointee = UInt32(screen.height)
        out_stride.pointee = screen.stride
        out_format.pointee = rs_pixel_format(screen.format)
    }
}

// MARK: - Broker

private func resumeToken(_ pointer: UnsafePointer<UInt8>?) throws(CallError) -> ResumeToken {
    let b = try bytes32(pointer, "resume_token")
    return try proto { () throws(ProtocolError) in try ResumeToken(b) }
}

private func keyShare(_ pointer: UnsafePointer<UInt8>?, _ name: String) throws(CallError) -> KeyShare {
    let b = try bytes32(pointer, name)
    return try proto { () throws(ProtocolError) in try KeyShare(b) }
}

private func text(_ p: UnsafePointer<CChar>?, _ name: String) throws(CallError) -> String {
    try readText(p, name, invalid: RS_ERR_INVALID_ARGUMENT)
}

@c(rs_conn_accept_join)
public func rs_conn_accept_join(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ resume_token: UnsafePointer<UInt8>?,
                                _ grace_seconds: UInt32, _ wait_seconds: UInt32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_accept_join")
        let id = try sessionID(session_id), token = try resumeToken(resume_token)
        try proto { () throws(ProtocolError) in try b.acceptJoin(id, resumeToken: token, graceSeconds: grace_seconds, waitSeconds: wait_seconds) }
    }
}

@c(rs_conn_accept_agent)
public func rs_conn_accept_agent(_ conn: OpaquePointer?, _ agent_id: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?,
                                 _ job_title: UnsafePointer<CChar>?, _ organisation: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_accept_agent")
        let id = try text(agent_id, "agent_id")
        let info = AgentInfo(name: try text(name, "name"), jobTitle: try text(job_title, "job_title"), organisation: try text(organisation, "organisation"))
        try proto { () throws(ProtocolError) in try b.acceptAgent(agentID: id, info) }
    }
}

@c(rs_conn_accept_resume)
public func rs_conn_accept_resume(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ epoch: UInt32, _ connected: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_accept_resume")
        let id = try sessionID(session_id)
        try proto { () throws(ProtocolError) in try b.acceptResume(id, epoch: epoch, connected: connected != 0) }
    }
}

@c(rs_conn_send_lobby)
public func rs_conn_send_lobby(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?,
                               _ machine: UnsafePointer<CChar>?, _ os: UnsafePointer<CChar>?, _ ticket: UnsafePointer<CChar>?,
                               _ join_method: UnsafePointer<CChar>?, _ joined_at_ms: Int64) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_lobby")
        let entry = LobbyEntry(sessionID: try sessionID(session_id),
                               endUser: EndUserInfo(name: try text(name, "name"), machineName: try text(machine, "machine"),
                                                    operatingSystem: try text(os, "os")),
                               ticket: try text(ticket, "ticket"), joinMethod: try text(join_method, "join_method"), joinedAt: joined_at_ms)
        try proto { () throws(ProtocolError) in try b.sendLobby(entry) }
    }
}

@c(rs_conn_send_lobby_gone)
public func rs_conn_send_lobby_gone(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ reason: Int32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_lobby_gone")
        let id = try sessionID(session_id), r = try closeReason(reason)
        try proto { () throws(ProtocolError) in try b.sendLobbyGone(id, r) }
    }
}

@c(rs_conn_request_consent)
public func rs_conn_request_consent(_ conn: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ job_title: UnsafePointer<CChar>?,
                                    _ organisation: UnsafePointer<CChar>?, _ mode: Int32, _ agent_key: UnsafePointer<UInt8>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_request_consent")
        let info = AgentInfo(name: try text(name, "name"), jobTitle: try text(job_title, "job_title"), organisation: try text(organisation, "organisation"))
        let m = try accessMode(mode), key = try keyShare(agent_key, "agent_key")
        try proto { () throws(ProtocolError) in try b.requestConsent(info, mode: m, agentKey: key) }
    }
}

@c(rs_conn_session_connected)
public func rs_conn_session_connected(_ conn: OpaquePointer?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_session_connected")
        try proto { () throws(ProtocolError) in try b.sessionConnected() }
    }
}

@c(rs_conn_send_connected)
public func rs_conn_send_connected(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ mode: Int32,
                                   _ end_user_key: UnsafePointer<UInt8>?, _ resume_token: UnsafePointer<UInt8>?, _ grace_seconds: UInt32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_connected")
        let id = try sessionID(session_id), m = try accessMode(mode)
        let key = try keyShare(end_user_key, "end_user_key"), token = try resumeToken(resume_token)
        try proto { () throws(ProtocolError) in
            try b.sendConnected(id, mode: m, endUserKey: key, resumeToken: token, graceSeconds: grace_seconds)
        }
    }
}

@c(rs_conn_refuse_connect)
public func rs_conn_refuse_connect(_ conn: OpaquePointer?, _ session_id: UnsafePointer<CChar>?, _ reason: Int32,
                                   _ message: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_refuse_connect")
        let id = try sessionID(session_id), r = try closeReason(reason), t = try optionalText(message, "message")
        try proto { () throws(ProtocolError) in try b.refuseConnect(id, r, t) }
    }
}

@c(rs_conn_relay)
public func rs_conn_relay(_ conn: OpaquePointer?, _ record: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_relay")
        guard let record else { throw .null("record") }
        guard length >= 0, length <= Frame.minimumMaximumLength else { throw .invalid("length \(length) is not a record's") }
        let frame = Frame(.record, payload: Array(UnsafeBufferPointer(start: record, count: length)))
        let parsed = try proto { () throws(ProtocolError) in try ControlMessage(frame: frame) }
        guard case .record(let r)? = parsed else { throw .invalid("not a record") }
        try proto { () throws(ProtocolError) in try b.relay(r) }
    }
}

@c(rs_conn_send_peer_away)
public func rs_conn_send_peer_away(_ conn: OpaquePointer?, _ grace_seconds: UInt32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_peer_away")
        try proto { () throws(ProtocolError) in try b.sendPeerAway(graceSeconds: grace_seconds) }
    }
}

@c(rs_conn_send_peer_resumed)
public func rs_conn_send_peer_resumed(_ conn: OpaquePointer?, _ epoch: UInt32) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_peer_resumed")
        try proto { () throws(ProtocolError) in try b.sendPeerResumed(epoch: epoch) }
    }
}

@c(rs_conn_send_session_ended)
public func rs_conn_send_session_ended(_ conn: OpaquePointer?, _ reason: Int32, _ message: UnsafePointer<CChar>?) -> Int32 {
    withConnection(conn) { (h) throws(CallError) in
        let b = try h.broker("rs_conn_send_session_ended")
        let r = try closeReason(reason), t = try optionalText(message, "message")
        try proto { () throws(ProtocolError) in try b.sendSessionEnded(r, t) }
    }
}
