import CRemoteSupport
import Foundation
import RemoteSupportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The links, short codes and connection IDs of the core (Domain/), for integrators without a broker.
// Everything here is a thin skin: the rules live in LinkSigner, Invitation, ConnectionID, ShortCode.

/// Copies `text` and a NUL into a caller's buffer of `capacity` bytes (the header's *_TEXT_SIZE).
private func write(_ text: String, to out: UnsafeMutablePointer<CChar>, capacity: Int) {
    let bytes = Array(text.utf8.prefix(capacity - 1))
    for (index, byte) in bytes.enumerated() { out[index] = CChar(bitPattern: byte) }
    out[bytes.count] = 0
}

/// Base64url without padding, the text form the core gives an InvitationID.
private func base64URL(_ bytes: [UInt8]) -> String {
    var text = Data(bytes).base64EncodedString()
    while text.hasSuffix("=") { text.removeLast() }
    return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
}

/// An InvitationID from the caller's 16 bytes.
private func invitationID(_ bytes: [UInt8]) throws(CallError) -> InvitationID {
    try domain { () throws(DomainError) in try InvitationID(base64URL(bytes)) }
}

/// Whole seconds since 1970 of a date the core made from whole seconds; never traps.
private func unixSeconds(_ date: Date) -> Int64 {
    let seconds = date.timeIntervalSince1970.rounded(.down)
    return Int64(exactly: seconds) ?? (seconds < 0 ? 0 : .max)
}

// MARK: - Handles

/// What an `rs_link_signer *` points to: the core signer, its public URL as a C string, and the error
/// slot (the only thing a call changes: hence one call at a time per signer).
final class LinkSignerHandle {
    let signer: LinkSigner
    let error = ErrorSlot()
    let publicURL: UnsafeMutablePointer<CChar>

    init(_ signer: LinkSigner) {
        self.signer = signer
        publicURL = duplicate(signer.publicURL.value)
    }

    deinit { free(publicURL) }

