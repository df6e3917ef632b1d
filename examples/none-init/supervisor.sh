#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "fledge-example: supervisor is PID $$ (none mode)"
/bin/busybox poweroff -f
