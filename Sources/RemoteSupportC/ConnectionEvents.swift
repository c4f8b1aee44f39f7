import CRemoteSupport
import RemoteSupportCore

// Turns the core's events into the flat rs_event the header describes; the strings, bytes and rectangles
// live in the handle's event memory until the next poll, receive or free.

extension ConnectionHandle {
    func fill(_ e: inout rs_event, with event: ProtocolEvent) {
        switch event {
        case .joined(let id):
            e.type = RS_EVENT_JOINED
            e.session_id = eventText(id.description)
        case .connectRequested(let agent, let mode):
            e.type = RS_EVENT_CONNECT_REQUESTED
            fill(&e, agent)
            e.mode = Int32(mode.rawValue)
        case .authenticated(let id, let agent):
            e.type = RS_EVENT_AUTHENTICATED
            e.agent_id = eventText(id)
            fill(&e, agent)
        case .lobbySession(let entry):
            e.type = RS_EVENT_LOBBY_SESSION
            e.session_id = eventText(entry.sessionID.description)
            e.name = eventText(entry.endUser.name)
            e.machine = eventText(entry.endUser.machineName)
            e.os = eventText(entry.endUser.operatingSystem)
            e.ticket = eventText(entry.ticket)
            e.join_method = eventText(entry.joinMethod)
            e.joined_at_ms = entry.joinedAt
        case .lobbySessionGone(let id, let reason):
            e.type = RS_EVENT_LOBBY_SESSION_GONE
            e.session_id = eventText(id.description)
            e.reason = Int32(reason.rawValue)
        case .connectRefused(let id, let reason, let text):
            e.type = RS_EVENT_CONNECT_REFUSED
            e.session_id = eventText(id.description)
            e.reason = Int32(reason.rawValue)
            e.text = eventText(text)
        case .sessionStarted(let id, let mode, let sas):
            e.type = RS_EVENT_SESSION_STARTED
            e.session_id = eventText(id.description)
            e.mode = Int32(mode.rawValue)
            e.text = eventText(sas)
        case .peerVerified:
            e.type = RS_EVENT_PEER_VERIFIED
        case .screenInfo(let width, let height, let format):
            e.type = RS_EVENT_SCREEN_INFO
            e.width = UInt32(width)
            e.height = UInt32(height)
            e.format = rs_pixel_format(format)
        case .screenUpdated(let rects):
            e.type = RS_EVENT_SCREEN_UPDATED
            e.rects = eventRects(rects)
            e.rect_count = rects.count
        case .cursorShape(let hotX, let hotY, let width, let height, let rgba):
            e.type = RS_EVENT_CURSOR_SHAPE
            (e.hot_x, e.hot_y, e.width, e.height) = (Int32(hotX), Int32(hotY), UInt32(width), UInt32(height))
            e.data = eventBytes(rgba)
            e.data_length = rgba.count
        case .cursorPosition(let x, let y):
            e.type = RS_EVENT_CURSOR_POSITION
            (e.x, e.y) = (Int32(x), Int32(y))
        case .pointer(let x, let y, let buttons, let wheelX, let wheelY):
            e.type = RS_EVENT_POINTER
            (e.x, e.y, e.buttons, e.wheel_x, e.wheel_y) = (Int32(x), Int32(y), UInt32(buttons), Int32(wheelX), Int32(wheelY))
        case .key(let keysym, let down):
            e.type = RS_EVENT_KEY
            e.keysym = keysym
            e.down = down ? 1 : 0
        case .clipboard(let text):
            e.type = RS_EVENT_CLIPBOARD
            e.text = eventText(text)
        case .chat(let text):
            e.type = RS_EVENT_CHAT
            e.text = eventText(text)
        case .accessChanged(let mode):
            e.type = RS_EVENT_ACCESS_CHANGED
            e.mode = Int32(mode.rawValue)
        case .paused(let paused):
            e.type = RS_EVENT_PAUSED
            e.down = paused ? 1 : 0
        case .readyForFrame:
            e.type = RS_EVENT_READY_FOR_FRAME
        case .peerAway(let grace):
            e.type = RS_EVENT_PEER_AWAY
            e.grace_seconds = grace
        case .peerResumed:
            e.type = RS_EVENT_PEER_RESUMED
        case .resumed(let id):
            e.type = RS_EVENT_RESUMED
            e.session_id = eventText(id.description)
        case .sessionEnded(let reason, let text):
            e.type = RS_EVENT_SESSION_ENDED
            e.reason = Int32(reason.rawValue)
            e.text = eventText(text)
        case .closed(let reason, let text, let byPeer):
            fillClosed(&e, reason, text, byPeer)
        }
    }

    func fill(_ e: inout rs_event, with event: BrokerEvent) {
        switch event {
        case .hello(let role, let software):
            e.type = RS_EVENT_HELLO
            e.role = Int32(role.rawValue)
            e.text = eventText(software)
        case .joinRequested(let credential, let info):
            e.type = RS_EVENT_JOIN_REQUESTED
            switch credential {
            case .link(let link):
                e.join_method = eventText("link")
                e.text = eventText(link)
            case .connectionID(let code):
                e.join_method = eventText("connection-id")
                e.text = eventText(code)
            }
            e.name = eventText(info.name)
            e.machine = eventText(info.machineName)
            e.os = eventText(info.operatingSystem)
        case .authenticateRequested(let token):
            e.type = RS_EVENT_AUTHENTICATE_REQUESTED
            e.text = eventText(token)
        case .resumeRequested(let token):
            e.type = RS_EVENT_RESUME_REQUESTED
            e.data = eventBytes(token.bytes)
            e.data_length = token.bytes.count
        case .connectRequested(let id, let mode, let key):
            e.type = RS_EVENT_CONNECT_REQUESTED_BY_AGENT
            e.session_id = eventText(id.description)
            e.mode = Int32(mode.rawValue)
            e.data = eventBytes(key.bytes)
            e.data_length = key.bytes.count
        case .consentAnswered(let mode, let key):
            e.type = RS_EVENT_CONSENT_ANSWERED
            e.mode = Int32(mode?.rawValue ?? 0)
            if let key {
                e.data = eventBytes(key.bytes)
                e.data_length = key.bytes.count
            }
        case .record(let record):
            e.type = RS_EVENT_RECORD
            let payload = ControlMessage.record(record).frame.payload
            e.data = eventBytes(payload)
            e.data_length = payload.count
        case .sessionEndRequested(let reason, let text):
            e.type = RS_EVENT_SESSION_END_REQUESTED
            e.reason = Int32(reason.rawValue)
            e.text = eventText(text)
        case .closed(let reason, let text, let byPeer):
            fillClosed(&e, reason, text, byPeer)
        }
    }

    private func fill(_ e: inout rs_event, _ agent: AgentInfo) {
        e.name = eventText(agent.name)
        e.job_title = eventText(agent.jobTitle)
        e.organisation = eventText(agent.organisation)
    }

    private func fillClosed(_ e: inout rs_event, _ reason: CloseReason, _ text: String, _ byPeer: Bool) {
        e.type = RS_EVENT_CLOSED
        e.reason = Int32(reason.rawValue)
        e.text = eventText(text)
        e.by_peer = byPeer ? 1 : 0
    }
}
