/** mulberry32: a small, fast, seeded generator, good enough to pick test inputs reproducibly. */
export function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a randomized test: TONGBAO_TEST_SEED to rerun a failure, else a fresh one (print it). */
export function testSeed(): number {
  return Number(process.env.TONGBAO_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
}
