import Platform
// Floating-point unit for the RISC-V F and D extensions.
//
// Design
// ------
// * A complete, exact soft-float core (integer arithmetic on UInt128
//   significands) implements every operation for every rounding mode with
//   IEEE 754-2008 / RISC-V flag semantics (tininess detected after rounding,
//   canonical NaN results, saturating conversions).
// * Fast paths for the common case use the host FPU in its default
//   round-to-nearest-even mode only (the host rounding mode is never
//   changed, so there is no fenv/compiler-ordering hazard).  The exact
//   rounding error of the host result is recovered with error-free
//   transformations (TwoSum, FMA residuals), which yields the inexact flag
//   and lets the result be corrected for RTZ/RDN/RUP/RMM.  The fast paths
//   are only taken when every operand and the result lie well inside the
//   normal range, so overflow, underflow, NaN, infinities, zeros and
//   subnormals always go through the soft-float core.
// * Single-precision fast paths compute in Double (exact or with a known
//   error term) and round to Float, falling back to the soft-float core in
//   the rare double-rounding-ambiguous case.

public enum FPU {
    public static let NX: UInt64 = 1
    public static let UF: UInt64 = 2
    public static let OF: UInt64 = 4
    public static let DZ: UInt64 = 8
    public static let NV: UInt64 = 16

    public static let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000
    public static let canonicalNaN32: UInt32 = 0x7fc0_0000

    // MARK: - Format description

    static var f64: FPUDouble.Type { FPUDouble.self }
    static var f32: FPUSingle.Type { FPUSingle.self }

    enum Cls { case zero, finite, inf, qnan, snan }

    struct Unp {
        var sign: Bool
        var cls: Cls
        var sig: UInt64  // finite: value = sig * 2^exp
        var exp: Int
        @inline(__always) var isNaN: Bool { cls == .qnan || cls == .snan }
    }

    @inline(__always)
    static func unpack<F: FPUFormat>(_ x: UInt64, _ f: F.Type) -> Unp {
        let sign = (x & f.signBit) != 0
        let e = (x >> UInt64(f.fb)) & f.expAllOnes
        let fr = x & f.fracMask
        if e == f.expAllOnes {
            if fr == 0 { return Unp(sign: sign, cls: .inf, sig: 0, exp: 0) }
            let quiet = (fr & (1 << UInt64(f.fb - 1))) != 0
            return Unp(sign: sign, cls: quiet ? .qnan : .snan, sig: 0, exp: 0)
        }
        if e == 0 {
            if fr == 0 { return Unp(sign: sign, cls: .zero, sig: 0, exp: 0) }
            return Unp(sign: sign, cls: .finite, sig: fr, exp: 1 - f.bias - f.fb)
        }
        return Unp(sign: sign, cls: .finite, sig: fr | (1 << UInt64(f.fb)), exp: Int(e) - f.bias - f.fb)
    }

    @inline(__always)
    static func isSNaN<F: FPUFormat>(_ x: UInt64, _ f: F.Type) -> Bool {
        let e = (x >> UInt64(f.fb)) & f.expAllOnes
        let fr = x & f.fracMask
        return e == f.expAllOnes && fr != 0 && (fr & (1 << UInt64(f.fb - 1))) == 0
    }

    @inline(__always)
    static func isNaN<F: FPUFormat>(_ x: UInt64, _ f: F.Type) -> Bool {
        return (x & ~f.signBit) > f.inf
    }

    // MARK: - Rounding core

    /// Rounds `sig * 2^exp` (plus an infinitesimal if `sticky`) to an integer
    /// multiple of 2^q. Returns the multiplier and whether rounding was inexact.
    /// When `sticky` is set, the caller guarantees q - exp >= 2.
    @inline(__always)
    static func roundTo(_ sig: UInt128, _ exp: Int, _ sticky: Bool, _ q: Int,
                        _ sign: Bool, _ rm: UInt8) -> (UInt128, Bool) {
        let shift = q - exp
        if shift <= 0 {
            return (sig << UInt128(-shift), sticky)
        }
        var kept: UInt128
        var rb: Bool
        var st: Bool
        if shift > 128 {
            kept = 0; rb = false; st = sticky || sig != 0
        } else {
            kept = shift == 128 ? 0 : sig >> UInt128(shift)
            rb = ((sig >> UInt128(shift - 1)) & 1) != 0
            let restMask: UInt128 = (UInt128(1) << UInt128(shift - 1)) &- 1
            st = sticky || (sig & restMask) != 0
        }
        let inexact = rb || st
        if inexact {
            var inc = false
            switch rm {
            case 0: inc = rb && (st || (kept & 1) != 0)
            case 1: inc = false
            case 2: inc = sign
            case 3: inc = !sign
            default: inc = rb
            }
            if inc { kept &+= 1 }
        }
        return (kept, inexact)
    }

