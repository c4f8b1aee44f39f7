import Foundation
import Testing
@testable import RemoteSupportCore

/// The test vectors of PROTOCOL.md ("Test vectors"): frames and records built from fixed inputs, checked
/// byte for byte. A change here is a wire change: update PROTOCOL.md with it (and think twice).
/// The crypto vectors were also checked against an independent implementation (Python `cryptography`).
@Suite("Protocol: test vectors (PROTOCOL.md)")
struct TestVectorTests {
    static let sessionID = SessionID("00112233-4455-6677-8899-aabbccddeeff")!
    /// a0 a1 a2 ... bf
    static let resumeToken = try! ResumeToken((0..<32).map { UInt8(0xA0 + $0) })
    static let endUserPrivate = [UInt8](repeating: 0x01, count: 32)
    static let agentPrivate = [UInt8](repeating: 0x02, count: 32)
    static let agentInfo = AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd")
    static let endUserInfo = EndUserInfo(name: "Bob", machineName: "bob-pc", operatingSystem: "Linux")

    static let endUserPublic = "a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209"
    static let agentPublic = "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59"

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Checks the frame's bytes, and that they parse back into the same message.
    func check(_ message: ControlMessage, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = message.frame.bytes
        #expect(Self.hex(bytes) == expected, sourceLocation: sourceLocation)
        var decoder = FrameDecoder()
        decoder.receive(bytes)
        let frame = try #require(try decoder.next(), sourceLocation: sourceLocation)
        #expect(try ControlMessage(frame: frame) == message, sourceLocation: sourceLocation)
        #expect(decoder.bufferedCount == 0, sourceLocation: sourceLocation)
    }

    // MARK: Control frames

    @Test func hello() throws {
        try check(.hello(Hello(role: .endUser, software: "test")),
                  "0000001d0100525355500001000101000401000000000000000001000474657374")
    }

    @Test func join() throws {
        try check(.join(.connectionID("123456"), Self.endUserInfo),
                  "0000001f10000200063132333435360003426f620006626f622d706300054c696e7578")
    }

    @Test func joined() throws {
        try check(.joined(Self.sessionID, Self.resumeToken, graceSeconds: 60, waitSeconds: 600),
                  "0000003a110000112233445566778899aabbccddeeff"
                  + "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000003c00000258")
    }

    @Test func connectRequest() throws {
        let agent = try EphemeralKey(rawRepresentation: Self.agentPrivate)
        try check(.connectRequest(Self.agentInfo, mode: .control, agentKey: agent.share),
                  "000000461200000b416c696365204167656e740007537570706f7274000b4578616d706c65204c746402"
                  + Self.agentPublic)
    }

    @Test func consent() throws {
        let endUser = try EphemeralKey(rawRepresentation: Self.endUserPrivate)
        try check(.consent(.control, endUserKey: endUser.share), "00000023130002" + Self.endUserPublic)
        try check(.consent(nil, endUserKey: nil), "00000003130000")
    }

    @Test func ping() throws {
        try check(.ping(0x0102030405060708), "0000000a02000102030405060708")
        try check(.pong(0x0102030405060708), "0000000a03000102030405060708")
    }

    @Test func close() throws {
        try check(.close(.endedByEndUser, "bye"), "00000009040000010003627965")
    }

    // MARK: Session keys and records

