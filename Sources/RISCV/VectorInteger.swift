import Platform
// Vector integer arithmetic, fixed-point, compares, merges and moves (OPIVV/OPIVX/OPIVI/OPMVV/OPMVX), Zvbb (V 1.0, §31).

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorInteger(_ vi: VInst) -> Bool? {
        nil
    }
}
