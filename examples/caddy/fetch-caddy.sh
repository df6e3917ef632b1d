#!/bin/sh
# Downloads Caddy's official static release into payload/caddy and checks it.
set -eu
CADDY_VERSION="${CADDY_VERSION:-2.10.2}"
cd "$(dirname "$0")/payload"
curl -fsSL -o caddy.tar.gz \
  "https://github.com/caddyserver/caddy/releases/download/v${CADDY_VERSION}/caddy_${CADDY_VERSION}_linux_amd64.tar.gz"
curl -fsSL -o checksums.txt \
  "https://github.com/caddyserver/caddy/releases/download/v${CADDY_VERSION}/caddy_${CADDY_VERSION}_checksums.txt"
grep " caddy_${CADDY_VERSION}_linux_amd64.tar.gz\$" checksums.txt | sha512sum -c -
tar -xzf caddy.tar.gz caddy
rm -f caddy.tar.gz checksums.txt
chmod +x caddy
