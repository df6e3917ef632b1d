#!/bin/sh
# Stands in for kestrel: shows that the image booted, who is PID 1's child,
# and how long the boot took, then powers the VM off.
echo "fledge-example: agent started"
echo "fledge-example: uptime $(cat /proc/uptime)"
echo "fledge-example: $(ls /srv/www | wc -l) file(s) in /srv/www: $(cat /srv/www/index.html)"
/bin/busybox poweroff -f
