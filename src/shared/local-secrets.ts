import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * In development the master key and the admin token are generated once into the data folder
 * (readable by the owner only) so `npm start` needs no setup; production sets them in the environment.
 */
export function readOrCreateLocalSecret(dataDir: string, fileName: string, create: () => string): string {
  const file = path.join(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = create();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}

export const newMasterKey = (): string => randomBytes(32).toString('base64');
export const newAdminToken = (): string => randomBytes(24).toString('base64url');
