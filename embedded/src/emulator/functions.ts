/**
 * The entry point of the emulator codebase (`embedded/emulator/`, loaded by `npm run emulators`
 * and the offline emulator test where the Firestore and Storage emulators cannot run): the
 * deployed codebase's functions, unchanged, on the emulator runtime (emulator-runtime.ts) instead
 * of the production one, plus the example event subscriber. Nothing here is in the deploy bundle.
 */
import { useRuntime } from '@lifeboat/engine/firebase/runtime/firebase-runtime';
import { createEmulatorRuntime } from './emulator-runtime';

export * from '@lifeboat/engine';
export { onLifeboatBackupCompleted } from './example-subscriber';

// After the deployed entry chose the production runtime (it is built lazily, so never here).
useRuntime(() => createEmulatorRuntime());
