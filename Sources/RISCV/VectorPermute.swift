import Platform
// Vector reductions, mask instructions, slides, gathers, compress and whole-register moves (V 1.0, §31).

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorPermute(_ vi: VInst) -> Bool? {
        nil
    }
}
