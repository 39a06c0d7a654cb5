const MS_PER: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  // humantime's month and year: 30.44 and 365.25 days.
  M: 2_630_016_000,
  y: 31_557_600_000,
};

// Every spelling humantime (the Rust crate behind Restate's durations) accepts, by unit.
const UNIT_NAMES: Readonly<Record<string, string>> = {
  nanos: 'ns',
  nsec: 'ns',
  ns: 'ns',
  micros: 'us',
  usec: 'us',
  us: 'us',
  millis: 'ms',
  msecs: 'ms',
  msec: 'ms',
  ms: 'ms',
  seconds: 's',
  second: 's',
  secs: 's',
  sec: 's',
  s: 's',
  minutes: 'm',
  minute: 'm',
  mins: 'm',
  min: 'm',
  m: 'm',
  hours: 'h',
  hour: 'h',
  hrs: 'h',
  hr: 'h',
  h: 'h',
  days: 'd',
  day: 'd',
  d: 'd',
  weeks: 'w',
  week: 'w',
  w: 'w',
  months: 'M',
  month: 'M',
  M: 'M',
  years: 'y',
  year: 'y',
  y: 'y',
};

const HUMANTIME_PART = /(\d+)\s*([A-Za-z]+)\s*/y;
const ISO_8601 = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

function parseHumantime(text: string): number | undefined {
  let total = 0;
  HUMANTIME_PART.lastIndex = 0;
  while (HUMANTIME_PART.lastIndex < text.length) {
    const match = HUMANTIME_PART.exec(text);
    const unit = match ? UNIT_NAMES[match[2]] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * MS_PER[unit];
  }
  return total;
}

// Restate also takes ISO 8601 durations ("PT5M"), so a Restate config file may hold them.
function parseIso8601(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return days * MS_PER.d + hours * MS_PER.h + minutes * MS_PER.m + seconds * MS_PER.s;
}

/**
 * Milliseconds in a duration written like Restate's: humantime ("500ms", "10s", "1h 30m",
 * "2 days") or ISO 8601 ("PT1H30M"). Undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '0') return 0;
  return trimmed.startsWith('P') ? parseIso8601(trimmed) : parseHumantime(trimmed);
}
