#!/bin/sh
# udhcpc event script: configures $interface from the lease.
case "$1" in
  deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    # Only eth0 routes and resolves; the other NICs just take their address.
    [ "$interface" = eth0 ] || exit 0
    while route del default gw 0.0.0.0 dev "$interface" 2>/dev/null; do :; done
    for r in $router; do route add default gw "$r" dev "$interface"; break; done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    echo "$ip" >/run/vmkit/ip
    ;;
esac
exit 0
