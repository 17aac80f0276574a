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
  # edge first, then its cameras: the other way round it logs a lost stream.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$spool"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The cameras come first: the pipeline starts once the replayed cameras
# answer, so it never opens with a reconnect warning. Their own log goes to a
# file, so that the terminal shows the header and the events only.
"$bin" replay --addr "$rtsp" testvideos/ >"$spool/replay.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/${rtsp%:*}/${rtsp##*:}") 2>/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the replayed cameras did not start:" >&2
    cat "$spool/replay.log" >&2
    exit 1
  fi
  sleep 0.1
done

# The embedded broker listens on the usual MQTT port so that other subscribers
# (mosquitto_sub, Home Assistant, Node-RED) can watch too; if something already
# holds it (a system mosquitto), a free port is used instead.
mqtt=${DEMO_MQTT_ADDR:-127.0.0.1:1883}
watch_hint="watch from another terminal: $bin watch --broker tcp://$mqtt"
if (exec 3<>"/dev/tcp/${mqtt%:*}/${mqtt##*:}") 2>/dev/null; then
  mqtt=127.0.0.1:0
  watch_hint="1883 is taken, so the broker takes a free port (EDGE_LOG_LEVEL=info shows it)"
fi

echo "demo: cameras replayed from testvideos/ at rtsp://$rtsp/<name>, pipeline on $config, embedded MQTT broker on tcp://$mqtt ($watch_hint); Ctrl-C stops it" >&2
# Warnings and errors still show; EDGE_LOG_LEVEL=info shows the rest.
EDGE_LOG_LEVEL=${EDGE_LOG_LEVEL:-warn} EDGE_MQTT_SPOOL_DIR="$spool" "$bin" run --config "$config" --embedded-broker "$mqtt" --print &
pids+=($!)

if [ "$seconds" -gt 0 ]; then
  sleep "$seconds"
else
  wait -n "${pids[@]}"
fi