    @inline(__always)
    static func overflowResult<F: FPUFormat>(_ sign: Bool, _ f: F.Type, _ rm: UInt8) -> UInt64 {
        let s = sign ? f.signBit : 0
        switch rm {
        case 1: return s | f.maxFinite
        case 2: return sign ? (s | f.inf) : f.maxFinite
        case 3: return sign ? (s | f.maxFinite) : f.inf
        default: return s | f.inf
        }
    }

    /// Rounds the nonzero value `sig * 2^exp` (plus an infinitesimal if
    /// `sticky`) into format `f` and packs it. When `sticky` is set the
    /// significand must carry at least fb+3 bits.
    static func roundPack<F: FPUFormat>(_ sign: Bool, _ sig: UInt128, _ exp: Int, _ sticky: Bool,
                          _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let s: UInt64 = sign ? f.signBit : 0
        if sig == 0 { return s }  // callers never pass a zero significand
        let msb = 127 - sig.leadingZeroBitCount
        let E = exp + msb  // value in [2^E, 2^(E+1))
        let emin = 1 - f.bias
        if E < emin {
            let (m, inexact) = roundTo(sig, exp, sticky, emin - f.fb, sign, rm)
            if inexact {
                var tiny = true
                if E == emin - 1 {
                    let (m2, _) = roundTo(sig, exp, sticky, E - f.fb, sign, rm)
                    if m2 >= (UInt128(1) << UInt128(f.fb + 1)) { tiny = false }
                }
                flags |= tiny ? (NX | UF) : NX
            }
            // m <= 2^fb; m == 2^fb encodes the smallest normal naturally.
            return s | UInt64(truncatingIfNeeded: m)
        }
        var (m, inexact) = roundTo(sig, exp, sticky, E - f.fb, sign, rm)
        var e2 = E
        if m == (UInt128(1) << UInt128(f.fb + 1)) { m >>= 1; e2 += 1 }
        if e2 > f.bias {
            flags |= OF | NX
            return overflowResult(sign, f, rm)
        }
        if inexact { flags |= NX }
        return s | (UInt64(e2 + f.bias) << UInt64(f.fb)) | (UInt64(truncatingIfNeeded: m) & f.fracMask)
    }

    /// Exact-or-jammed addition of two nonzero magnitudes (< 2^107).
    /// Returns a significand of 0 for exact cancellation.
    @inline(__always)
    static func addCore(_ sx0: Bool, _ mx0: UInt128, _ ex0: Int,
                        _ sy0: Bool, _ my0: UInt128, _ ey0: Int) -> (Bool, UInt128, Int) {
        var sx = sx0, mx = mx0, ex = ex0, sy = sy0, my = my0, ey = ey0
        let tx = ex + (128 - mx.leadingZeroBitCount)
        let ty = ey + (128 - my.leadingZeroBitCount)
        if ty > tx {
            swap(&sx, &sy); swap(&mx, &my); swap(&ex, &ey)
        }
        let lx = 125 - (127 - mx.leadingZeroBitCount)
        mx <<= UInt128(lx)
        ex -= lx
        let d = ex - ey
        if d <= 0 {
            my <<= UInt128(-d)
        } else if d >= 128 {
            my = 1
        } else {
            let lost = (my & ((UInt128(1) << UInt128(d)) &- 1)) != 0
            my >>= UInt128(d)
            if lost { my |= 1 }
        }
        if sx == sy { return (sx, mx &+ my, ex) }
        if mx >= my { return (sx, mx &- my, ex) }
        return (sy, my &- mx, ex)
    }

    // MARK: - Soft-float operations (all rounding modes, all inputs)

