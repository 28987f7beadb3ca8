import ResonanceRopeCore
@c(rr_placeholder) public func rrPlaceholder() -> Int32 { 0 }
