#!/usr/bin/env bash
# A nightly vpcreach audit: collect a snapshot of the account (read-only EC2 calls), audit it
# against the policies, keep the reports, and use tonight's JSON as tomorrow's baseline so that
# each new finding fails one run (and is listed as `unchanged` afterwards).
#
# Exit code: 0 nothing new at or above $VPCREACH_FAIL_ON, 1 new findings, 2 the job itself failed.
# Credentials come from the standard AWS chain (AWS_PROFILE, instance role, SSO, …).
set -euo pipefail

STATE=${VPCREACH_STATE:-/var/lib/vpcreach}
POLICIES=${VPCREACH_POLICIES:-/etc/vpcreach/policies}
SUPPRESSIONS=${VPCREACH_SUPPRESSIONS:-/etc/vpcreach/suppressions.toml}
FAIL_ON=${VPCREACH_FAIL_ON:-high}
KEEP_DAYS=${VPCREACH_KEEP_DAYS:-30}

day=$(date -u +%F)
snap="$STATE/snapshots/$day"
reports="$STATE/reports"
mkdir -p "$STATE/snapshots" "$reports"

vpcreach collect --quiet --all-regions --out "$snap"

args=(--snapshot "$snap" --policies "$POLICIES" --fail-on "$FAIL_ON")
[ -f "$SUPPRESSIONS" ] && args+=(--suppressions "$SUPPRESSIONS")
[ -f "$STATE/baseline.json" ] && args+=(--baseline "$STATE/baseline.json")

status=0
vpcreach audit "${args[@]}" --output json >"$reports/$day.json" || status=$?
if [ "$status" -ge 2 ]; then
  echo "vpcreach audit failed (exit $status); the baseline is kept" >&2
  exit 2
fi
# The same snapshot, so the same findings: a report for people beside the JSON.
vpcreach audit "${args[@]}" --output markdown >"$reports/$day.md" || true
vpcreach audit "${args[@]}" --output sarif >"$reports/$day.sarif" || true

cp "$reports/$day.json" "$STATE/baseline.json"
find "$STATE/snapshots" -mindepth 1 -maxdepth 1 -type d -mtime +"$KEEP_DAYS" -exec rm -rf {} +
exit "$status"
