/**
 * Job keys of the scheduled jobs that belong to one hold or operation: at most one pending job per key. The
 * sweep's SQL looks jobs up by these same prefixes, so they are defined only here.
 */
export const jobKeyPrefixes = {
  expire: 'preauth-expire:',
  query: 'preauth-query:',
} as const;

export const jobKeys = {
  expire: (authNo: string) => `${jobKeyPrefixes.expire}${authNo}`,
  query: (operationNo: string) => `${jobKeyPrefixes.query}${operationNo}`,
};
