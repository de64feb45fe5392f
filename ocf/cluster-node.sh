#!/bin/bash
# One node of the test cluster (run by ocf/cluster-test.sh inside `unshare --net --mount --uts`):
# private /run, /dev/shm, /etc/hosts, /etc/corosync and Pacemaker/Corosync state, an address on the
# veth end the parent moves in, then Corosync and Pacemaker in the foreground.
set -u
n="$1"; top="$2"
root="$top/node$n"
mount --make-rprivate /
hostname "node$n"
mount -t tmpfs -o mode=1777 tmpfs /dev/shm   # libqb's IPC: private, writable by hacluster
for d in /run /var/lib/pacemaker /var/lib/corosync /var/log/pacemaker /var/log/cluster /etc/corosync; do
    mkdir -p "$root$d" "$d"
    mount --bind "$root$d" "$d"
done
mount --bind "$top/hosts" /etc/hosts
cp "$top/corosync.conf" /etc/corosync/corosync.conf
mkdir -p /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores /run/crm
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker /run/crm 2>/dev/null
ip link set lo up
for _ in $(seq 100); do ip link show "mt$n" >/dev/null 2>&1 && break; sleep 0.1; done
ip addr add "10.99.0.$n/24" dev "mt$n"
ip link set "mt$n" up
readlink /proc/$$/ns/net >"/tmp/matryoshka-fence/node$n.netns"
corosync -f >"$root/corosync.log" 2>&1 &
sleep 2
pacemakerd -f >"$root/pacemaker.log" 2>&1 &
wait
