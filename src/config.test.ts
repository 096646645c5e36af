import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, TONGBAO_TIMEZONE: 'Asia/Shanghai', TONGBAO_SANDBOX: 'on', NODE_ENV: 'development' });
    expect(config.notifyRetrySeconds).toEqual([10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 54000]);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.preauthHoldSeconds).toBe(30 * 86_400);
  });

  it('takes a pre-authorization hold period in days, decimals allowed, up to a year', () => {
    expect(loadConfig({ TONGBAO_PREAUTH_HOLD_DAYS: '0.5' }).preauthHoldSeconds).toBe(43_200);
    expect(() => loadConfig({ TONGBAO_PREAUTH_HOLD_DAYS: '0' })).toThrow(/TONGBAO_PREAUTH_HOLD_DAYS/);
    expect(() => loadConfig({ TONGBAO_PREAUTH_HOLD_DAYS: '366' })).toThrow(/TONGBAO_PREAUTH_HOLD_DAYS/);
  });

  it('names every bad value with what was given', () => {
    try {
      loadConfig({ PORT: '99999', TONGBAO_SANDBOX: 'maybe', DATABASE_URL: 'mysql://x', TONGBAO_NOTIFY_RETRY_SECONDS: '10,abc' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      expect(text).toContain('PORT: must be <= 65535 (got "99999")');
      expect(text).toContain('TONGBAO_SANDBOX');
      expect(text).toContain('DATABASE_URL');
      expect(text).toContain('TONGBAO_NOTIFY_RETRY_SECONDS');
    }
  });

  it('refuses an unknown time zone and production without secrets', () => {
    expect(() => loadConfig({ TONGBAO_TIMEZONE: 'Mars/Olympus' })).toThrow(/TONGBAO_TIMEZONE/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/TONGBAO_ADMIN_TOKEN: required/);
  });

  it('refuses a test clock in production', () => {
    const secrets = { TONGBAO_ADMIN_TOKEN: 'x'.repeat(24), TONGBAO_MASTER_KEY: `${'A'.repeat(43)}=` };
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).TONGBAO_TEST_CLOCK).toBe('off');
    expect(() => loadConfig({ NODE_ENV: 'production', TONGBAO_TEST_CLOCK: 'on', ...secrets })).toThrow(/TONGBAO_TEST_CLOCK: must be off/);
  });
});
