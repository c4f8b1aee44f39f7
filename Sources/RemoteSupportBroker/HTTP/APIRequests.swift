import Foundation

// The JSON bodies the API reads (Resources/openapi.yaml). Plain Decodable: unknown keys are ignored, and
// the desk checks every field's rules. Kept free of the web framework so the fuzz target decodes them too.

struct LoginRequest: Decodable {
    let email: String
    let password: String
}

struct ProfileRequest: Decodable {
    let name: String?
    let email: String?
    let jobTitle: String?
}

struct PasswordRequest: Decodable {
    let current: String
    let new: String
}

struct CreateAgentRequest: Decodable {
    let email: String
    let name: String
    let jobTitle: String?
    let role: String?
}

struct InvitationRequest: Decodable {
    let ticket: String?
    let endUserName: String?
    let lifetimeSeconds: Int?
}

struct ShortenRequest: Decodable {
    let link: String
}

struct EmailRequest: Decodable {
    let to: String
    let link: String
    /// A live connection ID of the caller's to include (6 digits).
    let connectionID: String?
}

struct ConnectionIDRequest: Decodable {
    let ticket: String?
    let endUserName: String?
}
