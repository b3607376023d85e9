#!/usr/bin/env bash
# The one script that installs what smscope and its tests need (make install / test /
# demo and .ci/run all call it). Idempotent: it does the work only when something
# changed. Python packages come from requirements.lock (exact versions); system
# packages are installed only when missing and only when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "smscope needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv" >&2
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian ships venv (with ensurepip) in a separate package.
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "cannot create a virtual environment: install python3-venv (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

stamp=.venv/.smscope-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing Python packages from requirements.lock" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi

# PostgreSQL server binaries for the storage tests (skipped with a reason if absent).
have_pg() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
if ! have_pg && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing the PostgreSQL server (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The PDF report (WeasyPrint) lays text out with Pango and subsets fonts with HarfBuzz;
# DejaVu covers accents, the euro sign and most symbols.
report_debs="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
missing_debs=""
if command -v dpkg-query >/dev/null 2>&1; then
  for deb in $report_debs; do
    status=$(dpkg-query -W -f='${Status}' "$deb" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing_debs="$missing_debs $deb"
  done
fi
if [ -n "$missing_debs" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the PDF report's system packages:$missing_debs" >&2
    # shellcheck disable=SC2086  # one word per package
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing_debs >/dev/null
  else
    echo "the PDF report needs:$missing_debs (apt-get install$missing_debs)" >&2
  fi
fi

# The browser tests (Playwright) drive Debian's Chromium, never a downloaded one.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium not found: the browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi

# The npm smpp package for the interoperability tests (tests/interop), from its
# package-lock.json. Without Node.js those tests are skipped, with a reason.
interop=tests/interop
interop_stamp=$interop/node_modules/.smscope-installed
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ ! -f "$interop_stamp" ] || [ "$interop/package-lock.json" -nt "$interop_stamp" ]; then
    echo "installing the npm packages of $interop from package-lock.json" >&2
    (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$interop_stamp"
  fi
else
  echo "node/npm not found: the SMPP interop tests (tests/interop) will be skipped" >&2
fi
