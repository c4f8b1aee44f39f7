// libFuzzer target `agent`: an AgentConnection after `authenticate`, fed a broker's bytes in steps with
// ticks, connecting to sessions of its lobby, viewing and sending input as a host would (the input
// format: FuzzStep in ProtocolFuzz.swift). Never a crash; an error ends in exactly one `.closed`; what
// it sends is valid.

public func fuzzAgent(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let script = FuzzScript(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    AgentDriver(flags: script.flags).run(script)
    return 0
}
