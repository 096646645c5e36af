import { Type } from '@sinclair/typebox';

/** Shared admin API shapes. */
export const Paging = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});

export const ErrorReply = Type.Object({ code: Type.String(), message: Type.String() });
