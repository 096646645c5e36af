import type { Static, TObject } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Context } from '../context.js';
import { errors, TongbaoError } from '../errors.js';
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayAppRow } from '../merchant/index.js';

/** What a method handler knows about the call besides its biz_content. */
export interface GatewayCall {
  readonly app: GatewayAppRow;
  readonly method: string;
  /** notify_url from the common parameters, if the caller gave one. */
  readonly notifyUrl: string | null;
  readonly log: FastifyBaseLogger;
}

export interface GatewayMethod {
  readonly name: string;
  validate(biz: unknown): TongbaoError | null;
  handle(context: Context, call: GatewayCall, biz: Record<string, unknown>): Promise<Record<string, unknown>>;
}

const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false });

function toGatewayError(error: ErrorObject): TongbaoError {
  const field = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const missing = field ? `${field}.${error.params.missingProperty}` : String(error.params.missingProperty);
    return new TongbaoError(errors.missingParameter, `${missing} is required`);
  }
  if (error.keyword === 'additionalProperties') {
    const extra = field ? `${field}.${error.params.additionalProperty}` : String(error.params.additionalProperty);
    return new TongbaoError(errors.unknownParameter, `${extra} is not a field of this method`);
  }
  return new TongbaoError(errors.invalidParameter, `${field || 'biz_content'} ${error.message ?? 'is invalid'}`);
}

/**
 * Declares a gateway method: its biz_content schema (TypeBox, so the handler's type comes from it)
 * and its handler. Unknown fields are refused; every schema sets additionalProperties false.
 */
export function defineMethod<S extends TObject>(
  name: string,
  schema: S,
  handle: (context: Context, call: GatewayCall, biz: Static<S>) => Promise<Record<string, unknown>>,
): GatewayMethod {
  const validator: ValidateFunction = ajv.compile({ ...schema, additionalProperties: false });
  return {
    name,
    validate(biz) {
      if (validator(biz)) return null;
      return toGatewayError(validator.errors![0]!);
    },
    handle: handle as GatewayMethod['handle'],
  };
}

export class MethodRegistry {
  private readonly methods = new Map<string, GatewayMethod>();

  constructor(methods: readonly GatewayMethod[]) {
    for (const method of methods) {
      if (this.methods.has(method.name)) throw new Error(`gateway method ${method.name} defined twice`);
      this.methods.set(method.name, method);
    }
  }

  get(name: string): GatewayMethod | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }
}
