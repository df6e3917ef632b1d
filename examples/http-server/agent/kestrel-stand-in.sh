#!/bin/sh
# Stands in for kestrel: starts the workload the manifest names and reports it.
echo "fledge-example: http-server agent started"
# kestrel sets up networking; the stand-in only needs loopback.
/bin/busybox ip link set lo up
/usr/bin/http-server &
sleep 1
if /bin/busybox wget -q -O - http://127.0.0.1:8080/healthz.txt >/dev/null 2>&1; then
  echo "fledge-example: http-server answers on :8080"
fi
[ "$FLEDGE_EXAMPLE_STAY_UP" = 1 ] && wait
/bin/busybox poweroff -f
