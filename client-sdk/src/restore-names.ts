/**
 * File names for restored items whose ids become files (a chat's conversation, a media file's
 * source id): `lifeboat restore` uses them, and a host writing files from `client.restore` can
 * too. Ids may be anything up to 1024 characters (slashes, dots, unicode), file names may not, so
 * the mapping is:
 *
 * - a **plain** id (ASCII letters, digits, `.`, `_`, `-`; not starting with `.` or `-`, not ending
 *   with `.`, not a Windows device name, at most {@link PLAIN_NAME_MAX_BYTES} bytes) is its own
 *   file name;
 * - any other id is **encoded** as a readable prefix (its first characters, each outside the
 *   plain set replaced by `_`), `~`, 24 hex digits of the SHA-256 of the id, and the id's own
 *   short extension if it has one: `Documents/notes.txt` -> `Documents_notes~3f1c…e9.txt`.
 *
 * Plain names never contain `~` and every encoded name does, so no plain id can equal another
 * id's encoding (the `id-…` look-alike collision of the earlier base64 scheme), and two encoded
 * ids differ by their hash. A hash is not injective in principle, and file systems that ignore
 * case (macOS, Windows) fold `A` and `a` together, so {@link RestoreNames} also checks uniqueness
 * within one restore and moves to the next free name (`…~2`) on a clash. Every name is at most
 * {@link RESTORE_NAME_MAX_BYTES} bytes of `[A-Za-z0-9._~-]`, which leaves room for a suffix such as
 * `.ndjson` under the common 255-byte limit, and is never `.` or `..`.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { utf8Bytes } from './utf8';

/** Longest id that is kept as its own file name. */
export const PLAIN_NAME_MAX_BYTES = 120;
/** Longest readable prefix of an encoded name. */
const PREFIX_MAX = 64;
/** Hex digits of the id's SHA-256 in an encoded name (96 bits). */
const HASH_DIGITS = 24;
/** Longest name this module returns: a plain id, or a prefix, `~`, the hash, a clash counter and an extension. */
export const RESTORE_NAME_MAX_BYTES = Math.max(PLAIN_NAME_MAX_BYTES, PREFIX_MAX + 1 + HASH_DIGITS + 8 + 11);

const PLAIN = /^[A-Za-z0-9._-]+$/;
// Device names Windows refuses as file names, with or without an extension.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;
const EXTENSION = /\.([A-Za-z0-9]{1,10})$/;

/** True for an id that is its own file name. */
export function isPlainName(id: string): boolean {
  return (
    id.length > 0 &&
    id.length <= PLAIN_NAME_MAX_BYTES &&
    PLAIN.test(id) &&
    !id.startsWith('.') &&
    !id.startsWith('-') &&
    !id.endsWith('.') &&
    !WINDOWS_DEVICE.test(id)
  );
}

/**
 * The encoded name of an id (see the module comment); `clash` > 0 gives the next candidate when
 * an earlier name of the same restore took this one. With `display` (a media file's own name) the
 * readable prefix and extension come from it and the hash from the id, so two files of the same
 * name get different names whatever order they come in.
 * @default clash 0, display the id
 */
export function encodedName(id: string, clash = 0, display = id): string {
  const hash = bytesToHex(sha256(utf8Bytes(id))).slice(0, HASH_DIGITS);
  // The extension of the name's last path segment, so a restored `photo.jpg` still opens as a JPEG.
  const ext = EXTENSION.exec(display.slice(display.lastIndexOf('/') + 1))?.[0] ?? '';
  const stem = display.slice(0, display.length - ext.length);
  let prefix = '';
  for (const ch of stem) {
    if (prefix.length >= PREFIX_MAX) break;
    prefix += /^[A-Za-z0-9._-]$/.test(ch) ? ch : '_';
  }
  // No hidden file, no name that reads as a command-line flag.
  prefix = prefix.replace(/^[.-]/, '_') || 'id';
  return `${prefix}~${hash}${clash > 0 ? `~${clash + 1}` : ''}${ext}`;
}

/** The file name of an id, without the uniqueness check of {@link RestoreNames}. */
export function restoreFileName(id: string): string {
  return isPlainName(id) ? id : encodedName(id);
}

/**
 * The file names of one restore's folder (one per directory: `chats/`, `media/`): the same id
 * always gets the same name, and no two ids get names that are equal or differ only in case.
 */
export class RestoreNames {
  private readonly taken = new Map<string, string>();
  private readonly names = new Map<string, string>();

  /** @param encode the encoding of unplain names and of clashes (tests pass a weak one to force clashes). @default encodedName */
  constructor(private readonly encode: (id: string, clash: number, display?: string) => string = encodedName) {}

  /**
   * The id's file name, and whether it differs from the id (the restore report lists those).
   * `display` is the name the item should have if it can (a media file's own name, from its
   * `meta`): kept as is when it is plain and free, else encoded as a readable prefix of it with
   * the id's hash. @default display the id
   */
  nameFor(id: string, display: string = id): { name: string; encoded: boolean } {
    const known = this.names.get(id);
    if (known !== undefined) return { name: known, encoded: known !== id };
    const own = display === id ? [] : [display];
    let name = isPlainName(display) ? display : this.encode(id, 0, ...own);
    for (let clash = 0; this.taken.has(name.toLowerCase()); clash++) {
      name = this.encode(id, clash, ...own);
    }
    this.taken.set(name.toLowerCase(), id);
    this.names.set(id, name);
    return { name, encoded: name !== id };
  }
}
