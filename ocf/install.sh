#!/bin/sh
# Installs the OCF resource agent as ocf:matryoshka:vm:
#   ocf/install.sh [--prefix DIR]     (default DIR: /usr/lib/ocf, the OCF_ROOT of Debian's Pacemaker)
set -e
prefix=/usr/lib/ocf
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        *) echo "usage: $0 [--prefix DIR]" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
install -d "$prefix/resource.d/matryoshka"
install -m 0755 "$here/vm" "$prefix/resource.d/matryoshka/vm"
echo "installed $prefix/resource.d/matryoshka/vm (use it as ocf:matryoshka:vm)"
