// TEMPORARY: replaced by FPU.swift (host-FPU based, all rounding modes). Delete on merge.
import Glibc
public enum FPU {
    static func d(_ a: UInt64) -> Double { Double(bitPattern: a) }
    static func s(_ a: UInt32) -> Float { Float(bitPattern: a) }
    public static func add64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { (d(a) + d(b)).bitPattern }
    public static func sub64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { (d(a) - d(b)).bitPattern }
    public static func mul64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { (d(a) * d(b)).bitPattern }
    public static func div64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { (d(a) / d(b)).bitPattern }
    public static func sqrt64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { d(a).squareRoot().bitPattern }
    public static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { (d(a) * d(b) + d(c)).bitPattern }
    public static func min64(_ a: UInt64, _ b: UInt64, _ f: inout UInt64) -> UInt64 { Swift.min(d(a), d(b)).bitPattern }
    public static func max64(_ a: UInt64, _ b: UInt64, _ f: inout UInt64) -> UInt64 { Swift.max(d(a), d(b)).bitPattern }
    public static func eq64(_ a: UInt64, _ b: UInt64, _ f: inout UInt64) -> UInt64 { d(a) == d(b) ? 1 : 0 }
    public static func lt64(_ a: UInt64, _ b: UInt64, _ f: inout UInt64) -> UInt64 { d(a) < d(b) ? 1 : 0 }
    public static func le64(_ a: UInt64, _ b: UInt64, _ f: inout UInt64) -> UInt64 { d(a) <= d(b) ? 1 : 0 }
    public static func classify64(_ a: UInt64) -> UInt64 { 0 }
    public static func cvtW64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtWU64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtL64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtLU64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvt64FromW(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvt64FromWU(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvt64FromL(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvt64FromLU(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func add32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func sub32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func mul32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func div32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func sqrt32(_ a: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ op: UInt8, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func min32(_ a: UInt32, _ b: UInt32, _ f: inout UInt64) -> UInt32 { 0 }
    public static func max32(_ a: UInt32, _ b: UInt32, _ f: inout UInt64) -> UInt32 { 0 }
    public static func eq32(_ a: UInt32, _ b: UInt32, _ f: inout UInt64) -> UInt64 { 0 }
    public static func lt32(_ a: UInt32, _ b: UInt32, _ f: inout UInt64) -> UInt64 { 0 }
    public static func le32(_ a: UInt32, _ b: UInt32, _ f: inout UInt64) -> UInt64 { 0 }
    public static func classify32(_ a: UInt32) -> UInt64 { 0 }
    public static func cvtW32(_ a: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtWU32(_ a: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtL32(_ a: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvtLU32(_ a: UInt32, _ rm: UInt8, _ f: inout UInt64) -> UInt64 { 0 }
    public static func cvt32FromW(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func cvt32FromWU(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func cvt32FromL(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func cvt32FromLU(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func cvt32From64(_ a: UInt64, _ rm: UInt8, _ f: inout UInt64) -> UInt32 { 0 }
    public static func cvt64From32(_ a: UInt32, _ f: inout UInt64) -> UInt64 { 0 }
}
