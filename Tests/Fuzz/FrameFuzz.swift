// libFuzzer target `frame`: FrameDecoder over a stream fed in pieces the input chooses, every frame's
// control message and session-message parse with a re-encoding round trip (FrameFuzz in ProtocolFuzz.swift).

public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FrameFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
