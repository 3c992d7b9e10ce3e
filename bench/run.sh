#!/usr/bin/env bash
# Uprobe cost benchmark for ghostscope; see bench/README.md.
# Usage: sudo bench/run.sh [--runs N] [--seconds S] [--ghostscope PATH] [--keep-output]
set -euo pipefail
exec python3 "$(dirname "$(readlink -f "$0")")/run.py" "$@"
