#!/bin/sh
# Loads the virtio NIC modules, takes QEMU user networking's guest address and
# serves /www on port 8080 with busybox httpd (not when /etc/no-httpd exists).
PATH=/bin
export PATH
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
for module in $($bb cat /lib/modules/load-order); do
  $bb insmod "/lib/modules/$module.ko" || echo "FIXTURE: insmod $module failed"
done
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ $tries -lt 50 ]; do
  $bb usleep 100000
  tries=$((tries + 1))
done
$bb ip link set lo up
$bb ip addr add 10.0.2.15/24 dev eth0
$bb ip link set eth0 up
$bb ip route add default via 10.0.2.2
$bb mkdir -p /www
echo ok >/www/healthz
if [ -e /etc/no-httpd ]; then
  echo "FIXTURE: network up, no server started"
else
  $bb httpd -p 8080 -h /www
  echo "FIXTURE: httpd listening on 8080"
fi
# PID 1 must never return.
while :; do $bb sleep 3600; done
