/**
 * UTF-8 for the SDK without anything at import time: `TextEncoder` and `TextDecoder` are looked up
 * when first needed, not when a module loads, and where the runtime lacks them (React Native's
 * Hermes before 0.74 had no `TextEncoder`, before 0.85 no `TextDecoder`) a small pure-JS codec
 * does the same work. So importing the SDK never throws on a runtime a browser or Hermes is.
 */

type Encode = (text: string) => Uint8Array;
type Decode = (bytes: Uint8Array) => string;

let encode: Encode | null = null;
let decode: Decode | null = null;

/** UTF-8 bytes of a string; lone surrogates become U+FFFD, as `TextEncoder` does. */
export function utf8Bytes(text: string): Uint8Array {
  encode ??= pickEncoder();
  return encode(text);
}

/** The string of UTF-8 bytes; invalid sequences become U+FFFD, as a non-fatal `TextDecoder` does. */
export function utf8Text(bytes: Uint8Array): string {
  decode ??= pickDecoder();
  return decode(bytes);
}

function pickEncoder(): Encode {
  const Native = (globalThis as { TextEncoder?: typeof TextEncoder }).TextEncoder;
  if (typeof Native === 'function') {
    const native = new Native();
    return (text) => native.encode(text);
  }
  return encodeUtf8;
}

function pickDecoder(): Decode {
  const Native = (globalThis as { TextDecoder?: typeof TextDecoder }).TextDecoder;
  if (typeof Native === 'function') {
    const native = new Native();
    return (bytes) => native.decode(bytes);
  }
  return decodeUtf8;
}

/** The fallback encoder (WHATWG UTF-8 encode). */
export function encodeUtf8(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        code = 0xfffd;
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      code = 0xfffd;
    }
    if (code < 0x80) {
      out[at++] = code;
    } else if (code < 0x800) {
      out[at++] = 0xc0 | (code >> 6);
      out[at++] = 0x80 | (code & 63);
    } else if (code < 0x10000) {
      out[at++] = 0xe0 | (code >> 12);
      out[at++] = 0x80 | ((code >> 6) & 63);
      out[at++] = 0x80 | (code & 63);
    } else {
      out[at++] = 0xf0 | (code >> 18);
      out[at++] = 0x80 | ((code >> 12) & 63);
      out[at++] = 0x80 | ((code >> 6) & 63);
      out[at++] = 0x80 | (code & 63);
    }
  }
  return out.slice(0, at);
}

/** The fallback decoder (WHATWG UTF-8 decode with replacement, one U+FFFD per maximal bad subpart). */
export function decodeUtf8(bytes: Uint8Array): string {
  const units: number[] = [];
  let text = '';
  const flush = () => {
    text += String.fromCharCode(...units);
    units.length = 0;
  };
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    let need = 0;
    let code = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (lead < 0x80) {
      units.push(lead);
      i++;
    } else {
      if (lead >= 0xc2 && lead <= 0xdf) {
        need = 1;
        code = lead & 0x1f;
      } else if (lead >= 0xe0 && lead <= 0xef) {
        need = 2;
        code = lead & 0x0f;
        if (lead === 0xe0) lower = 0xa0;
        if (lead === 0xed) upper = 0x9f;
      } else if (lead >= 0xf0 && lead <= 0xf4) {
        need = 3;
        code = lead & 0x07;
        if (lead === 0xf0) lower = 0x90;
        if (lead === 0xf4) upper = 0x8f;
      }
      let j = i + 1;
      let ok = need > 0;
      for (let k = 0; ok && k < need; k++, j++) {
        const next = bytes[j];
        if (next === undefined || next < lower || next > upper) {
          ok = false;
          break;
        }
        code = (code << 6) | (next & 0x3f);
        lower = 0x80;
        upper = 0xbf;
      }
      if (!ok) {
        units.push(0xfffd);
        // The lead byte and the continuation bytes that were valid so far make one bad subpart.
        i = Math.max(i + 1, j);
      } else {
        if (code >= 0x10000) {
          code -= 0x10000;
          units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
        } else {
          units.push(code);
        }
        i = j;
      }
    }
    // Bounded argument lists for fromCharCode.
    if (units.length >= 8192) flush();
  }
  flush();
  return text;
}