    static func from(_ pointer: OpaquePointer?) -> LinkSignerHandle? {
        pointer.map { Unmanaged<LinkSignerHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

/// What an `rs_join_link *` points to: a parsed link with its fields as C strings, made once and never
/// changed (so it may be read from any number of threads).
final class JoinLinkHandle {
    let kind: Int32
    let agentSlug: UnsafeMutablePointer<CChar>
    let ticket: UnsafeMutablePointer<CChar>?
    let endUserName: UnsafeMutablePointer<CChar>?
    let idText: UnsafeMutablePointer<CChar>?
    let idBytes: UnsafeMutablePointer<UInt8>?
    let expires: Int64

    init(_ link: JoinLink) {
        agentSlug = duplicate(link.agentSlug.value)
        switch link {
        case .personal:
            kind = RS_JOIN_LINK_PERSONAL
            (ticket, endUserName, idText, idBytes, expires) = (nil, nil, nil, nil, 0)
        case .invitation(let invitation):
            kind = RS_JOIN_LINK_INVITATION
            ticket = invitation.ticket.map(duplicate)
            endUserName = invitation.endUserName.map(duplicate)
            idText = duplicate(invitation.id.text)
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: invitation.id.bytes.count)
            bytes.initialize(from: invitation.id.bytes, count: invitation.id.bytes.count)
            idBytes = bytes
            expires = unixSeconds(invitation.expires)
        }
    }

    deinit {
        free(agentSlug)
        free(ticket)
        free(endUserName)
        free(idText)
        idBytes?.deallocate()
    }

    static func from(_ pointer: OpaquePointer?) -> JoinLinkHandle? {
        pointer.map { Unmanaged<JoinLinkHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

// MARK: - Keys and signers

@c(rs_link_generate_key)
public func rs_link_generate_key(_ out_key: UnsafeMutablePointer<UInt8>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_key else { throw .null("out_key") }
        var random = SystemRandomNumberGenerator()
        let key = LinkSigner.generateKey(using: &random)
        out_key.update(from: key, count: key.count)
    }
}

@c(rs_link_signer_new)
public func rs_link_signer_new(
    _ public_url: UnsafePointer<CChar>?, _ key: UnsafePointer<UInt8>?, _ key_len: Int,
    _ out_signer: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_signer else { throw .null("out_signer") }
        let url = try readText(public_url, "public_url", invalid: RS_ERR_INVALID_FIELD)
        guard let key else { throw .null("key") }
        guard key_len == LinkSigner.keyByteCount else {
            throw .invalid("key_len is \(UInt(bitPattern: key_len)): a signing key has \(LinkSigner.keyByteCount) bytes (RS_LINK_KEY_SIZE)")
        }
        let bytes = Array(UnsafeBufferPointer(start: key, count: key_len))
        let signer = try domain { () throws(DomainError) in try LinkSigner(publicURL: PublicURL(url), key: bytes) }
        out_signer.pointee = OpaquePointer(Unmanaged.passRetained(LinkSignerHandle(signer)).toOpaque())
    }
}

@c(rs_link_signer_public_url)
public func rs_link_signer_public_url(_ signer: OpaquePointer?) -> UnsafePointer<CChar>? {
    LinkSignerHandle.from(signer).map { UnsafePointer($0.publicURL) }
}

private let nullSignerMessage = StaticCString("signer is NULL")

@c(rs_link_signer_errmsg)
public func rs_link_signer_errmsg(_ signer: OpaquePointer?) -> UnsafePointer<CChar>? {
    LinkSignerHandle.from(signer)?.error.cString ?? nullSignerMessage.pointer
}

@c(rs_link_signer_free)
public func rs_link_signer_free(_ signer: OpaquePointer?) {
    guard let signer else { return }
    Unmanaged<LinkSignerHandle>.fromOpaque(UnsafeRawPointer(signer)).release()
}

@c(rs_string_free)
public func rs_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

// MARK: - Building

@c(rs_link_personal)
public func rs_link_personal(
    _ signer: OpaquePointer?, _ agent_slug: UnsafePointer<CChar>?, _ out_link: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guard let h = LinkSignerHandle.from(signer) else { return nullHandle("signer") }
    return h.error.run { () throws(CallError) in
        guard let out_link else { throw .null("out_link") }
        let text = try readText(agent_slug, "agent_slug", invalid: RS_ERR_INVALID_FIELD)
        let slug = try domain { () throws(DomainError) in try AgentSlug(text) }
        out_link.pointee = duplicate(h.signer.link(for: .personal(slug)))
    }
}

@c(rs_invitation_spec_init)
public func rs_invitation_spec_init(_ out_spec: UnsafeMutablePointer<rs_invitation_spec>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_spec else { throw .null("out_spec") }
        var spec = rs_invitation_spec()
        spec.struct_size = UInt32(MemoryLayout<rs_invitation_spec>.size)
        out_spec.pointee = spec
    }
}

@c(rs_link_invitation)
public func rs_link_invitation(
    _ signer: OpaquePointer?, _ spec: UnsafePointer<rs_invitation_spec>?, _ out_id: UnsafeMutablePointer<UInt8>?,
    _ out_link: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guard let h = LinkSignerHandle.from(signer) else { return nullHandle("signer") }
    return h.error.run { () throws(CallError) in
        guard let out_link else { throw .null("out_link") }
        guard let spec else { throw .null("spec") }
        let c = try readVersioned(spec, "spec", initName: "RS_INVITATION_SPEC_INIT or rs_invitation_spec_init")
        let slugText = try readText(c.agent_slug, "spec->agent_slug", invalid: RS_ERR_INVALID_FIELD)
        let ticket = try c.ticket.map { p throws(CallError) in try readText(p, "spec->ticket", invalid: RS_ERR_INVALID_FIELD) }
        let name = try c.end_user_name.map { p throws(CallError) in
            try readText(p, "spec->end_user_name", invalid: RS_ERR_INVALID_FIELD)
        }
        guard (0...Int64(RS_LINK_MAX_EXPIRES)).contains(c.expires) else {
            throw .invalid("spec->expires \(c.expires) is outside 0 ... RS_LINK_MAX_EXPIRES (\(RS_LINK_MAX_EXPIRES), 9999-12-31)")
        }
        let id: InvitationID
        if c.generate_id != 0 {
            var random = SystemRandomNumberGenerator()
            id = InvitationID(using: &random)
        } else {
            id = try invitationID(withUnsafeBytes(of: c.id) { Array($0) })
        }
        let invitation = try domain { () throws(DomainError) in
            try Invitation(id: id, agentSlug: AgentSlug(slugText), ticket: ticket, endUserName: name,
                           expires: Date(timeIntervalSince1970: Double(c.expires)))
        }
        let link = h.signer.link(for: .invitation(invitation))
        out_id?.update(from: id.bytes, count: id.bytes.count)
        out_link.pointee = duplicate(link)
    }
}

@c(rs_invitation_id_format)
public func rs_invitation_id_format(_ id: UnsafePointer<UInt8>?, _ out_text: UnsafeMutablePointer<CChar>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let id else { throw .null("id") }
        guard let out_text else { throw .null("out_text") }
        let parsed = try invitationID(Array(UnsafeBufferPointer(start: id, count: Int(RS_INVITATION_ID_SIZE))))
        write(parsed.text, to: out_text, capacity: Int(RS_INVITATION_ID_TEXT_SIZE))
    }
}

// MARK: - Parsing

@c(rs_link_parse)
public func rs_link_parse(
    _ signer: OpaquePointer?, _ link: UnsafePointer<CChar>?, _ now_unix_seconds: Int64,
    _ out_link: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let h = LinkSignerHandle.from(signer) else { return nullHandle("signer") }
    return h.error.run { () throws(CallError) in
        guard let out_link else { throw .null("out_link") }
        let text = try readText(link, "link", invalid: RS_ERR_MALFORMED_LINK)
        let now = Date(timeIntervalSince1970: Double(now_unix_seconds))
        let join = try domain { () throws(DomainError) in try h.signer.parse(text, at: now) }
        out_link.pointee = OpaquePointer(Unmanaged.passRetained(JoinLinkHandle(join)).toOpaque())
    }
}

@c(rs_join_link_kind)
public func rs_join_link_kind(_ link: OpaquePointer?) -> Int32 {
    JoinLinkHandle.from(link)?.kind ?? 0
}

@c(rs_join_link_agent_slug)
public func rs_join_link_agent_slug(_ link: OpaquePointer?) -> UnsafePointer<CChar>? {
    JoinLinkHandle.from(link).map { UnsafePointer($0.agentSlug) }
}

@c(rs_join_link_ticket)
public func rs_join_link_ticket(_ link: OpaquePointer?) -> UnsafePointer<CChar>? {
    JoinLinkHandle.from(link)?.ticket.map { UnsafePointer($0) }
}

@c(rs_join_link_end_user_name)
public func rs_join_link_end_user_name(_ link: OpaquePointer?) -> UnsafePointer<CChar>? {
    JoinLinkHandle.from(link)?.endUserName.map { UnsafePointer($0) }
}

@c(rs_join_link_expires)
public func rs_join_link_expires(_ link: OpaquePointer?) -> Int64 {
    JoinLinkHandle.from(link)?.expires ?? 0
}

@c(rs_join_link_id)
public func rs_join_link_id(_ link: OpaquePointer?) -> UnsafePointer<CChar>? {
    JoinLinkHandle.from(link)?.idText.map { UnsafePointer($0) }
}

@c(rs_join_link_id_bytes)
public func rs_join_link_id_bytes(_ link: OpaquePointer?) -> UnsafePointer<UInt8>? {
    JoinLinkHandle.from(link)?.idBytes.map { UnsafePointer($0) }
}

@c(rs_join_link_free)
public func rs_join_link_free(_ link: OpaquePointer?) {
    guard let link else { return }
    Unmanaged<JoinLinkHandle>.fromOpaque(UnsafeRawPointer(link)).release()
}

// MARK: - Short codes and connection IDs

@c(rs_short_code_validate)
public func rs_short_code_validate(_ code: UnsafePointer<CChar>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        let text = try readText(code, "code", invalid: RS_ERR_NOT_FOUND)
        _ = try domain { () throws(DomainError) in try ShortCode(text) }
    }
}

@c(rs_connection_id_parse)
public func rs_connection_id_parse(_ text: UnsafePointer<CChar>?, _ out_value: UnsafeMutablePointer<UInt32>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        let typed = try readText(text, "text", invalid: RS_ERR_INVALID_FIELD)
        guard let out_value else { throw .null("out_value") }
        let id = try domain { () throws(DomainError) in try ConnectionID(parsing: typed) }
        out_value.pointee = UInt32(id.value)
    }
}

@c(rs_connection_id_format)
public func rs_connection_id_format(_ value: UInt32, _ out_text: UnsafeMutablePointer<CChar>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_text else { throw .null("out_text") }
        let id = try domain { () throws(DomainError) in try ConnectionID(value: Int(value)) }
        write(id.formatted, to: out_text, capacity: Int(RS_CONNECTION_ID_TEXT_SIZE))
    }
}
