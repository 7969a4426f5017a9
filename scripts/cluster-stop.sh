#!/usr/bin/env bash
# Stops the local cluster started by scripts/cluster.sh (`make cluster-stop`):
# brokers first (SIGTERM, so they drain), then MinIO, then etcd; anything
# still alive after 30 s is SIGKILLed. Data and logs stay under $CLUSTER_DIR
# (default ./cluster-data) unless --wipe is given.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CLUSTER_DIR:-$REPO/cluster-data}"
PIDS="$DIR/pids"
WIPE=0
for arg in "$@"; do
	case "$arg" in
	--wipe) WIPE=1 ;;
	*) echo "usage: $0 [--wipe]" >&2; exit 2 ;;
	esac
done

# stop_group PATTERN: SIGTERM every recorded process whose name matches,
# then wait for them (SIGKILL after 30 s).
stop_group() {
	local pattern=$1 name pid pids=()
	[[ -s "$PIDS" ]] || return 0
	while read -r name pid; do
		[[ "$name" == $pattern ]] || continue
		if kill -0 "$pid" 2>/dev/null; then
			kill -CONT "$pid" 2>/dev/null || true # a paused process must wake up to exit
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
			echo "cluster-stop: $name ($pid) stopping" >&2
		fi
	done <"$PIDS"
	for pid in "${pids[@]}"; do
		for _ in $(seq 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "cluster-stop: $pid ignored SIGTERM for 30 s; killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

if [[ -s "$PIDS" ]]; then
	stop_group 'broker*'
	stop_group 'minio'
	stop_group 'etcd*'
	rm -f "$PIDS"
	echo "cluster-stop: stopped" >&2
else
	echo "cluster-stop: no cluster running under $DIR" >&2
fi
if [[ $WIPE == 1 ]]; then
	rm -rf "$DIR"
	echo "cluster-stop: removed $DIR" >&2
fi
