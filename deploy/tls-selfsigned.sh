#!/bin/sh
# A self-signed certificate for trials, written to DIR/cert.pem and DIR/key.pem only when DIR holds no pair:
# a real certificate put there is never replaced. Browsers warn about it; use a real one in production.
set -eu
dir="${1:?usage: tls-selfsigned.sh DIR}"
if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ]; then
  exit 0
fi
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/key.pem.tmp" -out "$dir/cert.pem.tmp" 2>/dev/null
mv "$dir/key.pem.tmp" "$dir/key.pem"
mv "$dir/cert.pem.tmp" "$dir/cert.pem"
echo "tls-selfsigned: wrote a self-signed pair for localhost to $dir (for trials only)"
