import Foundation
import RemoteSupportCore

/// Which waiting session the viewer connects to (or `list`: none, print the lobby and leave).
enum SessionChoice: Sendable, Equatable {
    case list
    /// `--session <id>`
    case id(SessionID)
    /// `--wait-for <end user's name>`: the first entry with that name, waiting for it if needed.
    case named(String)
    /// `--first`: the session waiting longest now, or the next to come.
    case first

    /// Whether `entry` is the one asked for, as entries arrive one by one. `first` takes any entry only
    /// once the lobby's first snapshot is in (`pick(from:)` chooses among that).
    func matches(_ entry: LobbyEntry) -> Bool {
        switch self {
        case .list: false
        case .id(let id): entry.sessionID == id
        case .named(let name): entry.endUser.name == name
        case .first: true
        }
    }

    /// The entry to connect to among those waiting now: for `first`, the one that waited longest.
    func pick(from entries: [LobbyEntry]) -> LobbyEntry? {
        switch self {
        case .list: nil
        case .first: entries.min { $0.joinedAt < $1.joinedAt }
        default: entries.first(where: matches)
        }
    }
}

extension LobbyEntry {
    /// Whole seconds since the end user joined.
    var waitingSeconds: Int { max(0, Int(Date().timeIntervalSince1970 * 1000 - Double(joinedAt)) / 1000) }

    /// How long the session has waited, e.g. "42 s", "3 min", "2 h 5 min".
    var waitingText: String {
        let s = waitingSeconds
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
