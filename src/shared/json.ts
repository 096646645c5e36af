/** JSON-safe copy of a value: bigint amounts and ids become decimal strings, dates ISO strings. */
export function toPlainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner)));
}
