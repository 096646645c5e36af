/**
 * JSON.parse keeps the last of duplicated keys silently; a payment API must not guess which
 * amount was meant. This scanner walks a JSON text that JSON.parse already accepted and returns
 * the path of the first key that appears twice in one object, or null.
 */
export function findDuplicateKey(text: string): string | null {
  let index = 0;

  function skipWhitespace(): void {
    while (index < text.length && ' \t\n\r'.includes(text[index]!)) index++;
  }

  function readString(): string {
    const start = index;
    index++; // opening quote
    while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
    index++;
    return JSON.parse(text.slice(start, index)) as string;
  }

  function readValue(path: string): string | null {
    skipWhitespace();
    const char = text[index];
    if (char === '{') {
      index++;
      const seen = new Set<string>();
      skipWhitespace();
      if (text[index] === '}') { index++; return null; }
      for (;;) {
        skipWhitespace();
        const key = readString();
        const keyPath = path ? `${path}.${key}` : key;
        if (seen.has(key)) return keyPath;
        seen.add(key);
        skipWhitespace();
        index++; // colon
        const duplicate = readValue(keyPath);
        if (duplicate) return duplicate;
        skipWhitespace();
        if (text[index++] === '}') return null;
      }
    }
    if (char === '[') {
      index++;
      skipWhitespace();
      if (text[index] === ']') { index++; return null; }
      for (let item = 0; ; item++) {
        const duplicate = readValue(`${path}[${item}]`);
        if (duplicate) return duplicate;
        skipWhitespace();
        if (text[index++] === ']') return null;
      }
    }
    if (char === '"') { readString(); return null; }
    while (index < text.length && !',}] \t\n\r'.includes(text[index]!)) index++;
    return null;
  }

  return readValue('');
}

/** Whether a JSON text nests arrays and objects more than `limit` levels deep; brackets inside strings do not count. */
export function jsonNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      if (++depth > limit) return true;
    } else if (char === '}' || char === ']') {
      depth--;
    }
  }
  return false;
}
