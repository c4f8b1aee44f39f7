/// What the end user's client reports when it joins, validated: their name as they typed it (may be
/// empty), the machine's name and OS, and the address the broker saw.
public struct EndUserDetails: Hashable, Sendable, Codable {
    public let name: String
    public let machineName: String
    public let operatingSystem: String
    public let address: String

    public init(name: String, machineName: String, operatingSystem: String, address: String) throws(DomainError) {
        self.name = try TextRules(field: "name", maxCharacters: 100, allowsEmpty: true).validate(name)
        self.machineName = try TextRules.machineName.validate(machineName)
        self.operatingSystem = try TextRules.operatingSystem.validate(operatingSystem)
        self.address = String(address.prefix(64))
    }
}
