#!/usr/bin/env bash
# Installs what is missing, builds ward with ASan+UBSan and runs the whole
# test suite (unit, fuzz-corpus replay, a short libFuzzer run of every
# harness, integration with real containers).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec tests/run.sh
