import Testing
@testable import RemoteSupportCore

/// Byte vectors for the server side of RFB: handshakes of every version, every client message at every
/// split point, and every way a client can be refused.
@Suite("RFB server connection")
struct RFBServerConnectionTests {
    static let config = RFBServerConfiguration(width: 100, height: 50, pixelFormat: .bgrx8888, name: "test")

    // MARK: - Byte vectors

    static let serverVersion = Array("RFB 003.008\n".utf8)
    /// ServerInit for `configuration`: 100x50, 32bpp depth 24 little-endian true colour r<<16 g<<8 b, "test".
    static let serverInit: [UInt8] = [0, 100, 0, 50,
                                      32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
                                      0, 0, 0, 4] + Array("test".utf8)

    /// A 3.8 client: version, security type None, ClientInit shared.
    static let handshake38: [UInt8] = Array("RFB 003.008\n".utf8) + [1, 1]
    static let serverHandshake38: [UInt8] = serverVersion + [1, 1] + [0, 0, 0, 0] + serverInit

    /// One of each client message, as a client would send them.
    static let messages: [(bytes: [UInt8], message: RFBClientMessage)] = [
        // SetPixelFormat RGB565 little-endian (padding bytes are ignored: here they are not zero).
        ([0, 9, 9, 9, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 7, 7, 7], .setPixelFormat(.rgb565)),
        // SetEncodings ZRLE, CopyRect, Raw, and a pseudo-encoding (-239, cursor) we do not know.
        ([2, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x11],
         .setEncodings([.zrle, .copyRect, .raw, Encoding(rawValue: -239)])),
        ([3, 0, 0, 0, 0, 0, 0, 100, 0, 50], .updateRequest(incremental: false, rect: Rect(x: 0, y: 0, width: 100, height: 50))),
        ([3, 1, 0, 10, 0, 20, 0, 30, 0, 5], .updateRequest(incremental: true, rect: Rect(x: 10, y: 20, width: 30, height: 5))),
        ([4, 1, 0, 0, 0, 0, 0xFF, 0x0D], .key(down: true, keysym: 0xFF0D)),
        ([4, 0, 0, 0, 0, 0, 0, 0x61], .key(down: false, keysym: 0x61)),
        ([5, 0b101, 0, 99, 0, 49], .pointer(buttons: 5, x: 99, y: 49)),
        // "café" in ISO 8859-1.
        ([6, 0, 0, 0, 0, 0, 0, 4, 0x63, 0x61, 0x66, 0xE9], .clientCutText("café")),
        ([6, 0, 0, 0, 0, 0, 0, 0], .clientCutText("")),
        ([2, 0, 0, 0], .setEncodings([])),
    ]

    static var allClientBytes: [UInt8] { handshake38 + messages.flatMap(\.bytes) }
    static var splitPoints: ClosedRange<Int> { 0...allClientBytes.count }
    static var allEvents: [RFBServerConnection.Event] {
        [.handshakeComplete(shared: true)] + messages.map { .message($0.message) }
    }

    // MARK: - Helpers

    /// Feeds each chunk and polls until nil after each; returns the events and all output.
    static func run(_ chunks: [[UInt8]], configuration: RFBServerConfiguration = config)
        throws(CodecError) -> (events: [RFBServerConnection.Event], output: [UInt8], connection: RFBServerConnection)
    {
        var c = try RFBServerConnection(configuration: configuration)
        var events: [RFBServerConnection.Event] = []
        var output = c.takeOutput()
        for chunk in chunks {
            c.receive(chunk)
            while let e = try c.nextEvent() { events.append(e) }
            output += c.takeOutput()
        }
        return (events, output, c)
    }

    /// Runs `bytes` to the error it must cause; returns the error and what the server sent.
    static func failure(_ bytes: [UInt8], configuration: RFBServerConfiguration = config) -> (error: CodecError?, output: [UInt8], connection: RFBServerConnection) {
        var c = try! RFBServerConnection(configuration: configuration)
        c.receive(bytes)
        var error: CodecError?
        do {
            while try c.nextEvent() != nil {}
        } catch let e {
            error = e
        }
        return (error, c.takeOutput(), c)
    }

