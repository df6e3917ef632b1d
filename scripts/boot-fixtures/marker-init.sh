#!/bin/sh
# Prints the kernel command line and a marker, then powers the VM off.
/bin/busybox mount -t proc proc /proc
echo "cmdline: $(/bin/busybox cat /proc/cmdline)"
echo "FLEDGE-FIXTURE-BOOTED"
/bin/busybox poweroff -f
