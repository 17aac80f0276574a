#!/usr/bin/env bash
# Runs `edge verify` on every scenario clip in testvideos/scenarios/ (and on
# testvideos/vtest.mp4 with configs/demo.yaml) and fails if any verdict
# differs from the expected one. Reports go to ${OUT:-out/verify-samples}/.
set -uo pipefail
cd "$(dirname "$0")/.."
edge=${EDGE:-bin/edge}
out=${OUT:-out/verify-samples}
mkdir -p "$out"

rows=()
bad=0
check() { # name config camera clip start expected [--recording]
  local name=$1 cfg=$2 cam=$3 clip=$4 start=$5 want=$6 mode=${7:---video} got rc fps
  rm -rf "${out:?}/$name" # verify refuses a report folder that is not empty
  "$edge" verify --config "$cfg" --camera "$cam" "$mode" "$clip" --start "$start" --out "$out/$name" >"$out/$name.log" 2>&1
  rc=$?
  case $rc in 0) got=PASS ;; 1) got=FAIL ;; 3) got=INCONCLUSIVE ;; *) got="ERROR(exit $rc)" ;; esac
  fps=$(sed -n 's/.*"processing_fps": \([0-9]*\.\?[0-9]\?\).*/\1/p' "$out/$name/report.json" 2>/dev/null | head -1)
  local mark=ok
  if [ "$got" != "$want" ]; then mark=UNEXPECTED; bad=1; fi
  rows+=("$(printf '%-20s %-9s %-9s %8s  %s' "$name" "$want" "$got" "${fps:--}" "$mark")")
}

for d in testvideos/scenarios/*/; do
  name=$(basename "$d")
  exp="$d/expected.json"
  [ -f "$exp" ] || continue
  field() { sed -n "s/^  \"$1\": \"\(.*\)\",\?$/\1/p" "$exp" | head -1; }
  check "$name" "$d/config.yaml" "$(field camera)" "$d/$(field clip)" "$(field start)" "$(field verdict)"
done
check vtest-demo configs/demo.yaml lobby testvideos/vtest.mp4 2026-03-01T12:00:00Z PASS
# The unmasked clip checked as if it were a recording: it must fail.
check raw-as-recording testvideos/scenarios/privacy-doorway/config.yaml corridor-cam \
  testvideos/scenarios/privacy-doorway/clip.mp4 2026-03-01T12:00:00Z FAIL --recording

printf '%-20s %-9s %-9s %8s  %s\n' scenario expected got "frames/s" ""
printf '%s\n' "${rows[@]}"
echo "reports: $out/<scenario>/report.html"
exit $bad
