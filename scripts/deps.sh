#!/usr/bin/env bash
# Installs what the build, the demo and the tests need, and only what is missing.
# Idempotent: a second run on a ready machine does no network work at all.
# Works as root or through sudo; `apt-get update` runs only when a package is missing.
set -euo pipefail

packages=(
  pkg-config gcc
  libopencv-dev opencv-data opencv-doc
  libavcodec-dev libavutil-dev libswscale-dev libavformat-dev ffmpeg
  mosquitto mosquitto-clients
  nats-server
  chromium
  minisign
  # systemd-analyze checks configs/edge.service (no running systemd needed).
  systemd
  gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
)

# Extra packages for heavier optional targets come as arguments
# (make test-rabbitmq: scripts/deps.sh rabbitmq-server).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  # dpkg-query's status is the only reliable "installed" test; `dpkg -l` also lists removed ones.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "deps.sh: missing packages (${missing[*]}) and not root, no sudo: install them as root" >&2
      exit 1
    fi
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# mosquitto's package starts a system broker on :1883; tests start their own on a free port,
# so a running system service is harmless, but it must not be required. The same goes for
# nats-server (tests start a 3-node cluster of their own, internal/natstest).

if command -v go >/dev/null 2>&1; then
  go mod download
else
  echo "deps.sh: Go is not installed; install Go 1.22 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi

# golangci-lint, pinned (make test runs it), built from its Go module into
# $(go env GOPATH)/bin, where the Makefile looks for it. Reinstalled only
# when that binary is missing or another version.
lint_version=v2.15.0
lint_bin="$(go env GOPATH)/bin/golangci-lint"
if ! "$lint_bin" version 2>/dev/null | grep -q "version ${lint_version#v} \|version ${lint_version} "; then
  echo "deps.sh: installing golangci-lint $lint_version into $(dirname "$lint_bin")" >&2
  GOBIN="$(dirname "$lint_bin")" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$lint_version"
fi
