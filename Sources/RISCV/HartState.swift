import Platform
// Snapshot of a hart's architectural state. TLBs and decoded ops are caches: they are flushed, not saved.

extension Hart: Stateful {
    public func saveState(_ w: inout StateWriter) {
        w.section("hart", version: 3) { w in
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
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("hart", versions: 1...3) { r, version in
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
            var stateEnables = [Hart.stateEnableWritable(0), 1 << 63, 1 << 63, 1 << 63]
            stateEnables += stateEnables
            if version >= 3 {
                stateEnables = try r.u64s(max: 8)
                guard stateEnables.count == 8 else { throw StateError("corrupt hart state: \(stateEnables.count) state-enable values, expected 8") }
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
            pmpcfg = cfg; pmpaddr = addrs; rebuildPMP()
            waitingForInterrupt = waiting; running = isRunning
            virt = newVirt
            hypervisorState = h
            for i in 0..<4 {
                mstateen[i] = stateEnables[i] & Hart.stateEnableWritable(i)
                hstateen[i] = stateEnables[4 + i] & mstateen[i]
            }
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
