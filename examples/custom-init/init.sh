#!/bin/sh
# PID 1: mount what the workload needs, run it, power off when it ends.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "fledge-example: custom init running as PID $$"
/bin/busybox poweroff -f
