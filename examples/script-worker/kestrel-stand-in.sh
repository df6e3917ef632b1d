#!/bin/sh
echo "fledge-example: script-worker agent started"
FLEDGE_EXAMPLE_BATCHES=2 /usr/bin/worker
/bin/busybox poweroff -f
