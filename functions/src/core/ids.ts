import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new job id: 20 random letters and digits (about 119 bits), like Firestore's auto ids. No
 * `-` or `_`, so an id never reads as a command-line flag.
 */
export function newJobId(): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}
