#!/bin/bash
# A real two-node Pacemaker/Corosync cluster on one machine, with ocf:matryoshka:vm as its resource.
# Each node is a network, mount and UTS namespace (ocf/cluster-node.sh) joined to the other by a
# veth pair; fencing is on (ocf/fence_matryoshka_test kills a fenced node's processes).
# Scenario: start -> live migration (crm resource move) -> kill -9 of the VM (recovery) -> restart
# through snapshot_dir -> kill of the VM node's corosync (fenced; the VM starts on the survivor).
# Prints "CLUSTER <phase> ..." lines with the measured times, and leaves the VM console logs in
# $CLUSTER_LOGS (node1-*.log, node2-*.log) for the caller to check. Needs root.
#   MATRYOSHKA=... KERNEL=... INITRD=... CLUSTER_LOGS=DIR ocf/cluster-test.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MATRYOSHKA:?}" "${KERNEL:?}" "${INITRD:?}" "${CLUSTER_LOGS:?}"
top=$(mktemp -d /tmp/matryoshka-cluster.XXXXXX)
declare -a holder
failed=0

say() { echo "cluster-test: $*" >&2; }
die() {
    say "FAILED: $*"
    for n in 1 2; do
        [ -n "${holder[$n]:-}" ] || continue
        say "node$n: crm_mon:"; on "$n" crm_mon -1 2>&1 | sed 's/^/    /' >&2
        say "node$n: VM log tail:"; vm_log "$n" | tail -n 8 | sed 's/^/    /' >&2
    done
    failed=1; exit 1
}
now() { date +%s.%N; }
ms_since() { echo "$(now) $1" | awk '{ printf "%.0f", ($1 - $2) * 1000 }'; }
on() { local n=$1; shift; nsenter -t "${holder[$n]}" -n -m -u "$@"; }
netns_of() { readlink "/proc/${holder[$1]}/ns/net" 2>/dev/null; }
# Pids of processes named $2 in node $1's namespace.
pids_in() {
    local ns; ns=$(netns_of "$1") || return
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] || continue
        [ -z "${2:-}" ] || grep -qx "$2" "$p/comm" 2>/dev/null || continue
        echo "${p#/proc/}"
    done
}
statedir() { echo "$top/node$1/run/resource-agents/matryoshka-vm"; }
vm_log() { cat "$(statedir "$1")/vm.log" 2>/dev/null; }
located() { on "$1" crm_resource --locate -r vm 2>/dev/null | sed -n 's/.*running on: \(node[12]\).*/\1/p' | head -n 1; }
# The console since the agent's last launch there ("--- date command" lines).
since_launch() { vm_log "$1" | awk '/^--- / { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }'; }
last_progress() { since_launch "$1" | tr -d '\r' | sed -n 's/^PROGRESS \([0-9]*\) .*/\1/p' | tail -n 1; }
wait_for() { # timeout-seconds what command...
    local t=$1 what=$2; shift 2
    local deadline=$(( $(date +%s) + t ))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${t}s waiting for $what"
        sleep 0.2
    done
}

