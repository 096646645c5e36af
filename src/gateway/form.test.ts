import { describe, expect, it } from 'vitest';
import { collectParams, parseForm } from './form.js';
import { findDuplicateKey } from './json.js';

describe('parseForm', () => {
  it('decodes keys and values exactly once', () => {
    const result = parseForm('a=1%2B1&b=x+y&c=%25252F&d=');
    expect(result).toEqual({ ok: true, pairs: [['a', '1+1'], ['b', 'x y'], ['c', '%252F'], ['d', '']] });
  });

  it('refuses broken percent-encoding and invalid UTF-8', () => {
    expect(parseForm('a=%E4%B8').ok).toBe(false);
    expect(parseForm('a=%zz').ok).toBe(false);
    expect(parseForm('a=%FF').ok).toBe(false);
  });

  it('reports duplicated keys and keeps the first value', () => {
    const parsed = parseForm('a=1&b=2&a=3');
    expect(parsed.ok && collectParams(parsed.pairs)).toEqual({ params: { a: '1', b: '2' }, duplicates: ['a'] });
  });
});

describe('findDuplicateKey', () => {
  it('finds duplicates at any depth and ignores repeated keys in different objects', () => {
    expect(findDuplicateKey('{"a":1,"b":2}')).toBeNull();
    expect(findDuplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(findDuplicateKey('{"x":{"a":1},"y":{"a":1}}')).toBeNull();
    expect(findDuplicateKey('{"x":[{"k":"v"},{"k":"v","k":"w"}]}')).toBe('x[1].k');
    expect(findDuplicateKey('{"s":"a\\"b","t":"}{","s":1}')).toBe('s');
    expect(findDuplicateKey(' { "a" : [ ] , "b" : { } , "c" : null , "a" : true } ')).toBe('a');
  });
});
