import CRemoteSupport

/// RS_VERSION_STRING of the header this library was built with, as a C string.
private let versionCString = StaticCString(RS_VERSION_STRING)

@c(rs_version)
public func rs_version() -> UnsafePointer<CChar>? {
    versionCString.pointer
}

@c(rs_version_number)
public func rs_version_number() -> UInt32 {
    UInt32(RS_VERSION_NUMBER)
}
