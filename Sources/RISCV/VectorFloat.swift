import Platform
// Vector floating point (OPFVV/OPFVF), Zvfhmin (V 1.0, §31).

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorFloat(_ vi: VInst) -> Bool? {
        nil
    }
}
