#!/bin/sh
# Processes batches; FLEDGE_EXAMPLE_BATCHES limits the loop for the boot test.
n=0
while [ "$n" -lt "${FLEDGE_EXAMPLE_BATCHES:-1000000}" ]; do
    n=$((n + 1))
    echo "fledge-example: worker processing batch $n"
    sleep 1
done
