#!/usr/bin/env bash
# Starts a local Strata cluster as plain background processes (`make cluster`):
# a 3-member etcd cluster, MinIO with one bucket, and 3 brokers in racks a, b
# and c. Everything (data, logs, pids) lives under $CLUSTER_DIR (default
# ./cluster-data); scripts/cluster-stop.sh stops it. See docs/cluster.md.
#
# Ports (override with the environment variables):
#   Kafka   KAFKA_PORTS="9092 9093 9094"    HTTP  HTTP_PORTS="8080 8081 8082"
#   etcd    ETCD_CLIENT_PORTS="2379 22379 32379"  ETCD_PEER_PORTS="2380 22380 32380"
#   MinIO   MINIO_PORT=9000 MINIO_CONSOLE_PORT=9001
# STRATA_BIN uses a prebuilt strata binary (default: go build into bin/strata);
# ETCD_BIN and MINIO_BIN pick the etcd and MinIO servers (defaults: etcd on
# PATH, tools/bin/minio or minio on PATH).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CLUSTER_DIR:-$REPO/cluster-data}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PIDS="$DIR/pids"

read -r -a KAFKA <<<"${KAFKA_PORTS:-9092 9093 9094}"
read -r -a HTTP <<<"${HTTP_PORTS:-8080 8081 8082}"
read -r -a ECLIENT <<<"${ETCD_CLIENT_PORTS:-2379 22379 32379}"
read -r -a EPEER <<<"${ETCD_PEER_PORTS:-2380 22380 32380}"
MINIO_PORT="${MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
RACKS=(a b c)
BUCKET=strata
PREFIX=strata
MINIO_USER=strata
MINIO_PASSWORD=strata-secret
HOST=127.0.0.1

die() { echo "cluster: $*" >&2; exit 1; }

if [[ -s "$PIDS" ]]; then
	while read -r name pid; do
		if kill -0 "$pid" 2>/dev/null; then
			die "already running ($name is pid $pid); stop it with scripts/cluster-stop.sh"
		fi
	done <"$PIDS"
fi
: >"$PIDS"

# --- binaries ---
ETCD="${ETCD_BIN:-$(command -v etcd || true)}"
[[ -x "$ETCD" ]] || die "etcd not found: install the Debian package etcd-server (or set ETCD_BIN)"
MINIO="${MINIO_BIN:-}"
if [[ -z "$MINIO" ]]; then
	if [[ -x "$REPO/tools/bin/minio" ]]; then MINIO="$REPO/tools/bin/minio"; else MINIO="$(command -v minio || true)"; fi
fi
[[ -x "$MINIO" ]] || die "minio not found: run .ci/tools/minio.sh (or set MINIO_BIN)"
command -v curl >/dev/null || die "curl is needed to create the bucket and to check readiness"
STRATA="${STRATA_BIN:-}"
if [[ -z "$STRATA" ]]; then
	echo "cluster: building bin/strata" >&2
	(cd "$REPO" && go build -o bin/strata ./cmd/strata)
	STRATA="$REPO/bin/strata"
fi

# start NAME LOG CMD...: run CMD in its own session, detached from this
# shell, with output appended to LOG; records "NAME PID" in the pid file.
start() {
	local name=$1 log=$2
	shift 2
	echo "=== cluster.sh: $* ($(date -Is))" >>"$log"
	setsid "$@" >>"$log" 2>&1 </dev/null &
	echo "$name $!" >>"$PIDS"
}

