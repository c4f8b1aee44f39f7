import CRemoteSupport
import RemoteSupportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an `rs_conn *` points to: one role's state machine, its error slot, the output handed out last
/// (kept until the next call) and the memory of the event polled last (kept until the next poll,
/// receive or free).
final class ConnectionHandle {
    enum Machine {
        case endUser(EndUserConnection)
        case agent(AgentConnection)
        case broker(BrokerConnection)
    }
    let machine: Machine
    let error = ErrorSlot()
    private var output: UnsafeMutableRawPointer?
    private var outputCapacity = 0
    private var eventMemory: [UnsafeMutableRawPointer] = []
    private var sas: UnsafeMutablePointer<CChar>?

    init(_ machine: Machine) { self.machine = machine }

    deinit {
        output?.deallocate()
        releaseEventMemory()
        free(sas)
    }

    static func from(_ pointer: OpaquePointer?) -> ConnectionHandle? {
        pointer.map { Unmanaged<ConnectionHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    var role: Int32 {
        switch machine {
        case .endUser: RS_ROLE_END_USER
        case .agent: RS_ROLE_AGENT
        case .broker: RS_ROLE_BROKER
        }
    }

    var peer: PeerConnection? {
        switch machine {
        case .endUser(let e): e
        case .agent(let a): a
        case .broker: nil
        }
    }

    func endUser(_ what: String) throws(CallError) -> EndUserConnection {
        guard case .endUser(let e) = machine else { throw CallError(RS_ERR_STATE, "\(what) is for an end user's connection") }
        return e
    }

    func agent(_ what: String) throws(CallError) -> AgentConnection {
        guard case .agent(let a) = machine else { throw CallError(RS_ERR_STATE, "\(what) is for an agent's connection") }
        return a
    }

    func broker(_ what: String) throws(CallError) -> BrokerConnection {
        guard case .broker(let b) = machine else { throw CallError(RS_ERR_STATE, "\(what) is for a broker's connection") }
        return b
    }

    func peerConnection(_ what: String) throws(CallError) -> PeerConnection {
        guard let p = peer else { throw CallError(RS_ERR_STATE, "\(what) is for an end user's or an agent's connection") }
        return p
    }

    /// Copies the output into memory the handle owns until the next call.
    func keepOutput(_ bytes: [UInt8]) -> (UnsafePointer<UInt8>?, Int) {
        guard !bytes.isEmpty else { return (nil, 0) }
        if bytes.count > outputCapacity {
            output?.deallocate()
            outputCapacity = max(bytes.count, 4096)
            output = .allocate(byteCount: outputCapacity, alignment: 16)
        }
        bytes.withUnsafeBytes { output!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return (UnsafePointer(output!.assumingMemoryBound(to: UInt8.self)), bytes.count)
    }

    func keepSAS(_ text: String) -> UnsafePointer<CChar> {
        free(sas)
        sas = duplicate(text)
        return UnsafePointer(sas!)
    }

    // MARK: Event memory

    func releaseEventMemory() {
        for p in eventMemory { free(p) }
        eventMemory.removeAll(keepingCapacity: true)
    }

    /// A C string that lives until the next poll, receive or free.
    func eventText(_ text: String) -> UnsafePointer<CChar> {
        let p = duplicate(text)
        eventMemory.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    func eventBytes(_ bytes: [UInt8]) -> UnsafePointer<UInt8>? {
        guard !bytes.isEmpty, let p = malloc(bytes.count) else { return nil }
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        eventMemory.append(p)
        return UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
    }

    func eventRects(_ rects: [Rect]) -> UnsafePointer<rs_rect>? {
        guard !rects.isEmpty, let p = malloc(rects.count * MemoryLayout<rs_rect>.stride) else { return nil }
        let typed = p.bindMemory(to: rs_rect.self, capacity: rects.count)
        for (i, r) in rects.enumerated() {
            typed[i] = rs_rect(x: UInt32(r.x), y: UInt32(r.y), width: UInt32(r.width), height: UInt32(r.height))
        }
        eventMemory.append(p)
        return UnsafePointer(typed)
    }
}
