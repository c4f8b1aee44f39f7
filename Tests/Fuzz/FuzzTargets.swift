import Foundation

/// One fuzzing binary holds every target (compiling the core with the sanitizers once, not once per
/// target, saves most of the fuzz step's time); `RS_FUZZ_TARGET` picks the one libFuzzer calls.
private let fuzzTarget: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = {
    let name = ProcessInfo.processInfo.environment["RS_FUZZ_TARGET"] ?? ""
    switch name {
    case "decoder": return fuzzDecoder
    case "ppm": return fuzzPPM
    case "rfb": return fuzzRFB
    case "link": return fuzzLinks
    case "frame": return fuzzFrames
    case "enduser": return fuzzEndUser
    case "agent": return fuzzAgent
    case "broker": return fuzzBroker
    case "api": return fuzzAPI
    case "websocket": return fuzzWebSocket
    default:
        FileHandle.standardError.write(Data("RS_FUZZ_TARGET must name a fuzz target (decoder, ppm, rfb, link, frame, enduser, agent, broker, api, websocket), not \"\(name)\"\n".utf8))
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTarget(data, size)
}
