#!/usr/bin/env bash
# Draws docs/grafana/dashboard.png from a real run: coffer serve (with the embedded S3 server, as
# bin/coffer starts it, under a temporary COFFER_HOME) scraped by a real Prometheus every 5 s
# while DashboardWorkload drives containerd's content service over serve's socket, then gc runs in
# serve and fsck and du from the command line; render.py evaluates each panel's own PromQL through
# Prometheus's HTTP API over the run's window and draws the panels in the dashboard's grid.
# Installs Debian's prometheus and python3-matplotlib when missing. Not run by mvn verify or .ci/run.
# Settings: DASH_SECONDS (workload length, default 240), DASH_SKIP_BUILD=1, DASH_KEEP=1 (keep the
# temporary directory: logs, Prometheus's data, the last scrape).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
seconds="${DASH_SECONDS:-240}"

# Debian's matplotlib is /usr/bin/python3's; a python3 earlier on PATH (pyenv, a venv) may lack it.
py=python3
if ! "$py" -c 'import matplotlib' 2>/dev/null && [[ -x /usr/bin/python3 ]]; then
  py=/usr/bin/python3
fi
if ! command -v prometheus >/dev/null || ! "$py" -c 'import matplotlib' 2>/dev/null; then
  echo "render.sh: installing prometheus and python3-matplotlib from Debian" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq prometheus python3-matplotlib >/dev/null
fi
if [[ "${DASH_SKIP_BUILD:-0}" != 1 ]]; then
  echo "render.sh: building store-cli and benchmarks (tests skipped)" >&2
  log="$(mktemp "${TMPDIR:-/tmp}/coffer-dash-build.XXXXXX")"
  if ! mvn -B -q -Dstyle.color=never -DskipTests package -pl store-cli,benchmarks -am >"$log" 2>&1; then
    cat "$log" >&2
    echo "render.sh: the build failed (its output is above, and in $log)" >&2
    exit 1
  fi
  rm -f "$log"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/coffer-dash-XXXXXX")"
serve="" prom=""
cleanup() {
  for pid in $serve $prom; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -f "$work/home/embedded/server.json" ]]; then
    embedded=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
      "$work/home/embedded/server.json")
    kill "$embedded" 2>/dev/null || true
  fi
  if [[ "${DASH_KEEP:-0}" == 1 ]]; then
    echo "render.sh: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A host of its own: the embedded server's data, the state and the cache under $work. Small caches
# so that the run evicts (misses, then fills), a short deletion grace so that serve's gc purges
# what the workload deleted within the run.
export COFFER_HOME="$work/home" COFFER_DELETION_GRACE=30s \
  COFFER_CACHE_MEMORY_BYTES=16MiB COFFER_CACHE_DISK_BYTES=64MiB
bin/coffer serve --containerd-socket "$work/coffer.sock" --holder-id dashboard \
  --metrics-address 127.0.0.1:0 --gc-interval 30s 2>"$work/serve.log" &
serve=$!
for _ in $(seq 120); do
  metrics=$(sed -n 's|.*serving /metrics and /healthz on \(http://[^ ]*\).*|\1|p' "$work/serve.log")
  [[ -n "$metrics" && -S "$work/coffer.sock" ]] && break
  kill -0 "$serve" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 1
done
[[ -n "$metrics" ]] || { cat "$work/serve.log" >&2; exit 1; }
echo "render.sh: coffer serve's metrics on $metrics" >&2

prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<CONF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: coffer
    static_configs:
      - targets: ["${metrics#http://}"]
CONF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom=$!
prometheus_url="http://127.0.0.1:$prom_port"
for _ in $(seq 60); do
  curl -fs "$prometheus_url/-/ready" >/dev/null && break
  sleep 1
done
echo "render.sh: Prometheus on $prometheus_url; the workload runs ${seconds} s" >&2

sleep 10 # a few scrapes before the workload: every rate starts from a sample
start=$(date +%s)
java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$root/benchmarks/target/benchmarks.jar" dev.coffer.benchmarks.dashboard.DashboardWorkload \
  "$work/coffer.sock" "$seconds" | tee "$work/workload.txt"
echo "render.sh: fsck and du from the command line (their own processes: not in serve's scrape)" >&2
bin/coffer fsck --no-cache | tee "$work/fsck.txt" || true
# serve's next gc purges the last deletions once their grace has passed
sleep 45
end=$(date +%s)
bin/coffer du --by labels.team | tee "$work/du.txt"
curl -fs "$metrics/metrics" >"$work/metrics.txt"
echo "render.sh: from the last scrape:" >&2
grep -E '^coffer_(s3_requests_total|cache_requests_total|gc_purged_total|gc_freed_bytes_total|store_leases_total|store_cas_total|serve_holds)' \
  "$work/metrics.txt" | sort
grep -E '^coffer: gc purged' "$work/serve.log" | sed 's/^/serve: /' || true
"$py" docs/grafana/render.py --prometheus "$prometheus_url" --start "$start" --end "$end" \
  --step 5 --scrape 5 --dashboard docs/grafana/coffer-dashboard.json \
  --out docs/grafana/dashboard.png --summary "$work/panels.txt"
