#!/usr/bin/env bash
# Installs what the benchmark compares against, from Debian, when it is missing and we
# may install packages: fio (the C reference for file I/O) and liburing-dev (to build
# bench/nop-liburing.c, the floor of the nop workload). Never fatal: the benchmark
# skips the rows of a tool it does not have.
set -u
missing=()
command -v fio >/dev/null 2>&1 || missing+=(fio)
[ -e /usr/include/liburing.h ] || missing+=(liburing-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench: installing ${missing[*]} from Debian (apt-get)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
    || echo "bench: could not install ${missing[*]}; their rows will be skipped" >&2
else
  echo "bench: ${missing[*]} not installed and not root; their rows will be skipped (apt-get install ${missing[*]})" >&2
fi
exit 0
