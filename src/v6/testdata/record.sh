#!/bin/sh
# Records what ISC dhclient 4.4.3 -6 gives dhclient-script and writes to its lease file, for
# the fixtures beside this script (dhclient6-*.env, dhclient6.leases), and what it makes of
# the lease file dhcpc writes (dhcpc6.leases, from the unit tests: dhclient6-reads-ours.env).
# Run as root on a machine with isc-dhcp-client and isc-dhcp-server installed (dhcpd is run
# by hand, never as a service). Everything runs in two network namespaces made here (a veth pair, 2001:db8::/32
# only) and private mount namespaces with tmpfs over /run and /var/lib/dhcp; nothing touches
# the host's interfaces or files. Usage: record.sh OUTDIR
set -eu
out=$(realpath "${1:?usage: record.sh OUTDIR}")
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d /tmp/v6rec.XXXXXX)
s=v6rec-s-$$ c=v6rec-c-$$
cleanup() {
    rc=$?
    [ $rc -eq 0 ] || cat "$work"/*.log >&2 2>/dev/null || true
    for p in "$work"/dhcpd.pid "$work"/dhclient6.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    ip netns del "$s" 2>/dev/null || true
    ip netns del "$c" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
ip netns add "$s"; ip netns add "$c"
for ns in "$s" "$c"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.default.accept_ra=0
done
ip link add v6rec-s0 netns "$s" type veth peer name v6rec-c0 netns "$c"
ip -n "$c" link set v6rec-c0 address 02:00:00:aa:bb:cc
ip -n "$s" addr add 2001:db8:1::1/64 dev v6rec-s0
ip -n "$s" link set v6rec-s0 up; ip -n "$c" link set v6rec-c0 up
cat >"$work/dhcpd6.conf" <<'CONF'
default-lease-time 600;
preferred-lifetime 300;
option dhcp6.name-servers 2001:db8:1::53, 2001:db8:1::54;
option dhcp6.domain-search "example.com", "lab.example.org";
option dhcp6.sntp-servers 2001:db8:1::123;
server-duid LL ethernet 02:00:00:00:00:01;
subnet6 2001:db8:1::/64 {
    range6 2001:db8:1::100 2001:db8:1::1ff;
    prefix6 2001:db8:100:: 2001:db8:1ff:: /56;
}
CONF
: >"$work/dhcpd6.leases"
ip netns exec "$s" unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/dhcp &&
     exec dhcpd -6 -f -d -cf $work/dhcpd6.conf -lf $work/dhcpd6.leases -pf $work/dhcpd.pid v6rec-s0" \
    >"$work/dhcpd.log" 2>&1 &
# The hook: one block per run, the variables sorted (values have no newline here).
cat >"$work/dump.sh" <<DUMP
#!/bin/sh
{ echo "== \$reason"; env | grep -v '^PWD=\|^SHLVL=\|^_=' | sort; } >>"$work/env.log"
DUMP
chmod +x "$work/dump.sh"
cp /etc/dhcp/dhclient.conf "$work/dhclient.conf"
client() {
    ip netns exec "$c" unshare -m --propagation private sh -c \
        "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/dhcp &&
         exec dhclient -6 -v $* -cf $work/dhclient.conf -lf $work/dhclient6.leases \
              -pf $work/dhclient6.pid -sf $work/dump.sh v6rec-c0" >>"$work/dhclient.log" 2>&1
}
# Stateful, an address and a prefix: PREINIT6, BOUND6 (one run per address and per prefix),
# then a release (RELEASE6 for each).
lladdr() { ip -n "$1" -6 addr show dev "$2" scope link | grep -v tentative | grep -q fe80; }
i=0; until { lladdr "$s" v6rec-s0 && lladdr "$c" v6rec-c0; } || [ $i -ge 100 ]; do
    i=$((i+1)); sleep 0.1; done
client -1 -N -P
client -r -N -P
# Stateless: INFORMATION-REQUEST (dhclient calls the script with RENEW6), then stop.
client -1 -S
client -x -S
mkdir -p "$out"
cp "$work/env.log" "$out/dhclient6-runs.env"
cp "$work/dhclient6.leases" "$out/dhclient6.leases"
# A fresh start with short lifetimes, an address only: DEPREF6 at 6 s, RENEW6 at 10 s; the server then stops,
# so that REBIND6 is tried and the address ends in EXPIRE6.
: >"$work/env.log"
rm "$work/dhclient6.leases"
stop_dhcpd() {
    p=$(cat "$work/dhcpd.pid"); kill "$p"
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done
}
stop_dhcpd
sed -i 's/^default-lease-time .*/default-lease-time 20;/; s/^preferred-lifetime .*/preferred-lifetime 6;/' \
    "$work/dhcpd6.conf"
ip netns exec "$s" unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/dhcp &&
     exec dhcpd -6 -f -d -cf $work/dhcpd6.conf -lf $work/dhcpd6.leases -pf $work/dhcpd.pid v6rec-s0" \
    >>"$work/dhcpd.log" 2>&1 &
wait_for() { # reason, how many times, seconds
    i=0; until [ "$(grep -c "^== $1\$" "$work/env.log")" -ge "$2" ]; do
        i=$((i+1)); [ $i -le $(($3 * 10)) ] || { echo "no $1 after $3 s" >&2; return 1; }
        sleep 0.1; done
}
client -N
wait_for RENEW6 1 30
stop_dhcpd
wait_for EXPIRE6 1 60
client -x -N
cp "$work/env.log" "$out/dhclient6-timed.env"
# dhcpc's lease file, read back by dhclient: -x runs STOP6 for each address and prefix in it.
: >"$work/env.log"
cp "$here/dhcpc6.leases" "$work/dhclient6.leases"
client -x -N -P
cp "$work/env.log" "$out/dhclient6-reads-ours.env"
cat "$work/dhclient.log" >&2
