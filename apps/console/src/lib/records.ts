import { decodeBytes, Decoded, fromBase64 } from './decode';

/** `GET /subscriptions/{id}/records`. */
export interface KafkaRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  invocation_id: string;
}

export interface RecordPage {
  topic: string;
  partition: number;
  low_offset: string;
  high_offset: string;
  records: KafkaRecord[];
  next_offset: string | null;
}

/** `POST /subscriptions/{id}/reset-offsets`. */
export interface ResetPlan {
  applied: boolean;
  records_read_again: number;
  invocations_existing: number;
  new_invocations: number;
  records_skipped: number;
  group_id: string;
  partitions: {
    partition: number;
    committed_offset: number | null;
    target_offset: number;
    end_offset: number;
    records_read_again: number;
    invocations_existing: number;
    records_skipped: number;
  }[];
}

/** A base64 field of a record, decoded for display; null stays null. */
export function decodeField(value: string | null): Decoded | null {
  return value === null ? null : decodeBytes(fromBase64(value));
}

/** Header values (base64) as text where they are UTF-8, else hex. */
export function decodeHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).map(([k, v]) => [k, decodeField(v)?.text ?? '']);
}

/** The confirmation a replay asks for, from its dry run. */
export function replaySentence(plan: ResetPlan): string {
  const parts: string[] = [];
  const n = plan.records_read_again;
  if (n === 0) parts.push('No record will be read again.');
  else {
    parts.push(`${n} record${n === 1 ? '' : 's'} will be read again.`);
    parts.push(
      `${plan.new_invocations} of them become new invocations (their ids are new); ` +
        `${plan.invocations_existing} still have their invocation and are not run again.`,
    );
  }
  if (plan.records_skipped > 0) {
    parts.push(
      `${plan.records_skipped} record${plan.records_skipped === 1 ? '' : 's'} will be skipped (never invoked).`,
    );
  }
  return parts.join(' ');
}
