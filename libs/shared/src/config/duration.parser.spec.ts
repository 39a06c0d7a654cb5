import { parseDuration } from './duration.parser';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m 15s', 5_415_000],
    ['2 days', 172_800_000],
    ['1w', 604_800_000],
    ['1500us', 1.5],
    ['0', 0],
    ['PT5M', 300_000],
    ['P1DT1H', 90_000_000],
    ['PT0.5S', 500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '10', 'ten seconds', '10 parsecs', '5m garbage', '-5s', '1.5h', 'P', 'PT'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});
