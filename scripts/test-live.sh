#!/usr/bin/env bash
# npm run test:live: the Firestore and Cloud Storage conformance suites and the production
# composition root (functions/test/live) against a real project: LIFEBOAT_LIVE_PROJECT, with
# Application Default Credentials, on the database and buckets its functions/.env.PROJECT names.
# Without a project or credentials it says so and exits non-zero, so a run that tested nothing
# never passes.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${LIFEBOAT_LIVE_PROJECT:-}" ]; then
  echo "test:live SKIPPED: set LIFEBOAT_LIVE_PROJECT to a project Lifeboat is set up in (lifeboat doctor --project P passes)." >&2
  exit 1
fi
adc="${GOOGLE_APPLICATION_CREDENTIALS:-${CLOUDSDK_CONFIG:-$HOME/.config/gcloud}/application_default_credentials.json}"
if [ ! -f "${adc}" ] && [ -z "${LIFEBOAT_LIVE_ON_GCE:-}" ]; then
  echo "test:live SKIPPED: no Application Default Credentials (${adc} missing): run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS (LIFEBOAT_LIVE_ON_GCE=1 on a Google Cloud machine)." >&2
  exit 1
fi
echo "test:live: project ${LIFEBOAT_LIVE_PROJECT}" >&2
exec npx jest functions/test/live --runInBand
