import Foundation

/// What happened, for people (stderr) and for scripts (`--events`: one JSON object per line on stdout,
/// e.g. `{"event":"screen-updated","rects":3}`). Used from the network's tasks and the window's thread:
/// each line is one write.
final class EventLog: Sendable {
    let jsonLines: Bool

    init(jsonLines: Bool) { self.jsonLines = jsonLines }

    func say(_ text: String) {
        FileHandle.standardError.write(Data("rs-viewer: \(text)\n".utf8))
    }

    func event(_ name: String, _ fields: [String: any Sendable] = [:]) {
        guard jsonLines else { return }
        var object: [String: Any] = ["event": name]
        for (k, v) in fields { object[k] = v }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
