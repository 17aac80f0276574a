#!/usr/bin/env bash
# The demo: testvideos/ replayed as RTSP cameras, the pipeline on configs/demo.yaml
# (privacy zone + signed zone, embedded MQTT broker), and every published message
# printed as a subscriber receives it. Runs until Ctrl-C, or DEMO_SECONDS seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${EDGE_BIN:-bin/edge}
rtsp=${DEMO_RTSP_ADDR:-127.0.0.1:8554}
config=${DEMO_CONFIG:-configs/demo.yaml}
seconds=${DEMO_SECONDS:-0}
spool=$(mktemp -d)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$spool"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: replaying testvideos/ at rtsp://$rtsp/<name>" >&2
"$bin" replay --addr "$rtsp" testvideos/ &
pids+=($!)

# The embedded broker listens on the usual MQTT port so that other subscribers
# (mosquitto_sub, Home Assistant, Node-RED) can watch too; if something already
# holds it (a system mosquitto), a free port is used instead.
mqtt=${DEMO_MQTT_ADDR:-127.0.0.1:1883}
if (exec 3<>"/dev/tcp/${mqtt%:*}/${mqtt##*:}") 2>/dev/null; then
  echo "demo: $mqtt is taken; the embedded broker takes a free port (see its log line)" >&2
  mqtt=127.0.0.1:0
else
  echo "demo: embedded MQTT broker on tcp://$mqtt; watch from another terminal with: $bin watch --broker tcp://$mqtt" >&2
fi

echo "demo: running the pipeline on $config; Ctrl-C stops it" >&2
EDGE_MQTT_SPOOL_DIR="$spool" "$bin" run --config "$config" --embedded-broker "$mqtt" --print &
pids+=($!)

if [ "$seconds" -gt 0 ]; then
  sleep "$seconds"
  echo "demo: DEMO_SECONDS=$seconds elapsed, stopping" >&2
else
  wait -n "${pids[@]}"
fi
