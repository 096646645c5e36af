import { describe, expect, it } from 'vitest';
import { HealthWindow, percentile } from './health.js';

describe('channel health window', () => {
  it('reports availability, success rate and latency percentiles over the window only', () => {
    const window = new HealthWindow(60_000);
    const start = 1_000_000;
    window.record('error', 5000, start - 120_000); // outside the window
    for (let i = 1; i <= 100; i++) window.record(i <= 80 ? 'ok' : i <= 90 ? 'declined' : 'error', i, start);
    expect(window.figures(start)).toEqual({ calls: 100, availability: 0.9, successRate: 0.8, p50Ms: 50, p99Ms: 99 });
  });

  it('keeps a bounded number of samples and reads as healthy when idle', () => {
    const window = new HealthWindow(60_000, 10);
    for (let i = 0; i < 25; i++) window.record('error', 1, 1000);
    expect(window.figures(1000).calls).toBe(10);
    expect(new HealthWindow(1000).figures()).toEqual({ calls: 0, availability: 1, successRate: 1, p50Ms: null, p99Ms: null });
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([10], 0.99)).toBe(10);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
  });
});
