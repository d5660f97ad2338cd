#!/usr/bin/env bash
# Issue 4's proxy comparison in one command: builds the sidecar and the harness, then runs the
# same backend directly, through nginx, HAProxy and a Meshlog sidecar, and through two of each,
# and prints the comparison tables (also written to bench/target/proxy-bench/<time>/results.md).
# Options go to the harness: bench/proxy-bench.sh --help; the defaults are issue 4's setup.
# Needs the Debian packages nginx, haproxy, wrk, nghttp2-client (h2load) and util-linux (taskset).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in nginx:nginx haproxy:haproxy wrk:wrk h2load:nghttp2-client taskset:util-linux; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "proxy-bench: missing tools; install them with: apt-get install -y ${missing[*]}" >&2
  exit 2
fi
if [ "${1:-}" = "--help" ]; then
  exec java -cp bench/target/meshlog-bench.jar dev.meshlog.bench.BenchMain
fi

if [ -z "${PROXY_BENCH_SKIP_BUILD:-}" ]; then
  mvn -q -o -pl proxy,bench -am package -DskipTests \
    || mvn -q -pl proxy,bench -am package -DskipTests
fi

echo "proxy-bench: load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews results)" >&2
# The driver mostly waits; keep it off the proxies' CPU anyway.
pin=()
if [ "$(nproc)" -ge 2 ]; then pin=(taskset -c "$(( $(nproc) - 1 ))"); fi
exec "${pin[@]}" java -jar bench/target/meshlog-bench.jar proxy "$@"
