import Foundation

/// Images for the nested-virtualization demo: an L1 Linux (the default kernel, run with
/// `--hypervisor`) whose root disk holds Debian's qemu-system-riscv64 and kvm.ko, and runs an L2
/// Linux under `qemu -accel kvm`.
///
/// Layout, under `cacheDirectory + "/nested"`:
/// - `debs/`: while building, the .debs of qemu-system-riscv's dependency closure as apt resolved,
///   downloaded and checked them (deleted once the disk is written)
/// - `l1-disk.ext4`: the L1 root disk (raw ext4, attached read-only): the extracted packages,
///   busybox, kvm.ko + irqbypass.ko in /lib/modules, the kernel and L2 initramfs in /l2, `/init`
///   (`nestedDiskInitScript`) and `/usr/local/bin/run-l2`
/// - `l1-initramfs.cpio.gz`: mounts the disk read-only and switch_roots to it
/// - `l2-initramfs.cpio.gz`: L2's busybox initramfs (also on the disk as /l2/initrd.gz)
/// - `.complete`: written last; holds a fingerprint of the scripts, the left-out packages and the kernel
///   the images were built from
extension GuestImages {
    // MARK: Paths

    public static var nestedDirectory: String { cacheDirectory + "/nested" }
    /// The L1 root disk (raw ext4).
    public static var nestedDiskPath: String { nestedDirectory + "/l1-disk.ext4" }
    /// The L1 initramfs: loads the ext4 and virtio-blk modules, mounts /dev/vda read-only, switch_root.
    public static var nestedInitramfsPath: String { nestedDirectory + "/l1-initramfs.cpio.gz" }
    /// The L2 initramfs (a copy is /l2/initrd.gz on the disk).
    public static var nestedL2InitramfsPath: String { nestedDirectory + "/l2-initramfs.cpio.gz" }
    private static var nestedStampPath: String { nestedDirectory + "/.complete" }

