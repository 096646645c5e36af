/**
 * Parses application/x-www-form-urlencoded text (a query string or a body) exactly once, keeping
 * every occurrence of every key so duplicates can be refused instead of silently overwritten.
 */
export type FormParseResult =
  | { ok: true; pairs: Array<[string, string]> }
  | { ok: false; reason: string };

export function parseForm(text: string): FormParseResult {
  const pairs: Array<[string, string]> = [];
  if (text === '') return { ok: true, pairs };
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    const rawKey = equals === -1 ? piece : piece.slice(0, equals);
    const rawValue = equals === -1 ? '' : piece.slice(equals + 1);
    try {
      pairs.push([decode(rawKey), decode(rawValue)]);
    } catch {
      return { ok: false, reason: `"${rawKey.slice(0, 40)}" is not valid percent-encoded UTF-8` };
    }
  }
  return { ok: true, pairs };
}

function decode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** Merges query and body pairs: the first value of each key, and the keys that appeared more than once. */
export function collectParams(pairs: Array<[string, string]>): { params: Record<string, string>; duplicates: string[] } {
  const params: Record<string, string> = Object.create(null);
  const duplicates = new Set<string>();
  for (const [key, value] of pairs) {
    if (key in params) duplicates.add(key);
    else params[key] = value;
  }
  return { params, duplicates: [...duplicates] };
}
