/**
 * The subset of Stripe's search query language the simulator understands: clauses `field:'value'` (or
 * "value") joined by AND or by OR (Stripe does not allow mixing them), where field is `metadata['key']`,
 * `status`, `currency` or `amount`. Values may escape quotes and backslashes with a backslash.
 */
export interface SearchClause {
  readonly field: string;
  /** The metadata key when field is 'metadata'. */
  readonly key?: string;
  readonly value: string;
}

export type SearchQuery = { ok: true; join: 'AND' | 'OR'; clauses: SearchClause[] } | { ok: false; message: string };

const plainFields = new Set(['status', 'currency', 'amount']);

function readQuoted(text: string, start: number): { value: string; end: number } | null {
  const quote = text[start];
  if (quote !== "'" && quote !== '"') return null;
  let value = '';
  for (let index = start + 1; index < text.length; index += 1) {
    const char = text[index]!;
    if (char === '\\') {
      const next = text[index + 1];
      if (next === undefined) return null;
      value += next;
      index += 1;
    } else if (char === quote) {
      return { value, end: index + 1 };
    } else {
      value += char;
    }
  }
  return null;
}

export function parseSearchQuery(query: string): SearchQuery {
  const clauses: SearchClause[] = [];
  const joins = new Set<'AND' | 'OR'>();
  let position = 0;
  const skipSpaces = () => {
    while (query[position] === ' ') position += 1;
  };
  for (;;) {
    skipSpaces();
    let field: string;
    let key: string | undefined;
    if (query.startsWith('metadata[', position)) {
      const quoted = readQuoted(query, position + 'metadata['.length);
      if (!quoted || query[quoted.end] !== ']') return { ok: false, message: `malformed metadata field at ${position}` };
      field = 'metadata';
      key = quoted.value;
      position = quoted.end + 1;
    } else {
      const match = /^[a-z_]+/.exec(query.slice(position));
      if (!match || !plainFields.has(match[0])) return { ok: false, message: `unsupported field at ${position}` };
      field = match[0];
      position += match[0].length;
    }
    if (query[position] !== ':') return { ok: false, message: `expected ':' at ${position}` };
    const quoted = readQuoted(query, position + 1);
    if (!quoted) return { ok: false, message: `expected a quoted value at ${position + 1}` };
    clauses.push(key === undefined ? { field, value: quoted.value } : { field, key, value: quoted.value });
    position = quoted.end;
    skipSpaces();
    if (position >= query.length) break;
    const join = /^(AND|OR) /.exec(query.slice(position));
    if (!join) return { ok: false, message: `expected AND or OR at ${position}` };
    joins.add(join[1] as 'AND' | 'OR');
    position += join[0].length;
  }
  if (joins.size > 1) return { ok: false, message: 'AND and OR cannot be combined in one query' };
  return { ok: true, join: joins.has('OR') ? 'OR' : 'AND', clauses };
}

/** Whether an object with these fields matches the parsed query. */
export function matchesQuery(query: { join: 'AND' | 'OR'; clauses: SearchClause[] }, object: { metadata: Record<string, string>; status: string; currency: string; amount: number }): boolean {
  const test = (clause: SearchClause) => {
    if (clause.field === 'metadata') return object.metadata[clause.key ?? ''] === clause.value;
    return String(object[clause.field as 'status' | 'currency' | 'amount']) === clause.value;
  };
  return query.join === 'OR' ? query.clauses.some(test) : query.clauses.every(test);
}
