#!/bin/bash
# Stand-in for `matryoshka run` that boots the same arguments under QEMU, to check the
# boot tests' guest side independently of the emulator:
#   MATRYOSHKA_BIN=scripts/qemu-as-matryoshka.sh swift test --filter BootTests
# Understands: run --kernel K [--initrd I] [--append A] [--cpus N] [--firmware F] [--memory M].
# Without --firmware it uses OpenSBI from the guest image cache (QEMU has no built-in SBI here).
set -euo pipefail
[ "${1:-}" = run ] || { echo "usage: $0 run --kernel K ..." >&2; exit 64; }
shift
cache=${MATRYOSHKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matryoshka}
kernel="" initrd="" append="console=ttyS0" cpus=1 firmware="$cache/fw_dynamic.bin" memory=512M
while [ $# -gt 0 ]; do
    case $1 in
        --kernel) kernel=$2 ;; --initrd) initrd=$2 ;; --append) append=$2 ;;
        --cpus) cpus=$2 ;; --firmware) firmware=$2 ;; --memory) memory=$2 ;;
        *) echo "error: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -f "$kernel" ] || { echo "error: cannot read kernel $kernel: no such file" >&2; exit 2; }
# A RISC-V Linux Image has "RISCV" at offset 48.
[ "$(dd if="$kernel" bs=1 skip=48 count=5 2>/dev/null)" = RISCV ] ||
    { echo "error: $kernel is not a RISC-V Linux Image" >&2; exit 2; }
args=(-M virt -cpu rv64,h=true -m "$memory" -smp "$cpus" -nographic -no-reboot -bios "$firmware"
      -kernel "$kernel" -append "$append")
[ -n "$initrd" ] && args+=(-initrd "$initrd")
exec qemu-system-riscv64 "${args[@]}"
