import Foundation
import Testing
@testable import RemoteSupportCore

/// Findings of the protocol fuzz targets (Tests/Fuzz: frame, enduser, agent, broker), one test each; the
/// inputs are in Tests/Fuzz/Corpus/TARGET/, where every fuzz run replays them.
@Suite struct FuzzFindingTests {
    /// agent (Corpus/agent/slow-oom-two-largest-screens): an end user's screen-info made the agent
    /// build the new screen's decoder while it still held the old one, so a screen-info of the largest
    /// size (16384 x 16384, 1 GiB) after another held 2 GiB at once, over libFuzzer's limit. The old
    /// screen is dropped first now: at most one screen's pixels at a time. Measured in a child process
    /// of its own (its peak resident size is not shared with other tests), at 8192 x 8192 (256 MiB a
    /// screen).
    @Test func aNewScreenReplacesTheOldOneWithoutHoldingBoth() async {
        await #expect(processExitsWith: .success) {
            func peakMiB() -> Int {
                var usage = rusage()
                #if os(Linux)
                getrusage(RUSAGE_SELF.rawValue, &usage)
                #else
                getrusage(RUSAGE_SELF, &usage)
                #endif
                #if os(macOS)
                return usage.ru_maxrss >> 20    // bytes
                #else
                return usage.ru_maxrss >> 10    // kilobytes
                #endif
            }
            let agent = AgentConnection(now: 0)
            let side: UInt16 = 8192
            let before = peakMiB()
            for generation: UInt32 in 1...3 {
                try agent.handle(session: .screenInfo(generation: generation, width: side, height: side, format: .bgrx8888))
            }
            let screen = try #require(agent.screen)
            guard screen.width == Int(side), peakMiB() - before < 384 else { exit(1) }
        }
    }
}
