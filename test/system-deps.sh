#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (run as root). CI runs this first; so does
# a developer on a fresh machine:
# - tshark: Wireshark's dissector, our second opinion on every byte we decode and encode;
# - python3, make, g++: node-gyp builds the raw-socket addon (mptcp/native) during npm ci;
# - iproute2 (ip, tc, nstat), nftables, ethtool, tcpdump: the namespace tests against the
#   Linux kernel (hosts, HTB rate limits, loss, the RST guard, captures);
# - iptables: TCPOPTSTRIP, the middlebox that strips MPTCP options (fallback tests).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then
  echo "test/system-deps.sh: must run as root (apt-get install); try: sudo bash $0" >&2
  exit 1
fi
packages=(tshark python3 make g++ iproute2 nftables ethtool tcpdump iptables)
# The lab and scenario benchmarks (test/lab, test/bench/scenarios): iputils-ping (RTT checks),
# mptcpd (mptcpize: kernel MPTCP for unmodified programs), shadowsocks-libev (the OpenMPTCProuter
# contender), microsocks (the single-path SOCKS5 contender).
packages+=(iputils-ping mptcpd shadowsocks-libev microsocks)
# curl: the real SOCKS5/HTTP client of the proxy tests; microsocks: the single-path SOCKS5
# proxy the proxy benchmark compares against (test/bench/proxy-bench.ts).
packages+=(curl microsocks)
# prometheus (with promtool): the real Prometheus that scrapes client and aggregator in
# test/e2e/metrics-userspace.test.ts, and `promtool check config` on dashboards/prometheus.yml;
# docker-compose: `docker-compose config` judges docker-compose.yml (test/unit/dashboards.test.ts).
packages+=(prometheus docker-compose)
# chromium: the real browser of the proxy e2e (test/e2e/proxy-browser.test.ts, headless).
packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
# tshark's package asks whether non-root users may capture: answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