    /// The packages whose closure goes on the disk: QEMU for L2, and perf (`perf stat` in L1, and in L2
    /// through L1's disk, which run-l2 attaches to L2 read-only).
    static let nestedRootPackages = ["qemu-system-riscv", "linux-perf"]
    /// Packages left out of the closure (with what only they need): essential or needed only by
    /// maintainer scripts, which `dpkg-deb -x` never runs. apt is told they are installed.
    static let nestedSkippedPackages: Set<String> = [
        "debconf", "dpkg", "perl-base", "debianutils", "init-system-helpers", "adduser", "passwd",
        "libpam-runtime", "sensible-utils",
    ]
    /// Modules for the L1 initramfs (in load order): virtio-blk and ext4.
    static let nestedInitramfsModules = ["virtio_mmio", "virtio_blk", "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"]
    /// Modules on the L1 disk (in load order): KVM.
    static let nestedDiskModules = ["irqbypass", "kvm"]
    /// Documentation and translations: not needed to run qemu, ~20 MB.
    static let nestedPrunedDirectories = ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "usr/share/lintian"]

    /// True when the nested images are built and match the current scripts and kernel.
    public static var isNestedFetched: Bool {
        let fm = FileManager.default
        guard [nestedDiskPath, nestedInitramfsPath].allSatisfy({ fm.fileExists(atPath: $0) }),
              let stamp = try? String(contentsOfFile: nestedStampPath, encoding: .utf8) else { return false }
        return stamp == nestedFingerprint
    }

    /// Changes when a script, the left-out packages or the kernel change, so `fetchNested` rebuilds
    /// the images (and only then runs apt: an up-to-date check reads two files).
    private static var nestedFingerprint: String {
        let kernelTarget = (try? FileManager.default.destinationOfSymbolicLink(atPath: kernelPath)) ?? kernelPath
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for text in [nestedInitramfsScript, nestedDiskInitScript, nestedRunL2Script, nestedL2InitScript, kernelTarget,
                     nestedSkippedPackages.sorted().joined(separator: " "), nestedRootPackages.joined(separator: " ")] {
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xff) &* 0x100_0000_01b3
        }
        return "nested-images v2 " + String(hash, radix: 16) + "\n"
    }

    /// Checks that the L1 disk looks like an ext4 image (superblock magic 0xEF53 at byte 1080), so
    /// a truncated or overwritten disk is reported before booting a guest that cannot mount it.
    public static func checkNestedDisk() throws {
        let path = nestedDiskPath
        let fix = "delete it and run `matryoshka images fetch --nested` to rebuild it"
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GuestImageError("the nested L1 disk \(path) is missing or unreadable: run `matryoshka images fetch --nested`")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 2048)) ?? Data()
        guard head.count == 2048, head[1080] == 0x53, head[1081] == 0xEF else {
            throw GuestImageError("the nested L1 disk \(path) is not an ext4 image (corrupt or truncated): \(fix)")
        }
    }

    // MARK: Scripts

    /// /init of the L1 initramfs: mount the disk read-only (the image in the cache never changes,
    /// and several VMs can share it) and switch to it. Failure powers off through sifive_test with
    /// code 1, so matryoshka exits non-zero.
    static let nestedInitramfsScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        # The message goes to the tty and to the kernel log: a tty drains through interrupts, and the
        # power-off below may come first; the kernel console writes synchronously.
        fail() {
            echo "L1 initramfs: FAILED: $*"
            echo "<3>L1 initramfs: FAILED: $*" > /dev/kmsg
            sleep 1
            devmem 0x100000 32 0x13333   # sifive_test: fail with code 1
            reboot -f                    # if /dev/mem is not usable: a reset also makes matryoshka exit 1
        }
        for m in \(nestedInitramfsModules.joined(separator: " ")); do
            insmod /lib/modules/$m.ko || echo "L1 initramfs: insmod $m.ko failed"
        done
        mount -t ext4 -o ro /dev/vda /mnt || fail "cannot mount /dev/vda (ext4) read-only: is the first --disk the nested L1 disk? (matryoshka images fetch --nested builds it)"
        [ -x /mnt/init ] || fail "/dev/vda has no /init: not the nested L1 disk"
        umount /proc /sys /dev
        exec switch_root /mnt /init
        """

    /// `/usr/local/bin/run-l2` on the disk: starts the L2 guest. `run-l2 shell` gives L2 a shell.
    static let nestedRunL2Script = """
        #!/bin/busybox sh
        # Starts the L2 guest under KVM, with one vCPU per L1 CPU. Arguments are added to L2's kernel
        # command line ("shell": a shell in L2). When L1's board has AIA (IMSICs in the device tree), L2's
        # board gets it too, and KVM delivers L2's interrupts through IMSIC guest files.
        extra=""
        for a in "$@"; do [ "$a" = shell ] && extra="$extra nested=shell" || extra="$extra $a"; done
        machine=virt
        grep -qs riscv,imsics /sys/firmware/devicetree/base/soc/*/compatible && machine=virt,aia=aplic-imsic
        # L1's root disk goes to L2 read-only (L2's shell mounts it at /l1, for perf).
        exec qemu-system-riscv64 -M $machine -accel kvm -cpu host -m 256M -smp $(nproc) -nographic -no-reboot \\
            -kernel /l2/Image -initrd /l2/initrd.gz -append "console=ttyS0 quiet cryptomgr.notests$extra" \\
            -drive file=/dev/vda,format=raw,if=none,readonly=on,id=l1root -device virtio-blk-device,drive=l1root
        """

    /// /init of the L1 disk. The kernel command line picks the mode: `nested=demo` (default) runs L2
    /// once and powers off, reporting failure through sifive_test; `nested=shell` gives a shell.
    static let nestedDiskInitScript = """
        #!/bin/busybox sh
        # Root is read-only: busybox applets and everything written go to tmpfs.
        busybox mount -t proc proc /proc
        busybox mount -t sysfs sysfs /sys
        busybox mount -t devtmpfs devtmpfs /dev
        busybox mount -t tmpfs tmpfs /tmp
        busybox mount -t tmpfs tmpfs /run
        busybox mkdir -p /run/bb /dev/shm /dev/pts
        busybox --install -s /run/bb
        export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/run/bb HOME=/root TERM=vt100
        mount -t tmpfs tmpfs /dev/shm
        mount -t devpts devpts /dev/pts
        hostname l1
        # As in the initramfs: the kernel log as well, since power-off may come before the tty drains.
        fail() {
            echo "L1: FAILED: $*"
            echo "<3>L1: FAILED: $*" > /dev/kmsg
            sync
            sleep 1
            devmem 0x100000 32 0x13333   # sifive_test: power off reporting failure code 1
            reboot -f                    # if /dev/mem is not usable: a reset also makes matryoshka exit 1
        }
        mode=demo
        for word in $(cat /proc/cmdline); do
            case "$word" in nested=*) mode=${word#nested=} ;; esac
        done
        for m in \(nestedDiskModules.joined(separator: " ")); do
            insmod /lib/modules/$m.ko || fail "insmod $m.ko failed (kvm needs the H extension: run matryoshka with --hypervisor)"
        done
        [ -c /dev/kvm ] || fail "/dev/kvm is missing after loading kvm.ko"
        echo
        echo "=== Matryoshka L1: Linux $(uname -r), $(grep -c '^processor' /proc/cpuinfo) CPU(s), /dev/kvm ready, $(qemu-system-riscv64 --version | head -n 1) ==="
        case "$mode" in
        shell)
            echo "    Start the L2 guest:  run-l2        (L2 boots, prints its banner and powers off)"
            echo "                         run-l2 shell  (a shell in L2; exit it to power L2 off)"
            echo "    run-l2 = qemu-system-riscv64 -M virt[,aia=aplic-imsic on an AIA board] -accel kvm -cpu host -m 256M -smp $(nproc) -nographic -no-reboot"
            echo "             -kernel /l2/Image -initrd /l2/initrd.gz -append 'console=ttyS0 quiet cryptomgr.notests'"
            echo "    perf stat -e instructions,cycles COMMAND counts in L1 (and, from /l1 in L2's shell, in L2)."
            echo "    In qemu, Ctrl-A X quits; under matryoshka on a terminal type Ctrl-A Ctrl-A X (Ctrl-A X quits matryoshka)."
            echo "    The root file system is read-only; /tmp is writable. Exit the shell to power off."
            echo
            export PS1='L1:\\w# '
            cd /root
            setsid cttyhack sh -l
            echo "L1: shell exited: powering off"
            poweroff -f
            ;;
        demo)
            echo "L1: starting L2: run-l2 (qemu-system-riscv64 -M $(grep -qs riscv,imsics /sys/firmware/devicetree/base/soc/*/compatible && echo virt,aia=aplic-imsic || echo virt) -accel kvm -cpu host -m 256M -smp $(nproc))"
            { run-l2; echo $? > /tmp/qemu.status; } 2>&1 | tee /tmp/l2.log
            status=$(cat /tmp/qemu.status 2>/dev/null)
            echo "L1: qemu-system-riscv64 exited with status ${status:-unknown}"
            [ "$status" = 0 ] || fail "qemu-system-riscv64 exited with status ${status:-unknown}"
            grep -q '^=== L2 guest' /tmp/l2.log || fail "L2 never printed its banner (did its kernel boot?)"
            echo "L1: L2 ran and powered off; powering off L1"
            poweroff -f
            ;;
        *)
            fail "unknown mode nested=$mode (use nested=demo or nested=shell)"
            ;;
        esac
        """

    /// /init of the L2 initramfs: a banner proving where it runs, then power off (or a shell with
    /// `nested=shell`).
    static let nestedL2InitScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        hostname l2
        echo "=== L2 guest (nested: Linux in KVM in Linux in Matryoshka): Linux $(uname -r), $(grep -c '^processor' /proc/cpuinfo) CPU(s), up $(cut -d ' ' -f 1 /proc/uptime) s ==="
        echo "    L2 $(grep -m 1 '^isa' /proc/cpuinfo | tr -s '\\t ' ' ')"
        echo "    L2 interrupt controllers: $(for n in /sys/firmware/devicetree/base/soc/*; do [ -e $n/interrupt-controller ] && echo "$(tr '\\0' '\\n' < $n/compatible | tail -n 1)@${n##*@}"; done | tr '\\n' ' ')"
        echo "    L2 console interrupts: $(grep ttyS0 /proc/interrupts | tr -s ' ')"
        if grep -q 'nested=shell' /proc/cmdline; then
            for m in \(nestedInitramfsModules.joined(separator: " ")); do insmod /lib/modules/$m.ko 2>/dev/null; done
            mkdir -p /l1
            if mount -t ext4 -o ro /dev/vda /l1 2>/dev/null; then
                mount -t proc proc /l1/proc; mount -t sysfs sysfs /l1/sys; mount -t devtmpfs devtmpfs /l1/dev; mount -t tmpfs tmpfs /l1/tmp
                echo "    L1's root disk is mounted read-only at /l1: chroot /l1 perf stat -e instructions,cycles COMMAND"
            fi
            echo "    L2 shell: exit it to power L2 off"
            export PS1='L2:\\w# '
            setsid cttyhack sh -l
        fi
        echo "L2: powering off"
        poweroff -f
        """

    // MARK: Build

    /// Builds the nested images (idempotent: quick when they are up to date). Fetches the base
    /// images first when they are missing. `progress` receives one line per step. `mirror` is the
    /// Debian archive to use (else `DebianMirror.find`'s choice).
    public static func fetchNested(mirror: String? = nil, progress: (String) -> Void) throws {
        try fetch(mirror: mirror, nested: true, progress: progress)
    }

    static func fetchNested(session: AptSession, progress: (String) -> Void) throws {
        let fm = FileManager.default
        if isNestedFetched {
            progress("nested images already present in \(nestedDirectory)")
            reportNestedPaths(progress: progress)
            return
        }
        for tool in ["dpkg-deb", "xz", "gzip"] where findExecutable(tool) == nil {
            throw GuestImageError("\(tool) not found: apt-get install \(tool == "dpkg-deb" ? "dpkg" : tool == "xz" ? "xz-utils" : tool)")
        }
        guard let mkfs = findExecutable("mkfs.ext4") else {
            throw GuestImageError("mkfs.ext4 not found (needed to write the L1 disk): apt-get install e2fsprogs")
        }
        let apt = try session.privateApt(progress: progress)
        if isNestedFetched {
            progress("nested images built by another matryoshka meanwhile")
            reportNestedPaths(progress: progress)
            return
        }
        let directory = nestedDirectory
        try makeDirectory(directory)
        try? fm.removeItem(atPath: nestedStampPath)

        progress("\(nestedRootPackages.joined(separator: " ")) and their dependencies, without \(nestedSkippedPackages.sorted().joined(separator: " "))")
        let debsDirectory = directory + "/debs"
        let debs = try apt.downloadClosure(of: nestedRootPackages, assumingInstalled: nestedSkippedPackages,
                                           into: debsDirectory, progress: progress)
        let debBytes = debs.reduce(UInt64(0)) { total, path in
            total + ((try? fm.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0)
        }
        progress(String(format: "%@: %d packages, %.0f MB of .debs (checked by apt against the signed index)",
                        nestedRootPackages.joined(separator: " + "), debs.count, Double(debBytes) / 1e6))

        let tree = directory + "/tree"
        try? fm.removeItem(atPath: tree)
        try makeDirectory(tree)
        defer { try? fm.removeItem(atPath: tree) }
        progress("extracting \(debs.count) packages into \(tree)")
        for deb in debs {
            _ = try run(["dpkg-deb", "-x", deb, tree])
        }
        try fixUpNestedTree(tree, progress: progress)

        let bytes = try treeSize(tree)
        // ext4 metadata (inodes, bitmaps, directories) plus room for what a shell user might add.
        let mib = ((bytes * 5 / 4) >> 20) + 64
        let diskMiB = (mib + 15) / 16 * 16
        progress(String(format: "writing the L1 disk %@ (%.0f MB of files, %d MiB ext4, mkfs.ext4 -d)", nestedDiskPath, Double(bytes) / 1e6, diskMiB))
        let tmpDisk = nestedDiskPath + ".tmp"
        try? fm.removeItem(atPath: tmpDisk)
        // No journal: the disk is only ever mounted read-only.
        _ = try run([mkfs, "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-L", "l1root", "-m", "0",
                     "-E", "root_owner=0:0", "-d", tree, tmpDisk, "\(diskMiB)M"])
        try? fm.removeItem(atPath: nestedDiskPath)
        do {
            try fm.moveItem(atPath: tmpDisk, toPath: nestedDiskPath)
        } catch {
            throw GuestImageError("cannot rename \(tmpDisk) to \(nestedDiskPath): \(error.localizedDescription)")
        }

        progress("building the L1 initramfs \(nestedInitramfsPath)")
        let modules = try requiredModules(nestedInitramfsModules)
        try buildInitramfs(init: nestedInitramfsScript,
                           extraFiles: modules.map { (guestPath: "/lib/modules/" + ($0 as NSString).lastPathComponent, hostPath: $0, mode: 0o644) },
                           to: nestedInitramfsPath)
        try removeIfPresent(debsDirectory)  // on the disk now; a rebuild downloads afresh
        try writeFile(nestedStampPath, nestedFingerprint)
        reportNestedPaths(progress: progress)
    }

    private static func reportNestedPaths(progress: (String) -> Void) {
        progress("L1 disk:      \(nestedDiskPath)")
        progress("L1 initramfs: \(nestedInitramfsPath)")
        progress("L2 initramfs: \(nestedL2InitramfsPath) (on the disk as /l2/initrd.gz)")
    }

    /// Turns the extracted packages into a bootable root: /usr-merge links, no docs, busybox,
    /// the KVM modules, the L2 kernel and initramfs, /init and run-l2.
    private static func fixUpNestedTree(_ tree: String, progress: (String) -> Void) throws {
        let fm = FileManager.default
        for dir in nestedPrunedDirectories { try? fm.removeItem(atPath: tree + "/" + dir) }
        // Debian is /usr-merged: /bin, /lib, /sbin are links into /usr (the dynamic loader is
        // /lib/ld-linux-riscv64-lp64d.so.1). Merge anything a package put in the real directory.
        for dir in ["bin", "lib", "sbin"] {
            let top = tree + "/" + dir, usr = tree + "/usr/" + dir
            try makeDirectory(usr)
            var isDir: ObjCBool = false
            if (try? fm.destinationOfSymbolicLink(atPath: top)) == nil, fm.fileExists(atPath: top, isDirectory: &isDir), isDir.boolValue {
                try mergeDirectory(top, into: usr)
                try fm.removeItem(atPath: top)
            }
            if (try? fm.destinationOfSymbolicLink(atPath: top)) == nil {
                try fm.createSymbolicLink(atPath: top, withDestinationPath: "usr/" + dir)
            }
        }
        for dir in ["proc", "sys", "dev", "tmp", "run", "root", "mnt", "etc", "l2", "usr/lib/modules", "usr/local/bin"] {
            try makeDirectory(tree + "/" + dir)
        }
        try copyFile(busyboxPath, to: tree + "/usr/bin/busybox", mode: 0o755)
        if !fm.fileExists(atPath: tree + "/usr/bin/sh") {
            try fm.createSymbolicLink(atPath: tree + "/usr/bin/sh", withDestinationPath: "busybox")
        }
        for path in try requiredModules(nestedDiskModules) {
            try copyFile(path, to: tree + "/usr/lib/modules/" + (path as NSString).lastPathComponent, mode: 0o644)
        }
        try copyFile(kernelPath, to: tree + "/l2/Image", mode: 0o644)
        progress("building the L2 initramfs \(nestedL2InitramfsPath)")
        // L2's shell mounts L1's disk: the same virtio-blk and ext4 modules as the L1 initramfs.
        let l2Modules = try requiredModules(nestedInitramfsModules)
        try buildInitramfs(init: nestedL2InitScript,
                           extraFiles: l2Modules.map { (guestPath: "/lib/modules/" + ($0 as NSString).lastPathComponent, hostPath: $0, mode: 0o644) },
                           to: nestedL2InitramfsPath)
        try copyFile(nestedL2InitramfsPath, to: tree + "/l2/initrd.gz", mode: 0o644)
        try writeFile(tree + "/init", nestedDiskInitScript + "\n", mode: 0o755)
        try writeFile(tree + "/usr/local/bin/run-l2", nestedRunL2Script + "\n", mode: 0o755)
        for (name, text) in [("passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("group", "root:x:0:\n"), ("hostname", "l1\n")]
        where !fm.fileExists(atPath: tree + "/etc/" + name) {
            try writeFile(tree + "/etc/" + name, text)
        }
    }

    /// `decompressedModules` for modules the nested images cannot do without.
    private static func requiredModules(_ names: [String]) throws -> [String] {
        let paths = try decompressedModules(names, into: cacheDirectory + "/initramfs-modules")
        let found = Set(paths.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
        if let missing = names.first(where: { !found.contains($0) }) {
            throw GuestImageError("kernel module \(missing).ko not found under \(modulesDirectory): the kernel package changed? delete \(cacheDirectory) and run `matryoshka images fetch --nested`")
        }
        return paths
    }

    /// Moves the entries of `source` into `destination`, recursing where both have a directory.
    private static func mergeDirectory(_ source: String, into destination: String) throws {
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: source) {
            let from = source + "/" + name, to = destination + "/" + name
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: to, isDirectory: &isDir) {
                if isDir.boolValue { try mergeDirectory(from, into: to) }
                continue  // the /usr copy wins
            }
            try fm.moveItem(atPath: from, toPath: to)
        }
    }

    /// Bytes of the regular files under `root` (each rounded up to 4 KiB blocks).
    private static func treeSize(_ root: String) throws -> UInt64 {
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw GuestImageError("cannot list \(root)")
        }
        var total: UInt64 = 0
        for case let rel as String in walker {
            var info = stat()
            guard lstat(root + "/" + rel, &info) == 0 else { continue }
            total += (UInt64(max(info.st_size, 0)) + 4095) / 4096 * 4096
        }
        return total
    }

    private static func copyFile(_ source: String, to destination: String, mode: Int) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: destination)
        do {
            // The cache's stable names are symlinks; copy what they point at.
            let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
            try fm.copyItem(atPath: resolved, toPath: destination)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: destination)
        } catch {
            throw GuestImageError("cannot copy \(source) to \(destination): \(error.localizedDescription)")
        }
    }

    private static func writeFile(_ path: String, _ text: String, mode: Int) throws {
        try writeFile(path, text)
        do {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        } catch {
            throw GuestImageError("cannot chmod \(path): \(error.localizedDescription)")
        }
    }
}
