#!/usr/bin/env bash
# make bench-cameras: how many cameras this box sustains (edge bench
# --find-max, see docs/performance.md) on testvideos/vtest.mp4 (768x576 @ 10
# fps) and on a 720p @ 15 fps clip made from it with ffmpeg (written to out/,
# which git ignores, and made only once). Reports go to out/bench-*.json and
# the text summary to the terminal.
#
# make soak (SOAK=1): 8 cameras of vtest.mp4 for 10 minutes, RSS sampled
# every minute, report in out/soak.json.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGE=${EDGE:-bin/edge}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
mkdir -p out

if [ "${SOAK:-0}" = 1 ]; then
	"$EDGE" bench --clip testvideos/vtest.mp4 --cameras "${SOAK_CAMERAS:-8}" --seconds "${SOAK_SECONDS:-600}" \
		--rss-every 1m --json >out/soak.json
	python3 - out/soak.json <<'PY' 2>/dev/null || cat out/soak.json
import json, sys
r = json.load(open(sys.argv[1]))
n = r["cameras"]
print(f"soak: {n} cameras, {r['seconds']:.0f} s, sustained={r['sustained']}, RSS {r['rss_mb']:.0f} MB ({r['rss_per_camera_mb']:.1f} MB per camera)")
ss = r.get("rss_samples", [])
for s in ss:
    print(f"  minute {s['at_s']/60:4.1f}: RSS {s['mb']:.0f} MB = {s['mb']/n:.1f} MB per camera "
          f"(Go {s.get('go_mb', 0):.0f} MB, of it heap objects {s.get('go_heap_mb', 0):.0f} MB; native {s['mb'] - s.get('go_mb', 0):.0f} MB)")
# The issue's flatness figure: growth from minute 2 to the last sample.
at2 = [s for s in ss if s["at_s"] >= 120]
if len(at2) >= 2:
    a, b = at2[0], at2[-1]
    print(f"  growth minute {a['at_s']/60:.0f} -> {b['at_s']/60:.0f}: RSS {100*(b['mb']/a['mb']-1):+.1f}%, "
          f"Go {b.get('go_mb', 0) - a.get('go_mb', 0):+.1f} MB, native {(b['mb']-b.get('go_mb', 0)) - (a['mb']-a.get('go_mb', 0)):+.1f} MB")
PY
	exit 0
fi

clip720=out/vtest-720p15.mp4
if [ ! -s "$clip720" ]; then
	# Scaled and re-timed (10 -> 15 fps, frames repeated), H.264 without
	# B-frames and a keyframe every 2 s, like a camera's main stream.
	ffmpeg -hide_banner -loglevel error -y -i testvideos/vtest.mp4 \
		-vf "scale=1280:720,fps=15" -c:v libx264 -preset veryfast -profile:v main -bf 0 -g 30 -an "$clip720"
fi

for clip in testvideos/vtest.mp4 "$clip720"; do
	name=$(basename "$clip" .mp4)
	"$EDGE" bench --clip "$clip" --find-max --seconds "$SECONDS_PER_RUN" --json >"out/bench-$name.json"
	python3 - "out/bench-$name.json" <<'PY' 2>/dev/null || cat "out/bench-$name.json"
import json, sys
r = json.load(open(sys.argv[1]))
best = max([t["cameras"] for t in r.get("find_max_trials", []) if t["sustained"]] or [0])
print(f"{r['clip']}: sustained up to {best} cameras; trials: " +
      ", ".join(f"{t['cameras']}={'ok' if t['sustained'] else 'no'}" for t in r.get("find_max_trials", [])))
print(f"  at {r['cameras']} cameras: decode+mask {r['decode_mask_fps']:.0f} fps, ffmpeg -threads 1 {r['ffmpeg_decode_fps']:.0f} fps "
      f"(ratio {r['decode_mask_to_ffmpeg']:.2f}), p99 event {r['p99_event_latency_ms']:.0f} ms, RSS {r['rss_mb']:.0f} MB, CPU {r['cpu_percent']:.0f}%")
PY
done
