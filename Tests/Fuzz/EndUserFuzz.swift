// libFuzzer target `enduser`: an EndUserConnection after `join`, fed a broker's bytes in steps with
// ticks, consenting and sharing a tiny screen as a host would (the input format: FuzzStep in
// ProtocolFuzz.swift). Never a crash; an error ends in exactly one `.closed`; what it sends is valid.

public func fuzzEndUser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let script = FuzzScript(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    EndUserDriver(flags: script.flags).run(script)
    return 0
}