    @Test func keyAgreement() throws {
        let endUser = try EphemeralKey(rawRepresentation: Self.endUserPrivate)
        let agent = try EphemeralKey(rawRepresentation: Self.agentPrivate)
        #expect(Self.hex(endUser.share.bytes) == Self.endUserPublic)
        #expect(Self.hex(agent.share.bytes) == Self.agentPublic)
        let a = try SessionKeys(own: endUser, ownRole: .endUser, peer: agent.share, sessionID: Self.sessionID)
        let b = try SessionKeys(own: agent, ownRole: .agent, peer: endUser.share, sessionID: Self.sessionID)
        for keys in [a, b] {
            #expect(Self.hex(keys.endUserToAgent.withUnsafeBytes { Array($0) })
                    == "7becf42ab38e2bb9e89813c1ea9856718f509f84a0849f198360f010a488fc02")
            #expect(Self.hex(keys.agentToEndUser.withUnsafeBytes { Array($0) })
                    == "7da2c861a4978f48675da04dd27709d4034f68c136231809c65dbccf8fc593a4")
            #expect(keys.shortAuthenticationString == "179 139")
        }
    }

    static let endUserStart = "0000006b3000000000000000000000000000"
        + "8e1f9713d942d0c7040cb3234af0caeab2d7fba7347a14b9482b6f5907150d3941918ce9b0041a666833aa4f83bfd804"
        + "d631cc08b2fb3a441ad54a8e59fcd2b1ab277b7ff9120b8e20df8339345e3b0e0176f520fa68eaad4ba0d40959"
    static let agentStart = "0000006b3000000000000000000000000000"
        + "566d8658be96025f733276694009069f95931c438fc7aa6ebba345c410f95f37b1babf56cc5b74574a6db2b34117aa41"
        + "d3723dd07dbf2cabef998161cdc59068cf4c4a9ac48c3fdaa7a539231602532bed9110b345f97d7ae8d6092427"
    static let agentKeyRecord = "0000002a3000000000000000000000000001"
        + "c6e8afddce4f6e6fd77620f34682618fa2322423c7afaac53496896f"

    @Test func startAndKeyRecords() throws {
        let endUser = try EphemeralKey(rawRepresentation: Self.endUserPrivate)
        let agent = try EphemeralKey(rawRepresentation: Self.agentPrivate)
        var e = SecureChannel(sessionID: Self.sessionID,
                              keys: try SessionKeys(own: endUser, ownRole: .endUser, peer: agent.share, sessionID: Self.sessionID),
                              role: .endUser, options: ConnectionOptions())
        var a = SecureChannel(sessionID: Self.sessionID,
                              keys: try SessionKeys(own: agent, ownRole: .agent, peer: endUser.share, sessionID: Self.sessionID),
                              role: .agent, options: ConnectionOptions())

        // The plaintexts, before the fragment byte.
        #expect(Self.hex(SessionMessage.start(version: 1, features: .all, senderKey: endUser.share, receiverKey: agent.share).bytes)
                == "01000001000000000000000f" + Self.endUserPublic + Self.agentPublic)
        #expect(Self.hex(SessionMessage.key(seq: 1, keysym: 0x61, down: true).bytes) == "0900000000010000006101")

        let endUserFrames = try sealed(&e)
        let agentFrames = try sealed(&a)
        #expect(endUserFrames.map { Self.hex($0.bytes) } == [Self.endUserStart])
        #expect(agentFrames.map { Self.hex($0.bytes) } == [Self.agentStart])

        a.queue(ReliablePayload.key(keysym: 0x61, down: true))
        let keyFrames = try sealed(&a)
        #expect(keyFrames.map { Self.hex($0.bytes) } == [Self.agentKeyRecord])

        // Each side opens the other's records.
        #expect(try e.open(record(agentFrames[0])) == .start(version: 1, features: .all, senderKey: agent.share, receiverKey: endUser.share))
        #expect(try e.open(record(keyFrames[0])) == .key(seq: 1, keysym: 0x61, down: true))
        #expect(try a.open(record(endUserFrames[0])) == .start(version: 1, features: .all, senderKey: endUser.share, receiverKey: agent.share))
    }

    /// The record frames a channel seals for what it has pending.
    func sealed(_ channel: inout SecureChannel) throws -> [Frame] {
        var link = HopLink(role: .endUser, expectedPeers: [.broker], options: ConnectionOptions(), now: 0)
        _ = link.takeOutput()  // the hello
        try channel.flush(into: &link)
        var decoder = FrameDecoder()
        decoder.receive(link.takeOutput())
        var frames: [Frame] = []
        while let f = try decoder.next() { frames.append(f) }
        return frames
    }

    func record(_ frame: Frame) throws -> SessionRecord {
        guard case .record(let r)? = try ControlMessage(frame: frame) else { throw ProtocolError(.protocolError, "not a record") }
        return r
    }
}