# wait_http NAME URL LOG [PATTERN]: poll URL until it answers 200 (and its
# body contains PATTERN) or 60 s pass; on timeout show LOG's tail and fail.
wait_http() {
	local name=$1 url=$2 log=$3 pattern=${4:-} body
	for _ in $(seq 600); do
		if body="$(curl -fsS --max-time 2 "$url" 2>/dev/null)" && [[ -z "$pattern" || "$body" == *"$pattern"* ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "cluster: $name not ready at $url; log tail:" >&2
	tail -n 20 "$log" >&2 || true
	die "$name did not become ready (logs under $DIR); stop with scripts/cluster-stop.sh"
}

# --- etcd ---
initial=""
for i in 0 1 2; do
	initial+="${initial:+,}etcd$i=http://$HOST:${EPEER[$i]}"
done
endpoints=""
for i in 0 1 2; do
	d="$DIR/etcd$i"
	mkdir -p "$d"
	state=new
	[[ -d "$d/data/member" ]] && state=existing
	start "etcd$i" "$d/etcd.log" "$ETCD" --name "etcd$i" --data-dir "$d/data" \
		--listen-client-urls "http://$HOST:${ECLIENT[$i]}" --advertise-client-urls "http://$HOST:${ECLIENT[$i]}" \
		--listen-peer-urls "http://$HOST:${EPEER[$i]}" --initial-advertise-peer-urls "http://$HOST:${EPEER[$i]}" \
		--initial-cluster "$initial" --initial-cluster-state "$state" --initial-cluster-token strata-local
	endpoints+="${endpoints:+,}$HOST:${ECLIENT[$i]}"
done
for i in 0 1 2; do
	wait_http "etcd$i" "http://$HOST:${ECLIENT[$i]}/health" "$DIR/etcd$i/etcd.log" '"health":"true"'
done
echo "cluster: etcd ready at $endpoints" >&2

# --- MinIO ---
mkdir -p "$DIR/minio/data"
MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off MINIO_UPDATE=off \
	start minio "$DIR/minio/minio.log" "$MINIO" server --quiet \
	--address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" "$DIR/minio/data"
wait_http minio "http://$HOST:$MINIO_PORT/minio/health/ready" "$DIR/minio/minio.log"
# Create the bucket with a SigV4-signed PUT; 409 means it already exists.
code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
	--user "$MINIO_USER:$MINIO_PASSWORD" "http://$HOST:$MINIO_PORT/$BUCKET")"
[[ "$code" == 200 || "$code" == 409 ]] || die "create bucket $BUCKET on MinIO: HTTP $code"
echo "cluster: MinIO ready at http://$HOST:$MINIO_PORT (bucket $BUCKET)" >&2

# --- brokers ---
for i in 0 1 2; do
	id=$((i + 1))
	d="$DIR/broker$id"
	mkdir -p "$d"
	AWS_ACCESS_KEY_ID=$MINIO_USER AWS_SECRET_ACCESS_KEY=$MINIO_PASSWORD AWS_REGION=us-east-1 \
		start "broker$id" "$d/broker.log" "$STRATA" serve --node-id "$id" --rack "${RACKS[$i]}" \
		--kafka-addr "$HOST:${KAFKA[$i]}" --http-addr "$HOST:${HTTP[$i]}" --data-dir "$d/data" \
		--metastore "etcd://$endpoints/$PREFIX" \
		--objstore "s3://$BUCKET/$PREFIX?endpoint=http://$HOST:$MINIO_PORT&region=us-east-1"
	# The first broker bootstraps the cluster metadata before the others join.
	if [[ $i == 0 ]]; then
		wait_http broker1 "http://$HOST:${HTTP[0]}/readyz" "$d/broker.log"
	fi
done
for i in 1 2; do
	wait_http "broker$((i + 1))" "http://$HOST:${HTTP[$i]}/readyz" "$DIR/broker$((i + 1))/broker.log"
done

cat <<EOF
cluster: up under $DIR (pids in $PIDS)
  Kafka:   $HOST:${KAFKA[0]},$HOST:${KAFKA[1]},$HOST:${KAFKA[2]}   (racks a, b, c)
  HTTP:    http://$HOST:${HTTP[0]}  http://$HOST:${HTTP[1]}  http://$HOST:${HTTP[2]}
  etcd:    $endpoints  (prefix /$PREFIX/)
  MinIO:   http://$HOST:$MINIO_PORT  bucket $BUCKET  user $MINIO_USER / $MINIO_PASSWORD
  stop:    scripts/cluster-stop.sh   (add --wipe to delete $DIR)
EOF
