import Foundation
import RemoteSupportCore

/// How the end user answers an agent's request: always the same (`--accept control|view|decline`, for
/// unattended demos and tests), or by asking at the terminal.
enum ConsentPolicy: String, Sendable {
    case ask, control, view, decline

    /// The answer for `agent` asking for `mode`: a mode to grant, or nil to decline.
    func answer(_ agent: AgentInfo, asking mode: AccessMode, log: EventLog) async -> AccessMode? {
        switch self {
        case .control: return mode
        case .view: return .viewOnly
        case .decline: return nil
        case .ask:
            let who = [agent.name, agent.jobTitle, agent.organisation].filter { !$0.isEmpty }.joined(separator: ", ")
            let wants = mode == .control ? "see and control" : "see"
            log.say("\(who) wants to \(wants) this computer.")
            FileHandle.standardError.write(Data("Allow? [c]ontrol, [v]iew only, [n]o: ".utf8))
            let line = await Task.detached { readLine() }.value?.lowercased() ?? "n"
            switch line.first {
            case "c": return mode == .control ? .control : .viewOnly
            case "v": return .viewOnly
            default: return nil
            }
        }
    }
}
