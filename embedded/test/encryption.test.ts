/**
 * Encryption at rest through the embedded runtime: nothing a user backed up is readable in the
 * blob folder, a wrong master key fails clearly, and rotating the master key keeps every snapshot
 * restorable byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { ContentStore, masterKey, parseMasterKey, WrappedKeyRing, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { FolderBlobStore } from '../src/adapters/folder-blob-store';
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { restoreToFolder } from '../src/restore/folder-restore';
import { startEmbeddedRuntime } from '../src/runtime';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('encryption at rest (embedded)', () => {
  let dir: string;
  let snapshot: Snapshot;
  const contacts = demoContacts({ contacts: 120, seed: 5 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-crypt-'));
    const runtime = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, tokenSecret: 's', gcAfterBackup: false });
    try {
      const client = createBackupClient({ baseUrl: runtime.url, getToken: () => createToken('s', { uid: 'alice' }), deviceId: 'p' });
      const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
      const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
      snapshot = await client.getSnapshot(job.snapshotId as string);
    } finally {
      await runtime.stop();
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no plaintext in the blob folder: no e-mail address, no name, no device model', () => {
    const needles = [contacts[0]?.emails[0]?.address.toLowerCase(), contacts[7]?.name.display, 'Lifeboat Demo Phone'].map((n) => Buffer.from(n as string));
    const objects = files(join(dir, 'blobs', 'objects'));
    expect(objects.length).toBeGreaterThan(3);
    for (const file of objects) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
    }
  });

  it('a wrong master key fails with a clear error', async () => {
    const blobs = new FolderBlobStore(join(dir, 'blobs'));
    const wrong = new ContentStore(blobs, new WrappedKeyRing(blobs, { current: masterKey(new Uint8Array(randomBytes(32))) }));
    await expect(restoreToFolder(wrong, snapshot, join(dir, 'wrong'))).rejects.toMatchObject({ code: 'failed-precondition', message: expect.stringMatching(/wrapped by master key .* which is not configured/) });
  });

  it('rotating the master key keeps every snapshot restorable, byte for byte', async () => {
    const blobs = new FolderBlobStore(join(dir, 'blobs'));
    const oldKey = parseMasterKey(readFileSync(join(dir, 'master-key'), 'utf8'));
    const before = await restoreToFolder(new ContentStore(blobs, new WrappedKeyRing(blobs, { current: oldKey })), snapshot, join(dir, 'before'));
    const newKey = masterKey(new Uint8Array(randomBytes(32)));
    expect(await new WrappedKeyRing(blobs, { current: newKey, previous: [oldKey] }).rewrapAll()).toBe(1);
    const after = await restoreToFolder(new ContentStore(blobs, new WrappedKeyRing(blobs, { current: newKey })), snapshot, join(dir, 'after'));
    expect(after.items).toEqual(before.items);
    for (const name of ['contacts.ndjson', 'contacts.vcf', 'device-info.json']) {
      expect(readFileSync(join(dir, 'after', name)).equals(readFileSync(join(dir, 'before', name)))).toBe(true);
    }
  });
});