cleanup() {
    for n in 1 2; do
        [ -n "${holder[$n]:-}" ] || continue
        if kill -0 "${holder[$n]}" 2>/dev/null; then
            for p in $(pids_in "$n" pacemakerd); do kill -TERM "$p"; done
        fi
    done
    for _ in $(seq 50); do [ -z "$(for n in 1 2; do [ -n "${holder[$n]:-}" ] && pids_in "$n" pacemaker-controld; done)" ] && break; sleep 0.2; done
    for n in 1 2; do
        [ -n "${holder[$n]:-}" ] || continue
        ns=$(netns_of "$n")
        for round in 1 2 3; do
            for p in /proc/[0-9]*; do [ -n "$ns" ] && [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] && kill -9 "${p#/proc/}" 2>/dev/null; done
            sleep 0.1
        done
    done
    for n in 1 2; do for f in "$top/node$n"/run/resource-agents/matryoshka-vm/vm.log; do [ -f "$f" ] && cp "$f" "$CLUSTER_LOGS/node$n-final.log"; done; done
    for n in 1 2; do [ -f "$top/node$n/var/log/pacemaker/pacemaker.log" ] && cp "$top/node$n/var/log/pacemaker/pacemaker.log" "$CLUSTER_LOGS/node$n-pacemaker.log"; done
    rm -f /usr/sbin/fence_matryoshka_test
    rm -rf /tmp/matryoshka-fence "$top"
    [ "$failed" = 0 ] || say "see $CLUSTER_LOGS"
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM

mkdir -p "$CLUSTER_LOGS" /tmp/matryoshka-fence
install -m 0755 "$here/fence_matryoshka_test" /usr/sbin/fence_matryoshka_test
"$here/install.sh" >/dev/null || die "cannot install the agent"
printf '127.0.0.1 localhost\n10.99.0.1 node1\n10.99.0.2 node2\n' >"$top/hosts"
cat >"$top/corosync.conf" <<EOF
totem {
  version: 2
  cluster_name: matryoshka-test
  crypto_cipher: none
  crypto_hash: none
  transport: knet
  token: 3000
}
nodelist {
  node {
    ring0_addr: 10.99.0.1
    name: node1
    nodeid: 1
  }
  node {
    ring0_addr: 10.99.0.2
    name: node2
    nodeid: 2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_stderr: yes
  to_syslog: no
}
EOF
cat >"$top/vm.json" <<EOF
{"boot-source": {"kernel_image_path": "$KERNEL", "initrd_path": "$INITRD", "boot_args": "console=ttyS0 panic=-1"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 192}}
EOF
mkdir -p "$top/snapshots"

t_start=$(now)
for n in 1 2; do
    unshare --net --mount --uts bash "$here/cluster-node.sh" "$n" "$top" &
    holder[$n]=$!
done
sleep 0.5
ip link add mt1 type veth peer name mt2 || die "cannot create the veth pair"
ip link set mt1 netns "${holder[1]}" && ip link set mt2 netns "${holder[2]}" || die "cannot move the veth ends"
online() { on 1 crm_mon -1 2>/dev/null | grep -q "Online: \[ node1 node2 \]"; }
wait_for 120 "both nodes online" online
say "cluster formed in $(ms_since "$t_start") ms"

cat >"$top/cib.crm" <<EOF
property stonith-enabled=true stonith-timeout=30s cluster-recheck-interval=10s
rsc_defaults resource-stickiness=100
primitive fence stonith:fence_matryoshka_test params pcmk_host_list="node1 node2" pcmk_host_check=static-list op monitor interval=60s
primitive vm ocf:matryoshka:vm params config="$top/vm.json" binary="$MATRYOSHKA" migration_url="tcp:%n:4444" migration_downtime_ms=50 snapshot_dir="$top/snapshots" op start timeout=60s interval=0 op stop timeout=60s interval=0 op monitor interval=2s timeout=20s op migrate_to timeout=120s interval=0 op migrate_from timeout=120s interval=0 meta allow-migrate=true migration-threshold=5 failure-timeout=30s
EOF
on 1 crm configure load update "$top/cib.crm" || die "crm configure load failed"

# 1. Start: the guest computes.
t0=$(now)
runs_somewhere() { [ -n "$(located 1)" ]; }
wait_for 120 "the VM to start" runs_somewhere
a=$(located 1); a=${a#node}
progressing() { [ "$(last_progress "$1")" -ge "$2" ] 2>/dev/null; }
wait_for 120 "the guest's progress on node$a" progressing "$a" 2000
say "started on node$a in $(ms_since "$t0") ms"
echo "CLUSTER start node=node$a ms=$(ms_since "$t0")"

# 2. Move: live migration to the other node.
b=$((3 - a))
before=$(last_progress "$a")
t0=$(now)
on 1 crm resource move vm "node$b" >/dev/null 2>&1 || die "crm resource move failed"
moved() { [ "$(located 1)" = "node$b" ] && progressing "$b" $((before + 1)); }
wait_for 180 "the VM to run on node$b" moved
move_ms=$(ms_since "$t0")
cp "$(statedir "$a")/vm.log" "$CLUSTER_LOGS/node$a-before-move.log"
downtime=$(grep -o 'downtime [0-9.]* ms' "$CLUSTER_LOGS/node$a-before-move.log" | tail -n 1 | awk '{print $2}')
[ -n "$downtime" ] || die "node$a's log shows no completed migration (the VM was restarted, not migrated)"
# node$b's log since it started receiving: the guest arrived, it did not boot.
arrived=$(since_launch "$b")
echo "$arrived" | grep -q "run --incoming" || die "node$b did not receive a migration"
echo "$arrived" | grep -q "Linux version" && die "the guest booted again on node$b"
on 1 crm resource clear vm >/dev/null 2>&1 || on 1 crm resource unmove vm >/dev/null 2>&1
echo "CLUSTER migrate from=node$a to=node$b ms=$move_ms downtime_ms=$downtime"

# 3. kill -9 of the VM process: Pacemaker's monitor notices and recovers it.
pid=$(cat "$(statedir "$b")/vm.pid" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "no VM process on node$b to kill"
t0=$(now)
kill -9 "$pid"
recovered() {
    local x p; x=$(located 1); x=${x#node}
    [ -n "$x" ] || return 1
    p=$(cat "$(statedir "$x")/vm.pid" 2>/dev/null)
    [ -n "$p" ] && [ "$p" != "$pid" ] && kill -0 "$p" 2>/dev/null && vm_log "$x" | tail -n 5 | grep -q PROGRESS
}
cp "$(statedir "$b")/vm.log" "$CLUSTER_LOGS/node$b-before-kill.log"
wait_for 120 "recovery after kill -9" recovered
x=$(located 1)
echo "CLUSTER kill9-recovery killed_on=node$b recovered_on=$x ms=$(ms_since "$t0")"

# 4. Restart through snapshot_dir: stop saves the VM, start restores it; the computation goes on.
c=$(located 1); c=${c#node}
wait_for 60 "progress before the restart" progressing "$c" 1000
before=$(last_progress "$c")
cp "$(statedir "$c")/vm.log" "$CLUSTER_LOGS/node$c-before-restart.log"
t0=$(now)
on 1 crm resource restart vm >/dev/null 2>&1 || die "crm resource restart failed"
restored() {
    r=$(located 1); r=${r#node}
    [ -n "$r" ] && since_launch "$r" | grep -q "run --restore" && progressing "$r" $((before + 1))
}
wait_for 120 "the VM restored from snapshot_dir" restored
since_launch "$r" | grep -q "Linux version" && die "the VM booted again instead of going on from the snapshot"
echo "CLUSTER snapshot-restart from=node$c to=node$r ms=$(ms_since "$t0") progress_before=$before"
cp "$(statedir "$r")/vm.log" "$CLUSTER_LOGS/node$r-after-restart.log"

# 5. With a hot standby: the VM's node loses corosync, it is fenced, and the standby on the other
#    node has already taken over from the last checkpoint; the VM resource adopts it there.
on 1 crm resource stop vm >/dev/null 2>&1
gone() { [ -z "$(located 1)" ] && [ -z "$(pids_in 1 matryoshka)$(pids_in 2 matryoshka)" ]; }
wait_for 60 "the VM to stop before the standby configuration" gone
on 1 crm configure delete vm >&2 || die "cannot delete the VM resource"
rm -f "$top"/snapshots/*
cat >"$top/cib-ha.crm" <<EOF
primitive vm ocf:matryoshka:vm params config="$top/vm.json" binary="$MATRYOSHKA" standby="tcp:%n:4445" checkpoint_ms=25 op start timeout=60s interval=0 op stop timeout=60s interval=0 op monitor interval=2s timeout=20s
primitive vm-standby ocf:matryoshka:vm params config="$top/vm.json" binary="$MATRYOSHKA" mode=standby standby="tcp:%n:4445" op start timeout=60s interval=0 op stop timeout=60s interval=0 op monitor interval=2s timeout=20s
clone vm-standbys vm-standby meta clone-max=2 clone-node-max=1
EOF
on 1 crm configure load update "$top/cib-ha.crm" >&2 || die "crm configure load (standby) failed"
t0=$(now)
wait_for 120 "the protected VM to start" runs_somewhere
c=$(located 1); c=${c#node}; d=$((3 - c))
ha_state_on() { on "$1" "$MATRYOSHKA" ctl ha-status --api-socket /run/resource-agents/matryoshka-vm/api.sock 2>/dev/null | sed -n 's/.*"state" *: *"\([a-z ]*\)".*/\1/p'; }
protected() { [ "$(ha_state_on "$c")" = protected ]; }
wait_for 120 "the VM on node$c to be protected by the standby on node$d" protected
echo "CLUSTER protected node=node$c standby=node$d ms=$(ms_since "$t0")"
wait_for 60 "progress of the protected VM" progressing "$c" 1500
t0=$(now)
for p in $(pids_in "$c" corosync); do kill -9 "$p"; done
taken_over() { vm_log "$d" | grep -q "took over from checkpoint"; }
wait_for 120 "the standby on node$d to take over" taken_over
takeover_ms=$(ms_since "$t0")
cp "$(statedir "$c")/vm.log" "$CLUSTER_LOGS/node$c-before-fence.log" 2>/dev/null
last=$(tr -d '\r' <"$CLUSTER_LOGS/node$c-before-fence.log" | sed -n 's/^PROGRESS \([0-9]*\) .*/\1/p' | tail -n 1)
failed_over() { [ "$(located "$d")" = "node$d" ] && progressing "$d" $((last + 1)); }
wait_for 180 "the VM resource on node$d after node$c was fenced" failed_over
grep -q "node$c" /tmp/matryoshka-fence/fenced.log 2>/dev/null || die "node$c was not fenced"
[ -z "$(pids_in "$c" matryoshka)" ] || die "a VM process survived on the fenced node$c"
after=$(vm_log "$d" | awk '/took over from checkpoint/ { on = 1 } on { print }')
echo "$after" | grep -q "Linux version" && die "the guest booted again on node$d"
first=$(echo "$after" | tr -d '\r' | sed -n 's/^PROGRESS \([0-9]*\) .*/\1/p' | head -n 1)
[ -n "$first" ] && [ -n "$last" ] && [ "$first" -le $((last + 500)) ] || die "the computation did not go on from where it was (last on node$c: $last, first on node$d: $first)"
echo "CLUSTER fence-failover fenced=node$c to=node$d ms=$(ms_since "$t0") takeover_ms=$takeover_ms last_on_fenced=$last first_after=$first"
cp "$(statedir "$d")/vm.log" "$CLUSTER_LOGS/node$d-after-failover.log"

# Down: stop the resource, then the cluster (cleanup).
on "$d" crm resource stop vm >/dev/null 2>&1
stopped() { [ -z "$(pids_in "$d" matryoshka)" ]; }
wait_for 60 "the VM to stop" stopped
echo "CLUSTER done total_ms=$(ms_since "$t_start")"
