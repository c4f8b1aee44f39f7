/// An agent's secret and the state that guards it, kept apart from `Agent` so listing agents never
/// touches it.
public struct AgentCredential: Hashable, Sendable {
    public var passwordHash: PasswordHash
    /// Set for a default (one-time) password: the agent must change it before anything else.
    public var mustChangePassword: Bool
    public var throttle: LoginThrottle

    public init(passwordHash: PasswordHash, mustChangePassword: Bool, throttle: LoginThrottle = LoginThrottle()) {
        self.passwordHash = passwordHash
        self.mustChangePassword = mustChangePassword
        self.throttle = throttle
    }
}
