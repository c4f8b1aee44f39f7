import Crypto
import Foundation

/// Builds and parses join links for one public URL with one secret key (HMAC-SHA256, 32 bytes; the
/// broker generates it on first start and keeps it in the store).
///
/// An invitation's signature covers, length-prefixed: a version label, the slug, ticket, name, expiry and
/// id, so changing any byte of any of them, or moving a ticket into the name, breaks it. Values are
/// percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`); parsing accepts `+` for a space (form encoding)
/// and rejects unknown or repeated parameters, bad escapes and invalid UTF-8.
public struct LinkSigner: Sendable {
    public let publicURL: PublicURL
    let key: SymmetricKey

    public static let keyByteCount = 32

    /// The latest expiry a link carries, 9999-12-31T23:59:59Z: whole seconds up to it survive the trip
    /// through a `Date` exactly and convert back to Int64 without trapping.
    public static let maximumExpiry: Int64 = 253_402_300_799

    public init(publicURL: PublicURL, key: [UInt8]) throws(DomainError) {
        guard key.count == Self.keyByteCount else {
            throw DomainError(.invalidField, "a link signing key has \(Self.keyByteCount) bytes")
        }
        self.publicURL = publicURL
        self.key = SymmetricKey(data: key)
    }

    /// A fresh random key.
    public static func generateKey(using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<keyByteCount).map { _ in generator.next() }
    }

    // MARK: Building

    public func link(for join: JoinLink) -> String {
        switch join {
        case .personal(let slug):
            return "\(publicURL.value)/join/\(slug.value)"
        case .invitation(let invitation):
            var query: [String] = []
            if let ticket = invitation.ticket { query.append("ticket=\(PercentEncoding.encode(ticket))") }
            if let name = invitation.endUserName { query.append("name=\(PercentEncoding.encode(name))") }
            query.append("expires=\(Self.linkSeconds(invitation.expires))")
            query.append("id=\(invitation.id.text)")
            query.append("sig=\(Base64.encode(signature(of: invitation), urlSafe: true))")
            return "\(publicURL.value)/join/\(invitation.agentSlug.value)?\(query.joined(separator: "&"))"
        }
    }

    // MARK: Parsing

    /// The link's meaning, or: `.malformedLink` (not one of our links), `.badSignature` (forged or altered),
    /// `.expired`. A revoked invitation parses: the store knows about revocations.
    public func parse(_ link: String, at now: Date) throws(DomainError) -> JoinLink {
        guard link.utf8.count <= 2048 else { throw DomainError(.malformedLink, "link is longer than 2048 bytes") }
        let text = link.trimmingCharacters(in: .whitespaces)
        let prefix = publicURL.value + "/join/"
        guard text.utf8.count > prefix.utf8.count,
              String(decoding: text.utf8.prefix(prefix.utf8.count), as: UTF8.self).asciiLowercased == prefix.asciiLowercased else {
            throw DomainError(.malformedLink, "not a join link of \(publicURL.value)")
        }
        let rest = Substring(text.utf8.dropFirst(prefix.utf8.count))
        let pathPart = rest.prefix { $0 != "?" && $0 != "#" }
        let slug: AgentSlug
        do {
            slug = try AgentSlug(pathPart.hasSuffix("/") ? pathPart.dropLast() : pathPart)
        } catch {
            throw DomainError(.malformedLink, "join link: \(error.reason)")
        }
        var queryPart = rest.dropFirst(pathPart.count)
        if let hash = queryPart.firstIndex(of: "#") { queryPart = queryPart[..<hash] }  // fragments are client-side
        guard queryPart.hasPrefix("?"), queryPart.count > 1 else { return .personal(slug) }

        var fields: [String: String] = [:]
        for pair in queryPart.dropFirst().split(separator: "&", omittingEmptySubsequences: true) {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(keyValue[0])
            guard ["ticket", "name", "expires", "id", "sig"].contains(key) else {
                throw DomainError(.malformedLink, "unknown link parameter")
            }
            guard fields[key] == nil else { throw DomainError(.malformedLink, "repeated link parameter \(key)") }
            fields[key] = try PercentEncoding.decode(keyValue.count == 2 ? keyValue[1] : "")
        }
        guard let expiresText = fields["expires"], let seconds = Int64(expiresText), (0...Self.maximumExpiry).contains(seconds),
              let idText = fields["id"], let signatureText = fields["sig"],
              let signature = Base64.decode(signatureText, urlSafe: true), signature.count == 32 else {
            throw DomainError(.malformedLink, "invitation link needs expires, id and sig")
        }
        let invitation: Invitation
        do {
            invitation = try Invitation(id: InvitationID(idText), agentSlug: slug, ticket: fields["ticket"],
                                        endUserName: fields["name"], expires: Date(timeIntervalSince1970: Double(seconds)))
        } catch {
            throw DomainError(.malformedLink, "invitation link: \(error.reason)")
        }
        // Validation may have trimmed or normalised a value: the signature is over what was signed, so
        // a value that changed here cannot have come from `link(for:)` and fails below.
        guard invitation.ticket == fields["ticket"], invitation.endUserName == fields["name"],
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signedBytes(of: invitation), using: key) else {
            throw DomainError(.badSignature, "the invitation link was altered or not issued here")
        }
        guard invitation.expires > now else {
            throw DomainError(.expired, "the invitation link expired")
        }
        return .invitation(invitation)
    }

    // MARK: Signature

    /// An expiry as links carry and sign it: whole seconds, clamped to 0 ... `maximumExpiry` (whatever
    /// `Date` an `Invitation` was made with; the conversion to Int64 would trap past Int64.max).
    static func linkSeconds(_ expires: Date) -> Int64 {
        let seconds = expires.timeIntervalSince1970
        guard seconds > 0 else { return 0 }  // NaN too
        guard seconds < Double(maximumExpiry) else { return maximumExpiry }
        return Int64(seconds)
    }

    func signature(of invitation: Invitation) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: signedBytes(of: invitation), using: key))
    }

    func signedBytes(of invitation: Invitation) -> [UInt8] {
        var bytes: [UInt8] = []
        func field(_ value: some Collection<UInt8>) {
            let count = UInt32(value.count)
            bytes += [UInt8(count >> 24), UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count)]
            bytes += value
        }
        func optionalField(_ value: String?) {
            bytes.append(value == nil ? 0 : 1)
            field(Array((value ?? "").utf8))
        }
        field(Array("remotesupport invitation v1".utf8))
        field(Array(invitation.agentSlug.value.utf8))
        optionalField(invitation.ticket)
        optionalField(invitation.endUserName)
        let seconds = UInt64(Self.linkSeconds(invitation.expires))
        field((0..<8).map { UInt8(truncatingIfNeeded: seconds >> (56 - 8 * $0)) })
        field(invitation.id.bytes)
        return bytes
    }
}
