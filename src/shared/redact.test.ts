import { describe, expect, it } from 'vitest';
import { redactCardData } from './redact.js';

describe('redactCardData', () => {
  it('keeps the last four digits of card numbers and hides CVV, expiry and codes', () => {
    const text = 'app_id=2026903530216958&biz_content={"card_no":"4242424242424242","card_cvv":"737","card_expiry":"1230","verify_code":"123456","n":"202611220000000000000006"}';
    const redacted = redactCardData(text, ['2026903530216958']);
    expect(redacted).toContain('"card_no":"************4242"');
    expect(redacted).toContain('"card_cvv":"[redacted]"');
    expect(redacted).toContain('"card_expiry":"[redacted]"');
    expect(redacted).toContain('"verify_code":"[redacted]"');
    expect(redacted).toContain('app_id=2026903530216958');
    // A 24-digit trade number and a digit run failing the Luhn check are not cards.
    expect(redacted).toContain('202611220000000000000006');
    expect(redactCardData('x 4242424242424241 y')).toBe('x 4242424242424241 y');
  });
});
