#!/usr/bin/env bash
# Rewrite the initial migration from the current models (before the first
# release, while the schema is still one revision). Run from the repository root:
#   ./migrations/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rm -f migrations/versions/*.py
GONGSHI_DATABASE_URL="sqlite:///$scratch/empty.db" GONGSHI_SEARCH_INDEX_DIR="$scratch/index" GONGSHI_SAMPLE_DATA=0 \
  flask --app app db migrate -m "initial schema"
ls migrations/versions/
