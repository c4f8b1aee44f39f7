import Foundation

/// How a free-text field typed by a person (a name, a job title, a ticket number) is checked before it is
/// stored or shown: surrounding whitespace trimmed, Unicode NFC, a length cap in characters and in UTF-8
/// bytes, and no control or invisible formatting characters (CR/LF would let a name inject e-mail headers;
/// bidi overrides let a name pretend to be something else on screen).
public struct TextRules: Sendable {
    /// The field's name, for error messages.
    public var field: String
    public var maxCharacters: Int
    public var allowsEmpty: Bool
    /// Extra check on each character (e.g. ticket numbers: letters, digits and a little punctuation).
    public var allowed: @Sendable (Character) -> Bool

    public init(field: String, maxCharacters: Int, allowsEmpty: Bool = false,
                allowed: @escaping @Sendable (Character) -> Bool = { _ in true }) {
        self.field = field
        self.maxCharacters = maxCharacters
        self.allowsEmpty = allowsEmpty
        self.allowed = allowed
    }

    /// The cleaned value, or `.invalidField` saying what is wrong.
    public func validate(_ raw: String) throws(DomainError) -> String {
        // Cap the work before normalising: hostile input may be megabytes long.
        guard raw.utf8.count <= maxCharacters * 4 + 64 else {
            throw DomainError(.invalidField, "\(field) is longer than \(maxCharacters) characters")
        }
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        if value.isEmpty {
            if allowsEmpty { return "" }
            throw DomainError(.invalidField, "\(field) is empty")
        }
        guard value.count <= maxCharacters else {
            throw DomainError(.invalidField, "\(field) is longer than \(maxCharacters) characters")
        }
        for scalar in value.unicodeScalars where Self.isForbidden(scalar) {
            throw DomainError(.invalidField,
                              "\(field) contains a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))")
        }
        for character in value where !allowed(character) {
            throw DomainError(.invalidField, "\(field) contains a character that is not allowed: \(character.debugDescription)")
        }
        return value
    }

    /// `text` as one line of at most `max` characters, for values that are shown or logged whatever they
    /// hold (e-mail text, audit entries): forbidden characters (CR, LF, tab, NUL, bidi overrides...)
    /// become spaces instead of being refused.
    public static func oneLine(_ text: String, max: Int) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            out.unicodeScalars.append(isForbidden(scalar) ? " " : scalar)
        }
        return String(out.trimmingCharacters(in: .whitespaces).prefix(max))
    }

    /// Control characters (C0, DEL, C1), line and paragraph separators, bidi controls, and unassigned /
    /// private-use / surrogate code points. Plain spaces are fine; tabs are not (one-line fields).
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            // Zero-width joiner (U+200D) is a format character that emoji and some scripts need.
            return scalar.value != 0x200D
        default:
            return false
        }
    }
}

extension TextRules {
    /// An agent's display name, shown to end users when the agent asks to connect.
    public static let displayName = TextRules(field: "name", maxCharacters: 100)
    /// An agent's job title (may be empty).
    public static let jobTitle = TextRules(field: "job title", maxCharacters: 100, allowsEmpty: true)
    /// An end user's name as the agent or the end user typed it.
    public static let endUserName = TextRules(field: "end-user name", maxCharacters: 100)
    /// A helpdesk ticket number: letters, digits and `- _ . / # :` (what ticket systems print).
    public static let ticket = TextRules(field: "ticket", maxCharacters: 64) { character in
        character.isLetter || character.isNumber || "-_./#: ".contains(character)
    }
    /// An end user's machine name or OS description, as their client reports it.
    public static let machineName = TextRules(field: "machine name", maxCharacters: 255)
    public static let operatingSystem = TextRules(field: "operating system", maxCharacters: 255, allowsEmpty: true)
    /// A session's end reason or an audit detail.
    public static let note = TextRules(field: "note", maxCharacters: 500, allowsEmpty: true)
}
