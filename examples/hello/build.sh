#!/usr/bin/env bash
# Builds the two small example binaries that the README inspects and that are
# committed next to this script:
#   hello-static   musl-gcc -static -Os -s (falls back to gcc -static -Os -s)
#   hello-dynamic  gcc -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie
#                  -Wl,-z,relro,-z,now -s  (glibc, PIE, full RELRO, canary, FORTIFY)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v gcc >/dev/null 2>&1 || { echo "examples/hello: gcc is required" >&2; exit 1; }

if command -v musl-gcc >/dev/null 2>&1; then
  musl-gcc -static -Os -s -Wall -o hello-static hello.c
  echo "examples/hello: hello-static built with musl-gcc"
else
  echo "examples/hello: WARNING: musl-gcc not found, hello-static falls back to static glibc (much larger)" >&2
  gcc -static -Os -s -Wall -o hello-static hello.c
fi

gcc -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie -Wl,-z,relro,-z,now -s -Wall \
  -o hello-dynamic hello.c
echo "examples/hello: hello-dynamic built with gcc"
ls -l hello-static hello-dynamic
