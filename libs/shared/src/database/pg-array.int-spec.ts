import { DataSource } from 'typeorm';
import { seededRandom } from '../../../../test/support/seeded-random';
import { createDataSource } from './data-source';
import { pgArray } from './pg-array';
import { TEST_DATABASE_URL } from '../../../../test/support/database';

const random = seededRandom(__filename);

/** What Postgres reads from `pgArray`'s text is what pg's own conversion gives it. */
describe(`pgArray against Postgres (TEST_SEED=${random.seed})`, () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = createDataSource({ url: TEST_DATABASE_URL, poolSize: 1 });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds.destroy();
  });

  const roundTrip = async (type: string, values: readonly unknown[]) => {
    const rows: { v: unknown }[] = await ds.query(
      `SELECT v FROM unnest($1::${type}[]) WITH ORDINALITY AS u(v, i) ORDER BY i`,
      [pgArray(values as never)],
    );
    return rows.map((r) => r.v);
  };

  it('reads back every string, quotes, backslashes, braces, NULL-like words and odd characters', async () => {
    const fixed = [
      '',
      ' ',
      'NULL',
      'null',
      '{}',
      '{a,b}',
      'a,b',
      '"',
      '\\',
      'end\\',
      'C:\\dir\\file',
      'say "hi"',
      '{"json":"object","n":[1,2]}',
      'line\nbreak',
      'tab\there',
      '\u0001\u001f',
      'é ü 中文 🎉',
      '\ud800 lone surrogate',
      'back\\\nslash',
    ];
    // Random code points below U+0800, NUL excluded (Postgres text cannot hold it).
    const drawn = Array.from({ length: 300 }, () =>
      String.fromCodePoint(...Array.from({ length: random.int(12) }, () => 1 + random.int(0x7ff))),
    );
    const values = [...fixed, null, ...drawn];
    const expected = values.map((v) => (v === null ? null : v.replace(/\ud800/g, '\ufffd')));
    expect(await roundTrip('text', values)).toEqual(expected);
  });

  it('reads back numbers, booleans and JSON documents', async () => {
    expect(await roundTrip('int', [0, -1, 2_147_483_647, null])).toEqual([
      0,
      -1,
      2_147_483_647,
      null,
    ]);
    expect(await roundTrip('bigint', ['9007199254740993', null])).toEqual([
      '9007199254740993',
      null,
    ]);
    expect(await roundTrip('boolean', [true, false, null])).toEqual([true, false, null]);
    const docs = [JSON.stringify({ 'content-type': 'application/json', q: 'a "b" \\ c' }), null];
    expect(await roundTrip('json', docs)).toEqual([JSON.parse(docs[0]!), null]);
  });
});