    static func reason(_ text: String) -> [UInt8] {
        let t = Array(text.utf8)
        return [UInt8(t.count >> 24), UInt8(t.count >> 16 & 0xFF), UInt8(t.count >> 8 & 0xFF), UInt8(t.count & 0xFF)] + t
    }

    // MARK: - Handshakes

    @Test("the server announces 3.8 before the client says anything")
    func announcesVersion() throws {
        var c = try RFBServerConnection(configuration: Self.config)
        #expect(c.takeOutput() == Self.serverVersion)
        #expect(try c.nextEvent() == nil)
        #expect(!c.hasOutput)
    }

    @Test("3.8 handshake: security types [None], SecurityResult OK, ServerInit")
    func handshake38() throws {
        let r = try Self.run([Self.handshake38])
        #expect(r.events == [.handshakeComplete(shared: true)])
        #expect(r.output == Self.serverHandshake38)
        #expect(r.connection.version == .v3_8)
        #expect(r.connection.isReady)
        #expect(r.connection.isShared)
    }

    @Test("3.7 handshake: no SecurityResult after None")
    func handshake37() throws {
        let r = try Self.run([Array("RFB 003.007\n".utf8) + [1, 0]])
        #expect(r.events == [.handshakeComplete(shared: false)])
        #expect(r.output == Self.serverVersion + [1, 1] + Self.serverInit)
        #expect(r.connection.version == .v3_7)
        #expect(!r.connection.isShared)
    }

    @Test("3.3 handshake: the server picks None as a U32, the client sends no choice")
    func handshake33() throws {
        let r = try Self.run([Array("RFB 003.003\n".utf8) + [1]])
        #expect(r.events == [.handshakeComplete(shared: true)])
        #expect(r.output == Self.serverVersion + [0, 0, 0, 1] + Self.serverInit)
        #expect(r.connection.version == .v3_3)
    }

    @Test("each handshake step's answer is queued as soon as its input is complete")
    func handshakeStepByStep() throws {
        var c = try RFBServerConnection(configuration: Self.config)
        _ = c.takeOutput()
        c.receive(Array("RFB 003.00".utf8))
        #expect(try c.nextEvent() == nil)
        #expect(!c.hasOutput)
        c.receive(Array("8\n".utf8))
        #expect(try c.nextEvent() == nil)
        #expect(c.takeOutput() == [1, 1])
        #expect(!c.isReady)
        c.receive([1])
        #expect(try c.nextEvent() == nil)
        #expect(c.takeOutput() == [0, 0, 0, 0])
        c.receive([0])
        #expect(try c.nextEvent() == .handshakeComplete(shared: false))
        #expect(c.takeOutput() == Self.serverInit)
        #expect(try c.nextEvent() == nil)
    }

    @Test("a long desktop name is sent whole, UTF-8")
    func serverInitName() throws {
        var config = Self.config
        config.name = "écran " + String(repeating: "x", count: 300)
        let r = try Self.run([Self.handshake38], configuration: config)
        let name = Array(config.name.utf8)
        #expect(r.output.suffix(name.count + 4) == ArraySlice(Self.reason(config.name)))
    }

    // MARK: - Messages

    @Test("every client message is parsed into its event", arguments: messages.indices)
    func eachMessage(index: Int) throws {
        let m = Self.messages[index]
        let r = try Self.run([Self.handshake38, m.bytes])
        #expect(r.events == [.handshakeComplete(shared: true), .message(m.message)])
        #expect(r.connection.bufferedByteCount == 0)
    }

    @Test("every message serialises to the bytes a client sends (padding as zero)", arguments: messages.indices)
    func serialise(index: Int) throws {
        let m = Self.messages[index]
        var expected = m.bytes
        if case .setPixelFormat = m.message { expected = [0, 0, 0, 0] + expected[4..<17] + [0, 0, 0] }
        #expect(m.message.bytes == expected)
        #expect(try RFBClientMessage.parse(expected[...])?.message == m.message)
        #expect(try RFBClientMessage.parse(expected[...])?.size == expected.count)
    }

