import Platform
// Snapshot of a hart's architectural state. TLBs and decoded ops are caches: they are flushed, not saved.

extension Hart: Stateful {
    public func saveState(_ w: inout StateWriter) {
        w.section("hart", version: 5) { w in
            w.u64(UInt64(id)); w.u64(pc); w.u8(prv)
            for i in 0..<32 { w.u64(x[i]) }
            for i in 0..<32 { w.u64(f[i]) }
            let csrs: [UInt64] = [mstatus, medeleg, mideleg, mie, mipSoft, mipExt, mtvec, mscratch, mepc, mcause, mtval,
                                  mcounteren, menvcfg, mcountinhibit, cycleOffset, instretOffset, stvec, sscratch, sepc,
                                  scause, stval, satp, scounteren, senvcfg, stimecmp, fcsr, instret, reservation]
            w.u64s(csrs)
            w.blob(pmpcfg)
            w.u64s(pmpaddr)
            w.bool(waitingForInterrupt); w.bool(running)
            // Version 2: H extension state.
            w.bool(virt)
            w.u64s(hypervisorState)
            // Version 3: Smstateen.
            w.u64s(mstateen + hstateen)
            // Version 4: V.
            w.u64s([UInt64(vlenb), vtype, vl, vstart, vxrm, vxsat])
            w.blob([UInt8](UnsafeRawBufferPointer(start: vreg, count: 32 * vlenb)))
            // Counters (Sscofpmf): the events, the programmable counters' values, cycle and instret while inhibited.
            w.u64s(hpmEvent + (0..<Hart.hpmCounters).map { hpmCounter($0) } + [cycleFrozen, instretFrozen])
            // Version 5: no new fields; mstateen0/hstateen0 gate the AIA CSRs (before, they were open).
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("hart", versions: 1...5) { r, version in
            let savedID = try r.u64()
            guard savedID == UInt64(id) else { throw StateError("hart state is for hart \(savedID), not \(id)") }
            let newPC = try r.u64()
            let newPrv = try r.u8()
            guard newPrv == Priv.user || newPrv == Priv.supervisor || newPrv == Priv.machine else {
                throw StateError("corrupt hart state: privilege level \(newPrv)")
            }
            var regs = [UInt64](), fregs = [UInt64]()
            for _ in 0..<32 { regs.append(try r.u64()) }
            for _ in 0..<32 { fregs.append(try r.u64()) }
            let c = try r.u64s(max: 64)
            guard c.count == 28 else { throw StateError("corrupt hart state: \(c.count) CSR values, expected 28") }
            let cfg = try r.blob(max: 16)
            let addrs = try r.u64s(max: 16)
            guard cfg.count == 16, addrs.count == 16 else { throw StateError("corrupt hart state: PMP tables") }
            let waiting = try r.bool(), isRunning = try r.bool()
            var newVirt = false
            var h = Hart.defaultHypervisorState
            if version >= 2 {
                newVirt = try r.bool()
                guard !newVirt || hypervisorExtension else {
                    throw StateError("hart state is in a virtualized mode (V=1) but this hart has no H extension")
                }
                h = try r.u64s(max: 64)
                guard h.count == Hart.defaultHypervisorState.count else {
                    throw StateError("corrupt hart state: \(h.count) hypervisor CSR values, expected \(Hart.defaultHypervisorState.count)")
                }
            }
            // A state from before Smstateen had nothing gated: keep it so (SE and ENVCFG set).
            var stateEnables = [Hart.stateEnableWritable(0, aia: aia != nil), 1 << 63, 1 << 63, 1 << 63]
            stateEnables += stateEnables
            if version >= 3 {
                stateEnables = try r.u64s(max: 8)
                guard stateEnables.count == 8 else { throw StateError("corrupt hart state: \(stateEnables.count) state-enable values, expected 8") }
            }
            var vector: [UInt64] = [UInt64(vlenb), 1 << 63, 0, 0, 0, 0]
            var counters = [UInt64](repeating: 0, count: 2 * Hart.hpmCounters + 2)
            var vregs = [UInt8](repeating: 0, count: 32 * vlenb)
            if version >= 4 {
                vector = try r.u64s(max: 8)
                guard vector.count == 6 else { throw StateError("corrupt hart state: \(vector.count) vector CSR values, expected 6") }
                guard vector[0] == UInt64(vlenb) else {
                    throw StateError("hart state has VLEN \(vector[0] * 8) but this hart has VLEN \(vlenb * 8): start it with --vlen \(vector[0] * 8)")
                }
                vregs = try r.blob(max: 32 * Hart.maxVLEN / 8)
                guard vregs.count == 32 * vlenb else { throw StateError("corrupt hart state: \(vregs.count) bytes of vector registers") }
                counters = try r.u64s(max: 64)
                guard counters.count == 2 * Hart.hpmCounters + 2 else { throw StateError("corrupt hart state: \(counters.count) counter values") }
            }
            // Validated: commit.
            pc = newPC; prv = newPrv
            for i in 0..<32 { x[i] = regs[i]; f[i] = fregs[i] }
            x[32] = 0
            (mstatus, medeleg, mideleg, mie, mipSoft, mipExt, mtvec, mscratch, mepc, mcause, mtval) =
                (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
            (mcounteren, menvcfg, mcountinhibit, cycleOffset, instretOffset, stvec, sscratch, sepc) =
                (c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18])
            (scause, stval, satp, scounteren, senvcfg, stimecmp, fcsr, instret, reservation) =
                (c[19], c[20], c[21], c[22], c[23], c[24], c[25], c[26], c[27])
            // The LR's value is not saved: an SC right after a restore fails (the guest's loop retries).
            reservation = .max
            pmpcfg = cfg; pmpaddr = addrs; rebuildPMP()
            waitingForInterrupt = waiting; running = isRunning
            virt = newVirt
            hypervisorState = h
            if version < 5 && aia != nil {
                stateEnables[0] |= Hart.aiaStateEnables
                stateEnables[4] |= Hart.aiaStateEnables
            }
            for i in 0..<4 {
                mstateen[i] = stateEnables[i] & Hart.stateEnableWritable(i, aia: aia != nil)
                hstateen[i] = stateEnables[4 + i] & mstateen[i]
            }
            (vtype, vl, vstart, vxrm, vxsat) = (vector[1], vector[2], vector[3], vector[4] & 3, vector[5] & 1)
            vregs.withUnsafeBytes { vreg.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            roundStartInstret = instret
            for k in 0..<Hart.hpmCounters {
                hpmEvent[k] = counters[k] & Hart.hpmEventWritable
                setHPMCounter(k, counters[Hart.hpmCounters + k])
            }
            (cycleFrozen, instretFrozen) = (counters[2 * Hart.hpmCounters], counters[2 * Hart.hpmCounters + 1])
            flushAllTLB()
        }
    }
}

extension Hart {
    /// Values of the H-extension CSRs after reset, in snapshot order.
    static let defaultHypervisorState: [UInt64] = [2 << 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 << 32, 0, 0, 0, 0, 0, 0, 0, 0, .max]

    /// The H-extension CSRs in snapshot order (hie is part of mie; hip derives from hvip).
    var hypervisorState: [UInt64] {
        get {
            [hstatus, hedeleg, hideleg, hvip, hgeie, hcounteren, htimedelta, htval, htinst, hgatp, henvcfg,
             vsstatus, vstvec, vsscratch, vsepc, vscause, vstval, vsatp, mtval2, mtinst, vstimecmp]
        }
        set {
            let c = newValue
            (hstatus, hedeleg, hideleg, hvip, hgeie, hcounteren, htimedelta, htval, htinst, hgatp, henvcfg) =
                (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
            (vsstatus, vstvec, vsscratch, vsepc, vscause, vstval, vsatp, mtval2, mtinst, vstimecmp) =
                (c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18], c[19], c[20])
        }
    }
}
