#!/usr/bin/env bash
# Sets up a fresh Debian machine that has Node >= 20.19 and npm: the system packages audex's
# capture, codecs and tests use, pnpm, and the workspace's dependencies (incl. naudiodon's build).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pulseaudio pulseaudio-utils libasound2-plugins # the virtual microphone PortAudio records from
  ffmpeg sox libsox-fmt-all opus-tools lame espeak-ng # test signals and real decoders
  sndfile-programs flac # strict readers: sndfile-info (WAV headers), flac -t (FLAC streams)
  chromium # the web demo's browser tests
  python3 make g++ # naudiodon's node-gyp build
  ceph-mon ceph-osd radosgw ceph-common # Ceph RGW, the real S3 server of the store tests (no mgr needed)
)
PNPM_VERSION=10.34.8

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: audex needs Node >= 20.19, this is "+process.version); process.exit(1) }'

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || {
    export COREPACK_INTEGRITY_KEYS=0
    corepack enable && corepack prepare "pnpm@$PNPM_VERSION" --activate
  }
fi

export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile
