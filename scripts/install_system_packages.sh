#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python (CI machines may lack them). Idempotent: a need
# already met costs one dpkg query, and apt-get runs only when something is missing.
set -euo pipefail

# One need per line: the Debian packages that meet it, in order of preference; the first one apt
# offers is installed unless one of them is installed already. Add a line for a new need.
NEEDS=(
  "postgresql-15 postgresql"                          # tests: a real Postgres server (orchestration/engines/local_postgres.py)
  "openjdk-17-jre-headless openjdk-21-jre-headless"   # tests: Spark local[2] in-process (pyspark)
  "chromium"                                          # tests: the dashboard in a real browser (playwright)
  "fonts-dejavu-core"                                 # the dashboard's screenshots: a font with every glyph
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else
    echo "install_system_packages: root is needed for: $*" >&2
    return 1
  fi
}

if ! command -v dpkg-query >/dev/null; then
  echo "install_system_packages: not a Debian system; install these yourself: ${NEEDS[*]}" >&2
  exit 0
fi

missing=()
for need in "${NEEDS[@]}"; do
  met=0
  for package in $need; do
    if installed "$package"; then met=1; break; fi
  done
  [ "$met" -eq 1 ] || missing+=("$need")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
to_install=()
for need in "${missing[@]}"; do
  chosen=""
  for package in $need; do
    if apt-cache show "$package" >/dev/null 2>&1; then chosen="$package"; break; fi
  done
  if [ -z "$chosen" ]; then
    echo "install_system_packages: apt offers none of: $need" >&2
    exit 1
  fi
  to_install+=("$chosen")
done
echo "install_system_packages: installing ${to_install[*]}"
as_root apt-get install -y -qq --no-install-recommends "${to_install[@]}"