    static func softAdd<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f), y = unpack(b, f)
        if x.isNaN || y.isNaN {
            if x.cls == .snan || y.cls == .snan { flags |= NV }
            return f.qnan
        }
        if x.cls == .inf {
            if y.cls == .inf && x.sign != y.sign { flags |= NV; return f.qnan }
            return a
        }
        if y.cls == .inf { return b }
        if x.cls == .zero {
            if y.cls == .zero {
                let sign = x.sign == y.sign ? x.sign : (rm == 2)
                return sign ? f.signBit : 0
            }
            return b
        }
        if y.cls == .zero { return a }
        let (s, m, e) = addCore(x.sign, UInt128(x.sig), x.exp, y.sign, UInt128(y.sig), y.exp)
        if m == 0 { return rm == 2 ? f.signBit : 0 }
        return roundPack(s, m, e, false, f, rm, &flags)
    }

    static func softMul<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f), y = unpack(b, f)
        if x.isNaN || y.isNaN {
            if x.cls == .snan || y.cls == .snan { flags |= NV }
            return f.qnan
        }
        let sign = x.sign != y.sign
        let s: UInt64 = sign ? f.signBit : 0
        if x.cls == .inf || y.cls == .inf {
            if x.cls == .zero || y.cls == .zero { flags |= NV; return f.qnan }
            return s | f.inf
        }
        if x.cls == .zero || y.cls == .zero { return s }
        return roundPack(sign, UInt128(x.sig) * UInt128(y.sig), x.exp + y.exp, false, f, rm, &flags)
    }

    static func softDiv<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f), y = unpack(b, f)
        if x.isNaN || y.isNaN {
            if x.cls == .snan || y.cls == .snan { flags |= NV }
            return f.qnan
        }
        let sign = x.sign != y.sign
        let s: UInt64 = sign ? f.signBit : 0
        if x.cls == .inf {
            if y.cls == .inf { flags |= NV; return f.qnan }
            return s | f.inf
        }
        if y.cls == .inf { return s }
        if y.cls == .zero {
            if x.cls == .zero { flags |= NV; return f.qnan }
            flags |= DZ
            return s | f.inf
        }
        if x.cls == .zero { return s }
        let lx = x.sig.leadingZeroBitCount, ly = y.sig.leadingZeroBitCount
        let mx = x.sig << UInt64(lx), my = y.sig << UInt64(ly)
        let num = UInt128(mx) << 64
        let den = UInt128(my)
        let q = num / den
        let r = num % den
        return roundPack(sign, q, (x.exp - lx) - 64 - (y.exp - ly), r != 0, f, rm, &flags)
    }

    static func softSqrt<F: FPUFormat>(_ a: UInt64, _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f)
        switch x.cls {
        case .snan: flags |= NV; return f.qnan
        case .qnan: return f.qnan
        case .zero: return a
        case .inf:
            if x.sign { flags |= NV; return f.qnan }
            return a
        case .finite:
            break
        }
        if x.sign { flags |= NV; return f.qnan }
        let lz = x.sig.leadingZeroBitCount
        let m = x.sig << UInt64(lz)
        var e = x.exp - lz - 64
        var n = UInt128(m) << 64
        if (e & 1) != 0 {
            n = UInt128(m) << 63
            e += 1
        }
        // Integer square root, bit by bit; result < 2^64.
        var root: UInt128 = 0
        var bit: UInt128 = UInt128(1) << 63
        while bit != 0 {
            let t = root | bit
            if t * t <= n { root = t }
            bit >>= 1
        }
        let sticky = root * root != n
        return roundPack(false, root, e / 2, sticky, f, rm, &flags)
    }

    static func softFma<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ f: F.Type,
                        _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f), y = unpack(b, f), z = unpack(c, f)
        let negProd = op == 2 || op == 3
        let negC = op == 1 || op == 3
        let infTimesZero = (x.cls == .inf && y.cls == .zero) || (x.cls == .zero && y.cls == .inf)
        if x.isNaN || y.isNaN || z.isNaN {
            if x.cls == .snan || y.cls == .snan || z.cls == .snan || infTimesZero { flags |= NV }
            return f.qnan
        }
        if infTimesZero { flags |= NV; return f.qnan }
        let ps = (x.sign != y.sign) != negProd
        let cs = z.sign != negC
        if x.cls == .inf || y.cls == .inf {
            if z.cls == .inf && cs != ps { flags |= NV; return f.qnan }
            return (ps ? f.signBit : 0) | f.inf
        }
        if z.cls == .inf { return (cs ? f.signBit : 0) | f.inf }
        if x.cls == .zero || y.cls == .zero {
            if z.cls == .zero {
                let sign = ps == cs ? ps : (rm == 2)
                return sign ? f.signBit : 0
            }
            return (c & ~f.signBit) | (cs ? f.signBit : 0)
        }
        let p = UInt128(x.sig) * UInt128(y.sig)
        let pe = x.exp + y.exp
        if z.cls == .zero {
            return roundPack(ps, p, pe, false, f, rm, &flags)
        }
        let (s, m, e) = addCore(ps, p, pe, cs, UInt128(z.sig), z.exp)
        if m == 0 { return rm == 2 ? f.signBit : 0 }
        return roundPack(s, m, e, false, f, rm, &flags)
    }

    // MARK: - Host fast-path helpers

    /// Adjusts an RNE result `r` (normal, comfortably inside the range) to
    /// the directed/RMM mode given the sign of the nonzero error exact - r.
    @inline(__always)
    static func adjust<T: BinaryFloatingPoint>(_ r: T, _ errPositive: Bool, _ tie: Bool, _ rm: UInt8) -> T {
        switch rm {
        case 1:
            if r > 0 && !errPositive { return r.nextDown }
            if r < 0 && errPositive { return r.nextUp }
            return r
        case 2: return errPositive ? r : r.nextDown
        case 3: return errPositive ? r.nextUp : r
        case 4:
            if tie && errPositive == (r > 0) { return r > 0 ? r.nextUp : r.nextDown }
            return r
        default: return r
        }
    }

    /// Biased exponent field of a double.
    @inline(__always) static func bexp64(_ x: UInt64) -> UInt64 { (x >> 52) & 0x7ff }
    @inline(__always) static func bexp32(_ x: UInt32) -> UInt32 { (x >> 23) & 0xff }

    /// Finishes a single-precision operation whose exact result is
    /// `s + lo` where `s` is a double and `lo` is a much smaller term whose
    /// sign is `loSign` (-1, 0, +1). Returns nil if the soft path is needed.
    @inline(__always)
    static func finish32(_ s: Double, _ loSign: Int, _ rm: UInt8, _ flags: inout UInt64) -> UInt32? {
        let r = Float(s)
        let e = bexp32(r.bitPattern)
        if e < 2 || e > 253 { return nil }
        let d = s - Double(r)  // exact
        if d == 0 && loSign == 0 { return r.bitPattern }
        let halfUlp = Double(r.ulp) * 0.5
        let mag = d.magnitude
        if loSign != 0 && (mag == halfUlp || mag == halfUlp * 0.5) { return nil }
        flags |= NX
        if rm == 0 { return r.bitPattern }
        let errPositive = d != 0 ? d > 0 : loSign > 0
        let tie = loSign == 0 && mag == halfUlp
        return adjust(r, errPositive, tie, rm).bitPattern
    }

    // MARK: - Double precision arithmetic

    public static func add64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if bexp64(a) < 0x7fd && bexp64(b) < 0x7fd {
            let x = Double(bitPattern: a), y = Double(bitPattern: b)
            let s = x + y
            if bexp64(s.bitPattern) != 0 {
                let bb = s - x
                let err = (x - (s - bb)) + (y - bb)
                if err == 0 { return s.bitPattern }
                flags |= NX
                if rm == 0 { return s.bitPattern }
                let tie = err.magnitude == s.ulp * 0.5
                return adjust(s, err > 0, tie, rm).bitPattern
            }
        }
        return softAdd(a, b, f64, rm, &flags)
    }

    public static func sub64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        return add64(a, b ^ 0x8000_0000_0000_0000, rm, &flags)
    }

    public static func mul64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = Double(bitPattern: a), y = Double(bitPattern: b)
        let p = x * y
        let ep = bexp64(p.bitPattern)
        if ep >= 0x40 && ep <= 0x7fc {
            let err = (-p).addingProduct(x, y)  // x*y - p, exact
            if err == 0 { return p.bitPattern }
            flags |= NX
            if rm == 0 { return p.bitPattern }
            let tie = err.magnitude == p.ulp * 0.5
            return adjust(p, err > 0, tie, rm).bitPattern
        }
        return softMul(a, b, f64, rm, &flags)
    }

    public static func div64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let ea = bexp64(a), eb = bexp64(b)
        if ea >= 0x40 && ea <= 0x7fc && eb != 0 && eb <= 0x7fc {
            let x = Double(bitPattern: a), y = Double(bitPattern: b)
            let q = x / y
            let eq = bexp64(q.bitPattern)
            if eq >= 0x40 && eq <= 0x7fc {
                let r = x.addingProduct(-q, y)  // x - q*y, exact
                if r == 0 { return q.bitPattern }
                flags |= NX
                if rm == 0 { return q.bitPattern }
                // No ties are possible in division.
                return adjust(q, (r > 0) == (y > 0), false, rm).bitPattern
            }
        }
        return softDiv(a, b, f64, rm, &flags)
    }

    public static func sqrt64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let ea = bexp64(a)
        if (a >> 63) == 0 && ea >= 0x80 && ea <= 0x7fe {
            let x = Double(bitPattern: a)
            let s = x.squareRoot()
            let r = x.addingProduct(-s, s)  // x - s*s, exact
            if r == 0 { return s.bitPattern }
            flags |= NX
            if rm == 0 { return s.bitPattern }
            // No ties are possible in square root.
            return adjust(s, r > 0, false, rm).bitPattern
        }
        return softSqrt(a, f64, rm, &flags)
    }

    public static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ rm: UInt8,
                             _ flags: inout UInt64) -> UInt64 {
        // Host fast path: finite nonzero normal factors, product and result comfortably normal. The host's
        // fused multiply-add rounds to nearest; the exact error (x*y + z) - r, as a nonoverlapping
        // expansion (Shewchuk's TwoSum and Grow-Expansion), gives NX, the directed roundings and RMM's ties.
        let ea = bexp64(a), eb = bexp64(b), ec = bexp64(c)
        if ea != 0 && ea != 0x7ff && eb != 0 && eb != 0x7ff && ec <= 0x7fc {
            var x = Double(bitPattern: a), z = Double(bitPattern: c)
            let y = Double(bitPattern: b)
            if op == 2 || op == 3 { x = -x }
            if op == 1 || op == 3 { z = -z }
            let p = x * y, ep = bexp64(p.bitPattern)
            let r = z.addingProduct(x, y), er = bexp64(r.bitPattern)
            if ep >= 0x40 && ep <= 0x7fc && er >= 0x40 && er <= 0x7fc {
                let pe = (-p).addingProduct(x, y)               // x*y - p, exact
                let (s1, e1) = twoSum(p, z)                      // p + z = s1 + e1
                let m = r.magnitude, n = s1.magnitude
                if (s1 > 0) == (r > 0), n <= 2 * m, m <= 2 * n {
                    let d = s1 - r                               // exact (Sterbenz)
                    let (u, ue) = twoSum(d, e1)
                    let (q1, h1) = twoSum(ue, pe)
                    let (h3, h2) = twoSum(u, q1)                 // error = h3 + h2 + h1, nonoverlapping
                    if h3 == 0 && h2 == 0 && h1 == 0 { return r.bitPattern }
                    flags |= NX
                    if rm == 0 { return r.bitPattern }
                    let top = h3 != 0 ? h3 : (h2 != 0 ? h2 : h1)
                    let (t, te) = twoSum(h3, h2)
                    let tie = h1 == 0 && te == 0 && t.magnitude == r.ulp * 0.5
                    return adjust(r, top > 0, tie, rm).bitPattern
                }
            }
        }
        return softFma(a, b, c, op, f64, rm, &flags)
    }
    /// a + b = s + e exactly (Knuth's TwoSum), for finite a, b whose sum does not overflow.
    @inline(__always) static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b, bb = s - a
        return (s, (a - (s - bb)) + (b - bb))
    }

    // MARK: - Single precision arithmetic

    public static func add32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let x = Double(Float(bitPattern: a)), y = Double(Float(bitPattern: b))
        let s = x + y
        let bb = s - x
        let err = (x - (s - bb)) + (y - bb)
        if s.isFinite && !err.isNaN {
            if let r = finish32(s, err == 0 ? 0 : (err > 0 ? 1 : -1), rm, &flags) { return r }
        }
        return UInt32(truncatingIfNeeded: softAdd(UInt64(a), UInt64(b), f32, rm, &flags))
    }

    public static func sub32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        return add32(a, b ^ 0x8000_0000, rm, &flags)
    }

    public static func mul32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let p = Double(Float(bitPattern: a)) * Double(Float(bitPattern: b))  // exact
        if let r = finish32(p, 0, rm, &flags) { return r }
        return UInt32(truncatingIfNeeded: softMul(UInt64(a), UInt64(b), f32, rm, &flags))
    }

    public static func div32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let x = Double(Float(bitPattern: a)), y = Double(Float(bitPattern: b))
        let q = x / y
        if q.isFinite && q != 0 {
            let r = x.addingProduct(-q, y)  // exact remainder
            let lo = r == 0 ? 0 : ((r > 0) == (y > 0) ? 1 : -1)
            if let res = finish32(q, lo, rm, &flags) { return res }
        }
        return UInt32(truncatingIfNeeded: softDiv(UInt64(a), UInt64(b), f32, rm, &flags))
    }

    public static func sqrt32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let x = Double(Float(bitPattern: a))
        if x > 0 && x.isFinite {
            let s = x.squareRoot()
            let r = x.addingProduct(-s, s)
            if let res = finish32(s, r == 0 ? 0 : (r > 0 ? 1 : -1), rm, &flags) { return res }
        }
        return UInt32(truncatingIfNeeded: softSqrt(UInt64(a), f32, rm, &flags))
    }

    public static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ op: UInt8, _ rm: UInt8,
                             _ flags: inout UInt64) -> UInt32 {
        var x = Double(Float(bitPattern: a))
        let y = Double(Float(bitPattern: b))
        var z = Double(Float(bitPattern: c))
        if op == 2 || op == 3 { x = -x }
        if op == 1 || op == 3 { z = -z }
        let p = x * y  // exact
        let s = p + z
        let bb = s - p
        let err = (p - (s - bb)) + (z - bb)
        if s.isFinite && !err.isNaN {
            if let r = finish32(s, err == 0 ? 0 : (err > 0 ? 1 : -1), rm, &flags) { return r }
        }
        return UInt32(truncatingIfNeeded: softFma(UInt64(a), UInt64(b), UInt64(c), op, f32, rm, &flags))
    }

    // MARK: - Min / max / compare / classify (generic on bits)

    @inline(__always)
    static func minMax<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ isMax: Bool, _ flags: inout UInt64) -> UInt64 {
        let an = isNaN(a, f), bn = isNaN(b, f)
        if an || bn {
            if isSNaN(a, f) || isSNaN(b, f) { flags |= NV }
            if an && bn { return f.qnan }
            return an ? b : a
        }
        let aLess = lessBits(a, b, f)
        if isMax { return aLess ? b : a }
        return aLess ? a : b
    }

    /// Total "less than" on non-NaN values where -0 < +0.
    @inline(__always)
    static func lessBits<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type) -> Bool {
        let sa = (a & f.signBit) != 0, sb = (b & f.signBit) != 0
        let ma = a & ~f.signBit, mb = b & ~f.signBit
        if sa != sb { return sa }  // negative (incl. -0) < positive (incl. +0)
        if sa { return ma > mb }
        return ma < mb
    }

    @inline(__always)
    static func isZeroBits<F: FPUFormat>(_ a: UInt64, _ f: F.Type) -> Bool { (a & ~f.signBit) == 0 }

    @inline(__always)
    static func feq<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ flags: inout UInt64) -> UInt64 {
        if isNaN(a, f) || isNaN(b, f) {
            if isSNaN(a, f) || isSNaN(b, f) { flags |= NV }
            return 0
        }
        if a == b { return 1 }
        return (isZeroBits(a, f) && isZeroBits(b, f)) ? 1 : 0
    }

    @inline(__always)
    static func flt<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ orEqual: Bool, _ flags: inout UInt64) -> UInt64 {
        if isNaN(a, f) || isNaN(b, f) { flags |= NV; return 0 }
        if isZeroBits(a, f) && isZeroBits(b, f) { return orEqual ? 1 : 0 }
        if a == b { return orEqual ? 1 : 0 }
        return lessBits(a, b, f) ? 1 : 0
    }

    static func classify<F: FPUFormat>(_ a: UInt64, _ f: F.Type) -> UInt64 {
        let x = unpack(a, f)
        switch x.cls {
        case .inf: return x.sign ? 1 << 0 : 1 << 7
        case .zero: return x.sign ? 1 << 3 : 1 << 4
        case .snan: return 1 << 8
        case .qnan: return 1 << 9
        case .finite:
            let sub = ((a >> UInt64(f.fb)) & f.expAllOnes) == 0
            if x.sign { return sub ? 1 << 2 : 1 << 1 }
            return sub ? 1 << 5 : 1 << 6
        }
    }

    public static func min64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt64) -> UInt64 { minMax(a, b, f64, false, &flags) }
    public static func max64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt64) -> UInt64 { minMax(a, b, f64, true, &flags) }
    public static func eq64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt64) -> UInt64 { feq(a, b, f64, &flags) }
    public static func lt64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt64) -> UInt64 { flt(a, b, f64, false, &flags) }
    public static func le64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt64) -> UInt64 { flt(a, b, f64, true, &flags) }
    public static func classify64(_ a: UInt64) -> UInt64 { classify(a, f64) }

    public static func min32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: minMax(UInt64(a), UInt64(b), f32, false, &flags))
    }
    public static func max32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: minMax(UInt64(a), UInt64(b), f32, true, &flags))
    }
    public static func eq32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt64) -> UInt64 { feq(UInt64(a), UInt64(b), f32, &flags) }
    public static func lt32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt64) -> UInt64 { flt(UInt64(a), UInt64(b), f32, false, &flags) }
    public static func le32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt64) -> UInt64 { flt(UInt64(a), UInt64(b), f32, true, &flags) }
    public static func classify32(_ a: UInt32) -> UInt64 { classify(UInt64(a), f32) }

    // MARK: - Float -> integer conversions

    /// Converts to an integer of `width` bits (32 or 64), signed or unsigned,
    /// saturating per RISC-V. 32-bit results are sign-extended to 64 bits.
    static func toInt<F: FPUFormat>(_ a: UInt64, _ f: F.Type, _ rm: UInt8, _ signed: Bool, _ width: Int,
                      _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f)
        let maxPos: UInt128 = signed ? (UInt128(1) << UInt128(width - 1)) - 1 : (UInt128(1) << UInt128(width)) - 1
        let maxNegMag: UInt128 = signed ? (UInt128(1) << UInt128(width - 1)) : 0
        var sign = x.sign
        var mag: UInt128 = 0
        var inexact = false
        var invalid = false
        switch x.cls {
        case .qnan, .snan:
            invalid = true; sign = false
        case .inf:
            invalid = true
        case .zero:
            mag = 0
        case .finite:
            let bits = 64 - x.sig.leadingZeroBitCount
            if x.exp >= 0 {
                if bits + x.exp > 66 {
                    invalid = true
                } else {
                    mag = UInt128(x.sig) << UInt128(x.exp)
                }
            } else {
                (mag, inexact) = roundTo(UInt128(x.sig), x.exp, false, 0, x.sign, rm)
            }
            if !invalid {
                if sign { invalid = mag > maxNegMag } else { invalid = mag > maxPos }
            }
        }
        var result: UInt64
        if invalid {
            flags |= NV
            if sign {
                result = signed ? UInt64(truncatingIfNeeded: 0 &- maxNegMag) : 0
            } else {
                result = UInt64(truncatingIfNeeded: maxPos)
            }
        } else {
            if inexact { flags |= NX }
            let m = UInt64(truncatingIfNeeded: mag)
            result = sign ? 0 &- m : m
        }
        if width == 32 {
            result = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: result)))
        }
        return result
    }

    /// Host fast path for float -> integer conversion of values with |x| < 2^31.
    @inline(__always)
    static func toIntFast(_ x: Double, _ rm: UInt8, _ signed: Bool, _ width: Int,
                          _ flags: inout UInt64) -> UInt64? {
        guard x.magnitude < 2147483648.0 else { return nil }  // also rejects NaN
        let i: Int64
        let exact: Bool
        if rm == 1 {
            i = Int64(x)
            exact = Double(i) == x
        } else {
            let r: Double
            switch rm {
            case 0: r = x.rounded(.toNearestOrEven)
            case 2: r = x.rounded(.down)
            case 3: r = x.rounded(.up)
            default: r = x.rounded(.toNearestOrAwayFromZero)
            }
            i = Int64(r)
            exact = r == x
        }
        if signed {
            if width == 32 && i > Int64(Int32.max) { return nil }
        } else if i < 0 {
            return nil
        }
        if !exact { flags |= NX }
        if width == 32 { return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: i))) }
        return UInt64(bitPattern: i)
    }

    public static func cvtW64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(bitPattern: a), rm, true, 32, &flags) { return r }
        return toInt(a, f64, rm, true, 32, &flags)
    }
    public static func cvtWU64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(bitPattern: a), rm, false, 32, &flags) { return r }
        return toInt(a, f64, rm, false, 32, &flags)
    }
    public static func cvtL64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(bitPattern: a), rm, true, 64, &flags) { return r }
        return toInt(a, f64, rm, true, 64, &flags)
    }
    public static func cvtLU64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(bitPattern: a), rm, false, 64, &flags) { return r }
        return toInt(a, f64, rm, false, 64, &flags)
    }
    public static func cvtW32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(Float(bitPattern: a)), rm, true, 32, &flags) { return r }
        return toInt(UInt64(a), f32, rm, true, 32, &flags)
    }
    public static func cvtWU32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(Float(bitPattern: a)), rm, false, 32, &flags) { return r }
        return toInt(UInt64(a), f32, rm, false, 32, &flags)
    }
    public static func cvtL32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(Float(bitPattern: a)), rm, true, 64, &flags) { return r }
        return toInt(UInt64(a), f32, rm, true, 64, &flags)
    }
    public static func cvtLU32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if let r = toIntFast(Double(Float(bitPattern: a)), rm, false, 64, &flags) { return r }
        return toInt(UInt64(a), f32, rm, false, 64, &flags)
    }

    // MARK: - Integer -> float conversions

    @inline(__always)
    static func fromInt<F: FPUFormat>(_ sign: Bool, _ mag: UInt64, _ f: F.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if mag == 0 { return 0 }
        return roundPack(sign, UInt128(mag), 0, false, f, rm, &flags)
    }

    @inline(__always)
    static func signedParts(_ v: Int64) -> (Bool, UInt64) {
        return v < 0 ? (true, 0 &- UInt64(bitPattern: v)) : (false, UInt64(bitPattern: v))
    }

    public static func cvt64FromW(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        return Double(Int32(truncatingIfNeeded: a)).bitPattern  // always exact
    }
    public static func cvt64FromWU(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        return Double(UInt32(truncatingIfNeeded: a)).bitPattern  // always exact
    }
    public static func cvt64FromL(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let v = Int64(bitPattern: a)
        if v > -(1 << 53) && v < (1 << 53) { return Double(v).bitPattern }
        let (s, m) = signedParts(v)
        return fromInt(s, m, f64, rm, &flags)
    }
    public static func cvt64FromLU(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        if a < (1 << 53) { return Double(a).bitPattern }
        return fromInt(false, a, f64, rm, &flags)
    }
    public static func cvt32FromW(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let v = Int64(Int32(truncatingIfNeeded: a))
        if v > -(1 << 24) && v < (1 << 24) { return Float(v).bitPattern }
        let (s, m) = signedParts(v)
        return UInt32(truncatingIfNeeded: fromInt(s, m, f32, rm, &flags))
    }
    public static func cvt32FromWU(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let v = a & 0xffff_ffff
        if v < (1 << 24) { return Float(v).bitPattern }
        return UInt32(truncatingIfNeeded: fromInt(false, v, f32, rm, &flags))
    }
    public static func cvt32FromL(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let v = Int64(bitPattern: a)
        if v > -(1 << 24) && v < (1 << 24) { return Float(v).bitPattern }
        let (s, m) = signedParts(v)
        return UInt32(truncatingIfNeeded: fromInt(s, m, f32, rm, &flags))
    }
    public static func cvt32FromLU(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        if a < (1 << 24) { return Float(a).bitPattern }
        return UInt32(truncatingIfNeeded: fromInt(false, a, f32, rm, &flags))
    }

    // MARK: - Float <-> double

    public static func cvt32From64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt32 {
        let x = unpack(a, f64)
        let s: UInt32 = x.sign ? 0x8000_0000 : 0
        switch x.cls {
        case .snan: flags |= NV; return canonicalNaN32
        case .qnan: return canonicalNaN32
        case .inf: return s | 0x7f80_0000
        case .zero: return s
        case .finite:
            return UInt32(truncatingIfNeeded: roundPack(x.sign, UInt128(x.sig), x.exp, false, f32, rm, &flags))
        }
    }

    /// Converts between formats (Zfhmin's half-precision conversions): NaNs become the target's
    /// canonical NaN (invalid for a signaling one), finite values are rounded with `rm`.
    static func convert<S: FPUFormat, D: FPUFormat>(_ a: UInt64, from: S.Type, to: D.Type, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, S.self)
        let s: UInt64 = x.sign ? D.signBit : 0
        switch x.cls {
        case .snan: flags |= NV; return D.qnan
        case .qnan: return D.qnan
        case .inf: return s | D.inf
        case .zero: return s
        case .finite: return roundPack(x.sign, UInt128(x.sig), x.exp, false, D.self, rm, &flags)
        }
    }
    public static func cvt16From32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: convert(UInt64(a), from: FPUSingle.self, to: FPUHalf.self, rm, &flags))
    }
    public static func cvt16From64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: convert(a, from: FPUDouble.self, to: FPUHalf.self, rm, &flags))
    }
    public static func cvt32From16(_ a: UInt16, _ flags: inout UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: convert(UInt64(a), from: FPUHalf.self, to: FPUSingle.self, 0, &flags))
    }
    public static func cvt64From16(_ a: UInt16, _ flags: inout UInt64) -> UInt64 {
        convert(UInt64(a), from: FPUHalf.self, to: FPUDouble.self, 0, &flags)
    }

    public static func cvt64From32(_ a: UInt32, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(UInt64(a), f32)
        let s: UInt64 = x.sign ? 0x8000_0000_0000_0000 : 0
        switch x.cls {
        case .snan: flags |= NV; return canonicalNaN64
        case .qnan: return canonicalNaN64
        case .inf: return s | 0x7ff0_0000_0000_0000
        case .zero: return s
        case .finite:
            return roundPack(x.sign, UInt128(x.sig), x.exp, false, f64, 0, &flags)
        }
    }
}

// MARK: - Format descriptions (generic parameters so the soft-float core is
// specialized per format with all constants folded).

protocol FPUFormat {
    static var fb: Int { get }  // fraction bits
    static var eb: Int { get }  // exponent bits
}

extension FPUFormat {
    @inline(__always) static var bias: Int { (1 << (eb - 1)) - 1 }
    @inline(__always) static var expAllOnes: UInt64 { (1 << UInt64(eb)) - 1 }
    @inline(__always) static var fracMask: UInt64 { (1 << UInt64(fb)) - 1 }
    @inline(__always) static var signBit: UInt64 { 1 << UInt64(fb + eb) }
    @inline(__always) static var qnan: UInt64 { (expAllOnes << UInt64(fb)) | (1 << UInt64(fb - 1)) }
    @inline(__always) static var inf: UInt64 { expAllOnes << UInt64(fb) }
    @inline(__always) static var maxFinite: UInt64 { ((expAllOnes - 1) << UInt64(fb)) | fracMask }
}

enum FPUDouble: FPUFormat {
    @inline(__always) static var fb: Int { 52 }
    @inline(__always) static var eb: Int { 11 }
}

enum FPUHalf: FPUFormat {
    @inline(__always) static var fb: Int { 10 }
    @inline(__always) static var eb: Int { 5 }
}

