/// The broker's config file: lines of `key = value` (keys are the long option names without dashes in
/// front), `#` comments, blank lines, values optionally in double quotes. A malformed line is an error
/// naming its number; the last value of a repeated key wins.
public enum ConfigFile {
    /// Longest file read (a config file is a few hundred bytes).
    public static let maximumBytes = 1 << 20

    public static func parse(_ text: String) throws(ConfigurationError) -> [String: String] {
        guard text.utf8.count <= maximumBytes else { throw ConfigurationError("the config file is over \(maximumBytes) bytes") }
        var values: [String: String] = [:]
        // Any line break: "\r\n" is one Character in Swift, so splitting at "\n" alone would leave a CRLF file
        // in one line (a fuzzing finding).
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: " \t")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigurationError("line \(number + 1): expected `key = value`")
            }
            let key = line[..<eq].trimmingCharacters(in: " \t")
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ConfigurationError("line \(number + 1): a key is an option name like `port` or `database-url`")
            }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            values[key] = value
        }
        return values
    }
}

extension StringProtocol {
    /// Without the given characters at either end (no Foundation needed).
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}

/// A configuration the broker cannot start with: the message names the flag and what to do.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
