import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { FormEvent, useState } from 'react';
import { Empty, ErrorBox, Loading, Section } from '../components/ui';
import { api, query } from '../lib/api';
import { toHex, fromBase64 } from '../lib/decode';
import { decodeField, decodeHeaders, KafkaRecord, RecordPage } from '../lib/records';

const route = getRouteApi('/subscriptions/$id/records');

export interface RecordSearch {
  partition?: number;
  offset?: number;
  timestamp?: string;
}

export function parseRecordSearch(raw: Record<string, unknown>): RecordSearch {
  const out: RecordSearch = {};
  const int = (v: unknown) => {
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  };
  const partition = int(raw.partition);
  if (partition !== undefined) out.partition = partition;
  const offset = int(raw.offset);
  if (offset !== undefined) out.offset = offset;
  if (typeof raw.timestamp === 'string' && raw.timestamp !== '') out.timestamp = raw.timestamp;
  return out;
}

export function RecordsPage() {
  const { id } = route.useParams();
  const search = route.useSearch();
  const navigate = useNavigate();
  const partition = search.partition ?? 0;
  const records = useQuery({
    queryKey: ['records', id, search],
    queryFn: () =>
      api<RecordPage>(
        `/subscriptions/${id}/records${query({
          partition,
          offset: search.offset,
          timestamp: search.timestamp,
          limit: 20,
        })}`,
      ),
    // Reading a topic costs a consumer group join: on demand, not polled.
    refetchInterval: false,
  });
  const [open, setOpen] = useState<string | null>(null);

  function go(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const text = (k: string) => {
      const v = f.get(k);
      return typeof v === 'string' ? v.trim() : '';
    };
    const time = text('timestamp');
    void navigate({
      to: '/subscriptions/$id/records',
      params: { id },
      search: parseRecordSearch({
        partition: text('partition'),
        offset: time ? undefined : text('offset'),
        timestamp: time ? new Date(time).toISOString() : undefined,
      }),
    });
  }

  return (
    <>
      <h1>
        Records of{' '}
        <Link to="/subscriptions/$id" params={{ id }}>
          {id}
        </Link>
      </h1>
      <Section title="Where to read" id="where">
        <form className="filters" onSubmit={go} key={JSON.stringify(search)}>
          <label>
            Partition
            <input name="partition" defaultValue={partition} inputMode="numeric" size={4} />
          </label>
          <label>
            From offset
            <input
              name="offset"
              defaultValue={search.offset ?? ''}
              placeholder="last 20"
              inputMode="numeric"
            />
          </label>
          <label>
            Or from time
            <input name="timestamp" type="datetime-local" step="1" />
          </label>
          <div className="form-actions">
            <button type="submit">Read</button>
          </div>
        </form>
      </Section>
      <Section
        title={
          records.data
            ? `${records.data.topic} partition ${records.data.partition} (offsets ${records.data.low_offset} to ${records.data.high_offset})`
            : 'Records'
        }
        id="records"
        actions={
          records.data?.next_offset ? (
            <Link
              className="button"
              to="/subscriptions/$id/records"
              params={{ id }}
              search={{ partition, offset: Number(records.data.next_offset) }}
            >
              Next →
            </Link>
          ) : null
        }
      >
        {records.isPending ? (
          <Loading what="records" />
        ) : records.isError ? (
          <ErrorBox error={records.error} what="records" />
        ) : records.data.records.length === 0 ? (
          <Empty>No records here: the partition is empty or this is its end.</Empty>
        ) : (
          <table data-testid="records-table">
            <thead>
              <tr>
                <th className="num">Offset</th>
                <th>Time</th>
                <th>Key</th>
                <th>Value</th>
                <th>Invocation</th>
              </tr>
            </thead>
            <tbody>
              {records.data.records.map((r) => (
                <RecordRow
                  key={r.offset}
                  record={r}
                  open={open === r.offset}
                  toggle={() => setOpen(open === r.offset ? null : r.offset)}
                />
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function RecordRow({
  record,
  open,
  toggle,
}: {
  record: KafkaRecord;
  open: boolean;
  toggle: () => void;
}) {
  const key = decodeField(record.key);
  const value = decodeField(record.value);
  const [hex, setHex] = useState(false);
  return (
    <>
      <tr data-testid={`record-${record.offset}`} aria-expanded={open}>
        <td className="num">
          <button
            type="button"
            className="link"
            onClick={toggle}
            aria-label={`Show record ${record.offset}`}
          >
            {record.offset}
          </button>
        </td>
        <td title={record.timestamp}>{new Date(Number(record.timestamp)).toISOString()}</td>
        <td>
          <code>{key?.text ?? <span className="muted">null</span>}</code>
        </td>
        <td>
          <code className="clip">{value ? value.text.replace(/\s+/g, ' ') : 'null'}</code>
        </td>
        <td>
          <Link to="/invocations/$id" params={{ id: record.invocation_id }}>
            <code>{record.invocation_id}</code>
          </Link>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={5}>
            <div className="toolbar small">
              <span className="muted">value as {hex ? 'hex' : value?.kind}</span>
              <button type="button" aria-pressed={hex} onClick={() => setHex(!hex)}>
                hex
              </button>
            </div>
            <pre data-testid="record-value">
              {record.value === null ? 'null' : hex ? toHex(fromBase64(record.value)) : value?.text}
            </pre>
            <h3>Headers</h3>
            {Object.keys(record.headers).length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <table>
                <tbody>
                  {decodeHeaders(record.headers).map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">
                        <code>{k}</code>
                      </th>
                      <td>
                        <code>{v}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </td>
        </tr>
      ) : null}
    </>
  );
}
