/**
 * Stripe's request encoding: application/x-www-form-urlencoded bodies and query strings whose keys nest with
 * brackets (`metadata[order]=1`, `created[gte]=1700000000`, `expand[0]=latest_charge`). Decoded here into
 * plain objects; keys whose children are all numbers become arrays.
 */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** `a[b][c]` → ['a', 'b', 'c']; null for a key that is not well formed. */
function keyPath(key: string): string[] | null {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return null;
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] ?? '');
  return [match[1]!, ...rest];
}

function arraysWhereNumeric(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arraysWhereNumeric(value[key]!);
  if (keys.length > 0 && keys.every((key) => /^\d+$/.test(key))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => converted[key]!);
  }
  return converted;
}

export type FormParsing = { ok: true; params: FormObject } | { ok: false; key: string };

export function decodeForm(text: string): FormParsing {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = keyPath(key);
    if (!path) return { ok: false, key };
    let node: FormObject = root;
    for (const [index, part] of path.entries()) {
      const last = index === path.length - 1;
      const name = part === '' ? String(Object.keys(node).length) : part;
      if (last) {
        node[name] = value;
      } else {
        const next = node[name];
        if (typeof next === 'string' || Array.isArray(next)) return { ok: false, key };
        node = node[name] = next ?? {};
      }
    }
  }
  return { ok: true, params: arraysWhereNumeric(root) as FormObject };
}

/** A string parameter, or undefined when absent or not a plain string. */
export function stringParam(params: FormObject, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

export function objectParam(params: FormObject, name: string): FormObject | undefined {
  const value = params[name];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** An integer parameter: undefined when absent, null when present but not an integer. */
export function integerParam(params: FormObject, name: string): number | null | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : null;
}
