// libFuzzer target `broker`: a BrokerConnection fed an end user's or an agent's bytes in steps with
// ticks, the host accepting, refusing and relaying as a broker would (the input format: FuzzStep in
// ProtocolFuzz.swift). Never a crash; an error ends in exactly one `.closed`; what it sends is valid.

public func fuzzBroker(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let script = FuzzScript(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    BrokerDriver(flags: script.flags).run(script)
    return 0
}