    @Test("a partial message returns nil and consumes nothing", arguments: messages.indices)
    func partialMessage(index: Int) throws {
        let bytes = Self.messages[index].bytes
        for n in 0..<bytes.count {
            #expect(try RFBClientMessage.parse(bytes[0..<n]) == nil)
        }
        var c = try RFBServerConnection(configuration: Self.config)
        c.receive(Self.handshake38)
        _ = try c.nextEvent()
        c.receive(bytes.dropLast())
        #expect(try c.nextEvent() == nil)
        #expect(c.bufferedByteCount == bytes.count - 1)
        c.receive(bytes.suffix(1))
        #expect(try c.nextEvent() == .message(Self.messages[index].message))
        #expect(c.bufferedByteCount == 0)
    }

    @Test("the whole session split in two at every byte gives the same events and output",
          arguments: splitPoints)
    func everySplitPoint(split: Int) throws {
        let all = Self.allClientBytes
        let r = try Self.run([Array(all[..<split]), Array(all[split...])])
        #expect(r.events == Self.allEvents)
        #expect(r.output == Self.serverHandshake38)
        #expect(r.connection.bufferedByteCount == 0)
    }

    @Test("the whole session one byte at a time, and all at once")
    func byteAtATime() throws {
        let all = Self.allClientBytes
        let single = try Self.run(all.map { [$0] })
        #expect(single.events == Self.allEvents)
        #expect(single.output == Self.serverHandshake38)
        let whole = try Self.run([all])
        #expect(whole.events == Self.allEvents)
        #expect(whole.output == Self.serverHandshake38)
    }

    @Test("bytes from borrowed memory are copied in")
    func receiveFromPointer() throws {
        var c = try RFBServerConnection(configuration: Self.config)
        var bytes = Self.allClientBytes
        bytes.withUnsafeBytes { c.receive($0) }
        bytes = []  // the connection kept its own copy
        var events: [RFBServerConnection.Event] = []
        while let e = try c.nextEvent() { events.append(e) }
        #expect(events == Self.allEvents)
    }

    @Test("the connection remembers the client's pixel format and encodings")
    func remembersClientChoices() throws {
        let r = try Self.run([Self.allClientBytes])
        #expect(r.connection.clientPixelFormat == .rgb565)
        #expect(r.connection.encodings == [])
        let fresh = try Self.run([Self.handshake38])
        #expect(fresh.connection.clientPixelFormat == .bgrx8888)
        #expect(fresh.connection.encodings == [.raw])
    }

