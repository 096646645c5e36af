import { inspect } from 'node:util';

/**
 * A credential that refuses to print: JSON, string conversion and util.inspect all show "[redacted]".
 * The value lives in a private field, which neither JSON.stringify nor object spreading can reach;
 * reveal() is the only way to read it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}
