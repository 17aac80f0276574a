#!/usr/bin/env bash
# Regenerates the scenario clips and their ground truth (see README.md).
# Needs ffmpeg and Debian's opencv-doc (for vtest.avi, the pedestrian source).
set -euo pipefail
cd "$(dirname "$0")/../.."
synth() { go run ./testvideos/synth "$@"; }
d=testvideos/scenarios

synth -sprite vtest:0 -size 640x360 -fps 10 -seconds 13 -figure-height 0.5 \
  -path '0.1,0.6;0.84,0.6;0.84,0.2' -config $d/privacy-doorway/config.yaml -camera corridor-cam \
  -out $d/privacy-doorway/clip.mp4

synth -sprite vtest:1 -size 640x360 -fps 10 -seconds 8 -figure-height 0.5 \
  -path '0.1,0.6;0.9,0.6' -config $d/unsigned-zone/config.yaml -camera lobby-cam \
  -out $d/unsigned-zone/clip.mp4

synth -sprite vtest:0 -sizes 640x360,960x540 -fps 10 -seconds 8 -figure-height 0.5 \
  -path '0.08,0.6;0.6,0.6' -config $d/resolution-change/config.yaml -camera corridor-cam \
  -out $d/resolution-change/clip.ts
