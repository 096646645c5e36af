/** Wall-clock times in a named zone, as the gateway protocol writes them: "yyyy-MM-dd HH:mm:ss". */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

function wallClockParts(date: Date, zone: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(date)) parts[part.type] = part.value;
  return parts;
}

const two = (value: number) => String(value).padStart(2, '0');

export function formatWallClock(date: Date, zone: string): string {
  const local = new Date(Math.floor(date.getTime() / 1000) * 1000 + zoneOffsetMs(date, zone));
  return `${local.getUTCFullYear()}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}`;
}

// Offsets change only at zone transitions, which fall on quarter hours: one Intl call per zone and
// quarter hour instead of one per timestamp (Intl is the costliest step of reading a request).
const offsetCache = new Map<string, number>();
const quarterHourMs = 15 * 60 * 1000;

/** The zone's offset from UTC at that instant, in milliseconds. */
function zoneOffsetMs(date: Date, zone: string): number {
  const bucket = Math.floor(date.getTime() / quarterHourMs);
  const key = `${zone}@${bucket}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const start = new Date(bucket * quarterHourMs);
    const p = wallClockParts(start, zone);
    const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    offset = asUtc - start.getTime();
    if (offsetCache.size > 10_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  return offset;
}

/** Parses "yyyy-MM-dd HH:mm:ss" read in `zone`; null when the text is not a real date and time. */
export function parseWallClock(text: string, zone: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const guess = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(guess);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  const first = guess - zoneOffsetMs(new Date(guess), zone);
  return new Date(guess - zoneOffsetMs(new Date(first), zone));
}

/**
 * The first moment strictly after `after` at which the zone's wall clock reads `cutoff` ("HH:mm"): the end
 * of the business day `after` belongs to. A payment at 23:40 with a 23:00 cut-off belongs to the next day.
 */
export function nextCutoff(after: Date, cutoff: string, zone: string): Date {
  const day = formatWallClock(after, zone).slice(0, 10);
  const sameDay = parseWallClock(`${day} ${cutoff}:00`, zone);
  if (!sameDay) throw new Error(`cut-off must be HH:mm, got ${JSON.stringify(cutoff)}`);
  if (sameDay > after) return sameDay;
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return parseWallClock(`${next} ${cutoff}:00`, zone)!;
}

/** The first moment of the zone's calendar day that `date` falls in (a daily limit counts from it). */
export function startOfDay(date: Date, zone: string): Date {
  return parseWallClock(`${formatWallClock(date, zone).slice(0, 10)} 00:00:00`, zone)!;
}
