#!/usr/bin/env bash
# Side-by-side benchmarks of Coffer against the raw AWS SDK, awscli and rclone on local S3 servers
# (S3Mock, S3Proxy). Builds what it needs, installs awscli and rclone from Debian when missing,
# runs every case in alternating rounds, prints the table and rewrites the generated section of
# docs/benchmarks.md and docs/benchmarks/results.csv. Settings: see benchmarks/README.md.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

aws_cli="${BENCH_AWS:-/usr/bin/aws}" # Debian's awscli v2; an older v1 may come first on PATH
rclone="${BENCH_RCLONE:-rclone}"
if [[ ! -x "$aws_cli" ]] || ! command -v "$rclone" >/dev/null; then
  echo "run.sh: installing awscli and rclone from Debian" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if ! { $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq awscli rclone >/dev/null; }; then
    echo "run.sh: could not install awscli and rclone from Debian" >&2
  fi
fi
# A peer still missing is skipped, and said so here and in the harness's log.
if ! command -v "$aws_cli" >/dev/null; then
  echo "run.sh: awscli ($aws_cli) not found: its contenders are skipped (set BENCH_AWS)" >&2
fi
if ! command -v "$rclone" >/dev/null; then
  echo "run.sh: rclone ($rclone) not found: its contenders are skipped (set BENCH_RCLONE)" >&2
fi

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  echo "run.sh: building store-cli and benchmarks (tests skipped)" >&2
  mvn -B -q -Dstyle.color=never -DskipTests -Pbench-servers package -pl store-cli,benchmarks -am
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench-XXXXXX")"
driver=""
cleanup() {
  # The driver stops the servers it started, on a normal end and from its shutdown hook.
  if [[ -n "$driver" ]] && kill -0 "$driver" 2>/dev/null; then
    kill "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

java -Xmx3g ${BENCH_JAVA_OPTS:-} \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dbench.root="$root" -Dbench.work="$work" \
  -cp "$root/benchmarks/target/benchmarks.jar" dev.coffer.benchmarks.macro.MacroBenchmark &
driver=$!
wait "$driver"
