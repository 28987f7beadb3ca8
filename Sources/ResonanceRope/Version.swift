// Version and limits, as functions (for FFI users) matching the header's macros.
import CResonanceRope
import ResonanceRopeCore

/// The library's version as RR_VERSION_NUMBER computes it (MAJOR * 10000 + MINOR * 100 + PATCH).
/// Compare with the RR_VERSION_NUMBER of the header you compiled against. Added in 0.1.0.
@c(rr_version_number) public func rrVersionNumber() -> UInt32 { LibraryVersion.number }

/// The library's version as static text, "MAJOR.MINOR.PATCH" (RR_VERSION_STRING).
/// Never NULL; must not be freed. Added in 0.1.0.
@c(rr_version_string) public func rrVersionString() -> UnsafePointer<CChar> {
  cString(LibraryVersion.text)
}

/// RR_MAX_DIM: the largest rotary_dim and head_dim accepted. Added in 0.1.0.
@c(rr_max_dim) public func rrMaxDim() -> Int32 { Int32(RopeConfig.maxDim) }
