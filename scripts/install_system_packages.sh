#!/usr/bin/env bash
# Debian packages the test suite needs that pip cannot bring: installs only what is missing, so a
# second run is a no-op and needs no network. Add a package to PACKAGES (one per line, with the
# command or file that shows it is there) and every `make test` installs it where it is missing.
set -euo pipefail

# package            present when this exists
PACKAGES="
chromium             /usr/bin/chromium
fonts-dejavu-core    /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
"

missing=()
while read -r package marker; do
    [ -z "$package" ] && continue
    [ -e "$marker" ] || missing+=("$package")
done <<< "$PACKAGES"

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing system packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
