#!/usr/bin/env bash
# Installs fio (the C reference the benchmark compares against) from Debian when it is
# missing and we may install packages. Never fatal: the benchmark skips fio without it.
set -u
command -v fio >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench: installing fio from Debian (apt-get)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio) >/dev/null 2>&1 \
    || echo "bench: could not install fio; its rows will be skipped" >&2
else
  echo "bench: fio not installed and not root; its rows will be skipped (apt-get install fio)" >&2
fi
exit 0
