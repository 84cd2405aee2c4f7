#!/usr/bin/env bash
# npm run test:emulators: the offline emulator test (functions, tasks, auth), then the Firestore and
# Cloud Storage conformance suites inside their emulators. Those two emulators need Java 21 and a
# JAR that firebase-tools downloads once; where either is missing this says so and exits non-zero,
# so a machine that cannot run them never reports them as passed.
set -uo pipefail
cd "$(dirname "$0")/.."
npx jest functions/test/emulator || exit 1

java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ -z "${java_major}" ] || [ "${java_major}" -lt 21 ]; then
  echo "test:emulators: Firestore/Storage conformance NOT RUN: their emulators need Java 21, found ${java_major:-no java}." >&2
  exit 1
fi
exec node node_modules/firebase-tools/lib/bin/firebase.js emulators:exec --project demo-lifeboat --only firestore,storage \
  "npx jest functions/test/adapters/firestore-emulator.test.ts functions/test/adapters/gcs-emulator.test.ts"