enum FPUSingle: FPUFormat {
    @inline(__always) static var fb: Int { 23 }
    @inline(__always) static var eb: Int { 8 }
}

extension FPU {
    /// The exact soft-float paths, public so tests can cross-check the host fast paths against them.
    public enum Reference {
        public static func add(_ a: UInt64, _ b: UInt64, single: Bool, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
            single ? FPU.softAdd(a, b, FPU.f32, rm, &flags) : FPU.softAdd(a, b, FPU.f64, rm, &flags)
        }
        public static func mul(_ a: UInt64, _ b: UInt64, single: Bool, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
            single ? FPU.softMul(a, b, FPU.f32, rm, &flags) : FPU.softMul(a, b, FPU.f64, rm, &flags)
        }
        public static func div(_ a: UInt64, _ b: UInt64, single: Bool, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
            single ? FPU.softDiv(a, b, FPU.f32, rm, &flags) : FPU.softDiv(a, b, FPU.f64, rm, &flags)
        }
        public static func sqrt(_ a: UInt64, single: Bool, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
            single ? FPU.softSqrt(a, FPU.f32, rm, &flags) : FPU.softSqrt(a, FPU.f64, rm, &flags)
        }
        public static func fma(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, single: Bool, _ rm: UInt8, _ flags: inout UInt64) -> UInt64 {
            single ? FPU.softFma(a, b, c, op, FPU.f32, rm, &flags) : FPU.softFma(a, b, c, op, FPU.f64, rm, &flags)
        }
    }
}