    @Test("update requests are clipped to the framebuffer",
          arguments: [
              (Rect(x: 90, y: 40, width: 20, height: 20), Rect(x: 90, y: 40, width: 10, height: 10)),
              (Rect(x: 0, y: 0, width: 65535, height: 65535), Rect(x: 0, y: 0, width: 100, height: 50)),
              (Rect(x: 100, y: 0, width: 5, height: 5), Rect(x: 100, y: 0, width: 0, height: 5)),
              (Rect(x: 65535, y: 65535, width: 65535, height: 65535), Rect(x: 65535, y: 65535, width: 0, height: 0)),
              (Rect(x: 3, y: 4, width: 0, height: 0), Rect(x: 3, y: 4, width: 0, height: 0)),
          ])
    func clipping(requested: Rect, delivered: Rect) throws {
        let request = RFBClientMessage.updateRequest(incremental: true, rect: requested).bytes
        let r = try Self.run([Self.handshake38 + request])
        #expect(r.events.last == .message(.updateRequest(incremental: true, rect: delivered)))
        if case .message(.updateRequest(_, let rect)) = r.events.last { #expect(rect.isEmpty == delivered.isEmpty) }
    }

    @Test("a SetEncodings list at the limit is accepted")
    func encodingsAtLimit() throws {
        var config = Self.config
        config.limits.maximumEncodings = 3
        let list: [Encoding] = [.zrle, .copyRect, .raw]
        let r = try Self.run([Self.handshake38 + RFBClientMessage.setEncodings(list).bytes], configuration: config)
        #expect(r.events.last == .message(.setEncodings(list)))
    }

    @Test("a ClientCutText at the limit is accepted; Latin-1 round trips")
    func cutTextAtLimit() throws {
        var config = Self.config
        config.limits.maximumCutTextBytes = 256
        let text = String(String.UnicodeScalarView((0...255).map { Unicode.Scalar(UInt8($0)) }))
        let r = try Self.run([Self.handshake38 + RFBClientMessage.clientCutText(text).bytes], configuration: config)
        #expect(r.events.last == .message(.clientCutText(text)))
    }

    // MARK: - Output

    @Test("updates, Bell and ServerCutText are queued in order after the handshake")
    func serverMessages() throws {
        var c = try Self.run([Self.handshake38]).connection
        let update: [UInt8] = [0, 0, 0, 0]
        try c.queueFramebufferUpdate(update)
        try c.queueBell()
        try c.queueServerCutText("né→")
        #expect(c.outputByteCount == 4 + 1 + 11)
        #expect(c.takeOutput() == update + [2] + [3, 0, 0, 0, 0, 0, 0, 3, 0x6E, 0xE9, 0x3F])
        #expect(!c.hasOutput)
        #expect(c.takeOutput() == [])
    }

    @Test("a real encoded update is passed through unchanged")
    func encodedUpdate() throws {
        var c = try Self.run([Self.handshake38]).connection
        let encoder = try UpdateEncoder(width: 100, height: 50, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let frame = Scene.desktop(width: 100, height: 50, seed: 5)
        let update = try encode(encoder, frame, incremental: false)
        try c.queueFramebufferUpdate(update.message)
        #expect(c.takeOutput() == update.message)
    }

    @Test("nothing can be queued before the handshake")
    func queueBeforeHandshake() throws {
        var c = try RFBServerConnection(configuration: Self.config)
        #expect(throws: CodecError(.notReady)) { try c.queueFramebufferUpdate([0, 0, 0, 0]) }
        #expect(throws: CodecError(.notReady)) { try c.queueBell() }
        #expect(throws: CodecError(.notReady)) { try c.queueServerCutText("x") }
        #expect(c.takeOutput() == Self.serverVersion)
    }

    @Test("only FramebufferUpdate messages go through queueFramebufferUpdate", arguments: [[], [0, 0, 0], [2, 0, 0, 0]] as [[UInt8]])
    func queueNotAnUpdate(message: [UInt8]) throws {
        var c = try Self.run([Self.handshake38]).connection
        #expect(throws: CodecError(.invalidArgument)) { try c.queueFramebufferUpdate(message) }
        #expect(!c.hasOutput)
    }

    static let invalidConfigurations: [String: RFBServerConfiguration] = [
        "zero width": RFBServerConfiguration(width: 0, height: 10),
        "16385 high": RFBServerConfiguration(width: 10, height: 16385),
        "24 bits per pixel": RFBServerConfiguration(width: 10, height: 10, pixelFormat: PixelFormat(
            bitsPerPixel: 24, depth: 24, bigEndian: false, redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8, blueShift: 0)),
        "4097-byte name": RFBServerConfiguration(width: 10, height: 10, name: String(repeating: "n", count: 4097)),
    ]

    @Test("invalid configurations are refused", arguments: invalidConfigurations.keys.sorted())
    func invalidConfiguration(name: String) {
        #expect(throws: CodecError(.invalidArgument)) { try RFBServerConnection(configuration: Self.invalidConfigurations[name]!) }
    }

    // MARK: - Errors

    @Test("unsupported versions are refused with a reason the client can read",
          arguments: ["RFB 004.000\n", "RFB 003.889\n", "RFB 003.005\n", "RFB 003.006\n", "RFB 003.009\n", "RFB 002.000\n"])
    func unsupportedVersion(version: String) {
        let r = Self.failure(Array(version.utf8) + [1, 1])
        #expect(r.error == CodecError(.unsupportedVersion))
        let parsed = RFBProtocolVersion(bytes: Array(version.utf8))!
        // 3.7 and later read a U8 count of zero; older clients a U32 security type of zero.
        let head: [UInt8] = parsed >= .v3_7 ? [0] : [0, 0, 0, 0]
        #expect(r.output == Self.serverVersion + head + Self.reason(r.error!.reason))
        #expect(r.error!.reason.contains("RFB \(parsed)"))
        #expect(r.connection.isClosed)
        #expect(r.connection.version == nil)
    }

    @Test("a version message of the wrong form is refused",
          arguments: ["GET / HTTP/1.", "RFB 03.008\n\n", "RFB 003.008\r", "rfb 003.008\n", "RFB 003,008\n", "RFB 0x3.008\n", "\0\0\0\0\0\0\0\0\0\0\0\0"])
    func malformedVersion(version: String) {
        let r = Self.failure(Array(version.utf8))
        #expect(r.error == CodecError(.unsupportedVersion))
        #expect(r.error!.reason.contains("not of the form"))
        #expect(r.output == Self.serverVersion + [0, 0, 0, 0] + Self.reason(r.error!.reason))
    }

    @Test("a security type other than None: 3.8 gets a failed SecurityResult with the reason",
          arguments: [0, 2, 16, 255] as [UInt8])
    func badSecurityType38(type: UInt8) {
        let r = Self.failure(Array("RFB 003.008\n".utf8) + [type, 1])
        #expect(r.error == CodecError(.unsupportedSecurityType))
        #expect(r.output == Self.serverVersion + [1, 1] + [0, 0, 0, 1] + Self.reason(r.error!.reason))
    }

    @Test("a security type other than None: 3.7 is just closed")
    func badSecurityType37() {
        let r = Self.failure(Array("RFB 003.007\n".utf8) + [2])
        #expect(r.error == CodecError(.unsupportedSecurityType))
        #expect(r.output == Self.serverVersion + [1, 1])
    }

    @Test("unknown client message types are rejected", arguments: [1, 7, 8, 127, 150, 250, 255] as [UInt8])
    func unknownMessageType(type: UInt8) {
        let r = Self.failure(Self.handshake38 + [type, 0, 0, 0, 0, 0, 0, 0])
        #expect(r.error == CodecError(.unknownMessageType))
        #expect(r.error!.reason.contains("\(type)"))
    }

    @Test("a SetEncodings count over the limit is rejected from its header alone")
    func tooManyEncodings() {
        let r = Self.failure(Self.handshake38 + [2, 0, 0x04, 0x01])  // 1025 encodings, none sent
        #expect(r.error == CodecError(.limitExceeded))
        #expect(r.error!.reason.contains("1025"))
        var config = Self.config
        config.limits.maximumEncodings = 3
        #expect(Self.failure(Self.handshake38 + [2, 0, 0, 4], configuration: config).error == CodecError(.limitExceeded))
    }

    @Test("a ClientCutText over the limit is rejected from its header alone",
          arguments: [
              ([6, 0, 0, 0, 0, 0x10, 0, 1], "1048577"),        // 1 MiB + 1
              ([6, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], "extended"),  // -1: extended clipboard
              ([6, 0, 0, 0, 0x80, 0, 0, 0], "extended"),
          ] as [([UInt8], String)])
    func cutTextTooLong(header: [UInt8], reasonContains: String) {
        let r = Self.failure(Self.handshake38 + header)
        #expect(r.error == CodecError(.limitExceeded))
        #expect(r.error!.reason.contains(reasonContains))
    }

    @Test("SetPixelFormat with a format the codec cannot serve is rejected",
          arguments: [
              // Colour map (true-colour flag 0).
              ([8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "colour-map"),
              // 24 bits per pixel.
              ([24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], "bits per pixel"),
              // Red max 0.
              ([32, 24, 0, 1, 0, 0, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], "red max"),
              // Green max 200 is not 2^n - 1.
              ([32, 24, 0, 1, 0, 255, 0, 200, 0, 255, 16, 8, 0, 0, 0, 0], "green max"),
              // Blue channel shifted out of the pixel.
              ([16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 12, 0, 0, 0], "blue channel"),
              // Depth 0.
              ([32, 0, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], "depth"),
          ] as [([UInt8], String)])
    func badPixelFormat(format: [UInt8], reasonContains: String) {
        let r = Self.failure(Self.handshake38 + [0, 0, 0, 0] + format)
        #expect(r.error == CodecError(.unsupportedPixelFormat))
        #expect(r.error!.reason.contains(reasonContains))
        #expect(r.connection.clientPixelFormat == .bgrx8888)
    }

    @Test("after an error the connection stays closed: no events, input ignored, nothing can be queued")
    func closedStaysClosed() throws {
        var r = Self.failure(Self.handshake38 + [200])
        #expect(r.connection.isClosed)
        #expect(r.connection.error == CodecError(.unknownMessageType))
        #expect(!r.connection.isReady)
        r.connection.receive(RFBClientMessage.key(down: true, keysym: 1).bytes)
        #expect(try r.connection.nextEvent() == nil)
        #expect(r.connection.bufferedByteCount == 0)
        #expect(throws: CodecError(.notReady)) { try r.connection.queueBell() }
        #expect(!r.connection.hasOutput)
    }

    @Test("messages before the bad one are delivered; the error comes when the bad one is reached")
    func errorAfterGoodMessages() throws {
        var c = try RFBServerConnection(configuration: Self.config)
        c.receive(Self.handshake38 + RFBClientMessage.key(down: true, keysym: 0x41).bytes + [99])
        #expect(try c.nextEvent() == .handshakeComplete(shared: true))
        #expect(try c.nextEvent() == .message(.key(down: true, keysym: 0x41)))
        #expect(throws: CodecError(.unknownMessageType)) { try c.nextEvent() }
        #expect(try c.nextEvent() == nil)
    }

    @Test("errors print their code and reason")
    func errorDescription() {
        let e = CodecError(.unknownMessageType, "client message type 9 is not one this server implements")
        #expect("\(e)" == "unknown message type: client message type 9 is not one this server implements")
        #expect("\(CodecError(.init(rawValue: 99)))" == "error 99")
    }

    // MARK: - With the codec

    @Test("a session: handshake, SetPixelFormat, SetEncodings, requests; the updates decode to the frame")
    func sessionWithCodec() throws {
        let frame = Scene.desktop(width: 100, height: 50, seed: 9)
        var c = try RFBServerConnection(configuration: Self.config)
        c.receive(Self.handshake38 + RFBClientMessage.setPixelFormat(.rgb565).bytes
                  + RFBClientMessage.setEncodings([.zrle, .copyRect]).bytes
                  + RFBClientMessage.updateRequest(incremental: false, rect: Rect(x: 0, y: 0, width: 1000, height: 1000)).bytes
                  + RFBClientMessage.updateRequest(incremental: true, rect: Rect(x: 0, y: 0, width: 100, height: 50)).bytes)
        let encoder = try UpdateEncoder(width: 100, height: 50, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        var updates: [EncodedUpdate] = []
        while let event = try c.nextEvent() {
            switch event {
            case .handshakeComplete: break
            case .message(.setPixelFormat(let f)): try encoder.setClientFormat(f)
            case .message(.setEncodings(let e)): encoder.setEncodings(e)
            case .message(.updateRequest(let incremental, let rect)):
                let update = try encode(encoder, frame, incremental: incremental, region: rect)
                if !update.isEmpty || !incremental { try c.queueFramebufferUpdate(update.message) }
                updates.append(update)
            default: Issue.record("unexpected \(event)")
            }
        }
        #expect(updates.count == 2)
        #expect(updates[1].isEmpty)
        let out = c.takeOutput()
        #expect(Array(out.prefix(Self.serverHandshake38.count)) == Self.serverHandshake38)
        let decoder = try UpdateDecoder(width: 100, height: 50, format: .rgb565)
        try decoder.apply(Array(out.dropFirst(Self.serverHandshake38.count)))
        #expect(decoder.framebuffer.bytes == Scene.expected(frame, as: .rgb565).bytes)
    }
}
