// libFuzzer target: join links (LinkSigner.parse) and the other text people type or paste
// (ConnectionID(parsing:), ShortCode, PublicURL, EmailAddress), each with a round-trip property.
// Compiled into the core module (see run.sh); Seeds/main.swift writes real links signed as below.
import Foundation

/// One input is either text (any first byte but 0), fed to every parser, or, after a 0 byte, an
/// invitation to build: fields split at 0 bytes as slug, ticket, name, expiry (decimal) and id (any
/// bytes, folded into 16), an empty ticket or name meaning none. Text reaches the parsers; the builder
/// mode makes valid signatures, which the fuzzer could never forge, so the code after the signature
/// check is fuzzed too.
enum LinkFuzz {
    /// The signing key of the fuzz target and its seeds (not a secret: test data).
    static let key: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    static let signers: [LinkSigner] = ["https://help.example.com", "https://example.com/support"].map {
        try! LinkSigner(publicURL: PublicURL($0), key: key)
    }
    /// The time links are checked at: seeds expire after it (and one before).
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let maximumExpiry: Int64 = 253_402_300_799

    static func run(_ bytes: [UInt8]) {
        if bytes.first == 0 {
            build(bytes.dropFirst())
        } else {
            parse(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Every parser over the same text; whatever parses must survive a round trip.
    static func parse(_ text: String) {
        for signer in signers {
            guard let join = try? signer.parse(text, at: now) else { continue }
            let again = signer.link(for: join)
            do {
                let reparsed = try signer.parse(again, at: now)
                precondition(reparsed == join, "\(text.debugDescription) -> \(again) parses to \(reparsed), not \(join)")
                precondition(signer.link(for: reparsed) == again, "building is not deterministic")
            } catch {
                preconditionFailure("\(text.debugDescription) parses, its rebuilt \(again) does not: \(error)")
            }
        }
        if let id = try? ConnectionID(parsing: text) {
            precondition((0..<ConnectionID.space).contains(id.value) && id.digits.utf8.count == 6)
            precondition((try? ConnectionID(parsing: id.formatted)) == id, "\(id.formatted) does not parse back")
            precondition((try? ConnectionID(parsing: id.digits)) == id, "\(id.digits) does not parse back")
        }
        if let code = try? ShortCode(text) {
            precondition(code.value == text && (try? ShortCode(code.value)) == code)
        }
        if let url = try? PublicURL(text) {
            precondition((try? PublicURL(url.value))?.value == url.value, "\(url.value) is not a fixed point")
            let signer = try! LinkSigner(publicURL: url, key: key)
            let slug = try! AgentSlug("a")
            precondition((try? signer.parse(signer.link(for: .personal(slug)), at: now)) == .personal(slug),
                         "a personal link of \(url.value) does not parse")
        }
        if let address = try? EmailAddress(text) {
            precondition((try? EmailAddress(address.value)) == address, "\(address.value) does not parse back")
        }
    }

    /// An invitation from fields: if it is valid, its link must parse back to it (or be expired).
    static func build(_ bytes: ArraySlice<UInt8>) {
        let parts = bytes.split(separator: 0, maxSplits: 4, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        func part(_ index: Int) -> String? { index < parts.count && !parts[index].isEmpty ? parts[index] : nil }
        guard let slug = try? AgentSlug(part(0) ?? "") else { return }
        let seconds = part(3).flatMap { Int64($0) } ?? 2_000_000_000
        var idBytes = [UInt8](repeating: 0, count: 16)
        for (index, byte) in Array((part(4) ?? "").utf8).enumerated() { idBytes[index % 16] &+= byte }
        guard let id = try? InvitationID(Base64.encode(idBytes, urlSafe: true)),
              let invitation = try? Invitation(id: id, agentSlug: slug, ticket: part(1), endUserName: part(2),
                                               expires: Date(timeIntervalSince1970: Double(seconds))) else { return }
        for signer in signers {
            precondition((try? signer.parse(signer.link(for: .personal(slug)), at: now)) == .personal(slug))
            let link = signer.link(for: .invitation(invitation))
            guard (0...maximumExpiry).contains(seconds) else { continue }  // the builder clamps; no trap is the test
            do {
                let parsed = try signer.parse(link, at: now)
                precondition(parsed == .invitation(invitation), "\(link) parses to \(parsed), not \(invitation)")
                precondition(invitation.expires > now, "\(link) parses although it expired")
            } catch {
                precondition(error.code == .expired && invitation.expires <= now, "\(link) does not parse: \(error)")
            }
        }
    }

    /// Seed inputs: real links from both signers (personal, invitations with and without ticket and name,
    /// an expired one, variants the parser accepts), builder inputs, IDs, codes, URLs and addresses.
    static func seeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        let slug = try! AgentSlug("zoe-obrien")
        let id = try! InvitationID("AAECAwQFBgcICQoLDA0ODw")  // bytes 0 ... 15
        let invitations: [Invitation] = [
            try! Invitation(id: id, agentSlug: slug, ticket: "#4711/b", endUserName: "Zoë Ärger-Şahin",
                            expires: Date(timeIntervalSince1970: 1_800_000_000)),
            try! Invitation(id: id, agentSlug: slug, ticket: "INC-1: a.b_c", endUserName: nil,
                            expires: Date(timeIntervalSince1970: 1_800_000_000)),
            try! Invitation(id: id, agentSlug: try! AgentSlug("a-1"), ticket: nil, endUserName: "李 小龍 👩‍💻",
                            expires: Date(timeIntervalSince1970: 1_700_000_001)),
            try! Invitation(id: id, agentSlug: slug, ticket: nil, endUserName: nil,
                            expires: Date(timeIntervalSince1970: 1_600_000_000)),  // expired
        ]
        for signer in signers {
            let personal = signer.link(for: .personal(slug))
            out += [personal, personal + "/", personal.uppercased().replacingOccurrences(of: "ZOE-OBRIEN", with: "zoe-obrien"),
                    "  " + personal + "#top"].map { Array($0.utf8) }
            for invitation in invitations {
                let link = signer.link(for: .invitation(invitation))
                out += [link, link + "#frag", link.replacingOccurrences(of: "%20", with: "+")].map { Array($0.utf8) }
            }
        }
        let builder: [[String]] = [
            ["zoe-obrien", "#4711/b", "Zoë", "1800000000", "id-1"],
            ["a", "", "Name with spaces ", "1700000000", ""],
            ["x-y", "T-1", "", "9223372036854775807", "z"],
        ]
        for fields in builder {
            out.append([0] + Array(fields.joined(separator: "\0").utf8))
        }
        out += ["123 456", "123-456", "000000", "1.2.3.4.5.6", "12345", "1234567", "12a456",
                "AbCdEf0123456789", "https://Help.Example.com:8443/support/", "http://[::1]:8080",
                "agent.name+tag@example.com", "a@b"].map { Array($0.utf8) }
        return out
    }
}

public func fuzzLinks(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size <= 4096 else { return 0 }
    LinkFuzz.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
