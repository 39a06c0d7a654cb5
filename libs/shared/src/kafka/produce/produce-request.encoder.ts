/**
 * A faster encoding of kafkajs' Produce requests (versions 3 to 7, which share one layout),
 * byte for byte the same as kafkajs' own (`produce-request.encoder.spec.ts` checks that).
 *
 * kafkajs 2.2.4 builds every record in its own 512-byte zero-filled buffer, grows it, writes each
 * varint through a temporary array and buffer, copies the records into a batch buffer that grows
 * by doubling, copies that again into the partition's and the topic's encoders, and computes the
 * batch's CRC32C a byte at a time. That was about a third of the consumer worker's CPU. Here the
 * sizes are computed first, each partition's records are written once into one buffer of the
 * exact size, and the CRC32C is sliced by 8 (`crc32c.ts`).
 *
 * kafkajs exposes no option for this, but its brokers look a request's encoder up at each call
 * through the exported `requests.Produce.protocol` of `kafkajs/src/protocol/requests/produce`.
 * `installFastProduceEncoding` wraps that function: the request object stays kafkajs' own, only
 * its `encode` is replaced, and only for what this file encodes exactly (no compression, no
 * explicit timestamps, keys, values and headers that are strings or Buffers); anything else
 * keeps kafkajs' encoder. Patching the exported object (rather than swapping modules in
 * `require.cache`) works whatever was loaded first, and under Jest's module registry as well.
 * kafkajs is pinned (2.2.4): an upgrade must re-run the spec, which compares against its encoder.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals have no typings */
import { crc32c } from './crc32c';

/** kafkajs' 64-bit integer (`kafkajs/src/utils/long`), only as far as used here. */
interface KafkajsLong {
  getHighBits(): number;
  getLowBits(): number;
}

type Bytes = Buffer | string | null | undefined;

export interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
  timestamp?: string | number | null;
}

/** The arguments kafkajs passes to `requests.Produce.protocol({ version })(...)`. */
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: KafkajsLong | number | string;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[];
  }[];
}

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  encode: () => Promise<KafkajsEncoder>;
}

type ProtocolFor = (opts: { version: number }) => (args: ProduceRequestArgs) => {
  request: KafkajsRequest;
  response: unknown;
};

const produceRequests = require('kafkajs/src/protocol/requests/produce') as {
  protocol: ProtocolFor;
};
const Encoder = require('kafkajs/src/protocol/encoder') as new (
  initialSize?: number,
) => KafkajsEncoder;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): KafkajsLong };

const COMPRESSION_NONE = 0;
const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
/** Bytes of a record batch before its records: base offset .. record count. */
const BATCH_HEADER_BYTES = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** From the batch's attributes (where the CRC starts) to its first record. */
const CRC_START_OFFSET = 8 + 4 + 4 + 1 + 4;

const isBytes = (v: unknown): v is Buffer | string => typeof v === 'string' || Buffer.isBuffer(v);
const isNullableBytes = (v: unknown): v is Bytes => v == null || isBytes(v);

/** Whether `encodeProduceRequest` gives exactly kafkajs' bytes for these arguments. */
export function canEncodeFast(args: ProduceRequestArgs): boolean {
  if ((args.compression ?? COMPRESSION_NONE) !== COMPRESSION_NONE) return false;
  for (const { partitions } of args.topicData) {
    for (const { messages } of partitions) {
      for (const m of messages) {
        if (m.timestamp != null || !isNullableBytes(m.key) || !isNullableBytes(m.value)) {
          return false;
        }
        if (m.headers == null) continue;
        if (typeof m.headers !== 'object') return false;
        for (const name of Object.keys(m.headers)) {
          const h = m.headers[name];
          if (Array.isArray(h) ? !h.every(isBytes) : !isBytes(h)) return false;
        }
      }
    }
  }
  return true;
}

const zigZag = (n: number): number => (n << 1) ^ (n >> 31);

/** Bytes of an unsigned varint. */
function uvarintSize(v: number): number {
  let size = 1;
  while ((v & 0xffffff80) !== 0) {
    size += 1;
    v >>>= 7;
  }
  return size;
}

const varintSize = (n: number): number => uvarintSize(zigZag(n));

function writeUVarInt(buf: Buffer, pos: number, v: number): number {
  while ((v & 0xffffff80) !== 0) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

const byteLength = (v: Buffer | string): number =>
  typeof v === 'string' ? Buffer.byteLength(v) : v.length;

function writeBytes(buf: Buffer, pos: number, v: Buffer | string, length: number): number {
  if (typeof v === 'string') buf.write(v, pos, length, 'utf8');
  else v.copy(buf, pos);
  return pos + length;
}

/** The headers as kafkajs lists them: own keys in order, an array value giving one per item. */
function headerEntries(
  headers: NonNullable<ProduceMessage['headers']>,
): [string, Buffer | string][] {
  const entries: [string, Buffer | string][] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) entries.push([name, v as Buffer | string]);
    else entries.push([name, value as Buffer | string]);
  }
  return entries;
}

/** One partition's messages, measured: everything the write pass needs. */
interface MeasuredPartition {
  partition: number;
  firstSequence: number;
  messages: ProduceMessage[];
  /** Per message: its body size, then its key, value and header byte lengths (-1 for null). */
  sizes: number[];
  headers: ([string, Buffer | string][] | null)[];
  recordsBytes: number;
}

function measure(
  partition: number,
  firstSequence: number,
  messages: ProduceMessage[],
): MeasuredPartition {
  const sizes: number[] = [];
  const headers: ([string, Buffer | string][] | null)[] = [];
  let recordsBytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const keyLength = m.key == null ? -1 : byteLength(m.key);
    const valueLength = m.value == null ? -1 : byteLength(m.value);
    // attributes, timestamp delta (always 0: no explicit timestamps), offset delta
    let body = 1 + 1 + varintSize(i);
    body += keyLength < 0 ? 1 : varintSize(keyLength) + keyLength;
    body += valueLength < 0 ? 1 : varintSize(valueLength) + valueLength;
    const entries = m.headers == null ? null : headerEntries(m.headers);
    const slot = sizes.length;
    sizes.push(0, keyLength, valueLength);
    if (entries === null || entries.length === 0) {
      body += 1;
      headers.push(null);
    } else {
      body += varintSize(entries.length);
      for (const [name, value] of entries) {
        const nameLength = Buffer.byteLength(name);
        const length = byteLength(value);
        body += varintSize(nameLength) + nameLength + varintSize(length) + length;
        sizes.push(nameLength, length);
      }
      headers.push(entries);
    }
    sizes[slot] = body;
    recordsBytes += varintSize(body) + body;
  }
  return { partition, firstSequence, messages, sizes, headers, recordsBytes };
}

function writeInt64(buf: Buffer, pos: number, value: KafkajsLong): void {
  buf.writeInt32BE(value.getHighBits(), pos);
  buf.writeInt32BE(value.getLowBits(), pos + 4);
}

function writeRecordBatch(
  buf: Buffer,
  pos: number,
  p: MeasuredPartition,
  attributes: number,
  producerId: KafkajsLong,
  producerEpoch: number,
): number {
  const start = pos;
  const now = Date.now();
  buf.writeInt32BE(p.partition, pos);
  buf.writeInt32BE(BATCH_HEADER_BYTES + p.recordsBytes, pos + 4);
  pos += 8;
  const batchStart = pos;
  buf.writeInt32BE(0, pos); // base offset, high
  buf.writeInt32BE(0, pos + 4); // base offset, low
  buf.writeInt32BE(BATCH_HEADER_BYTES - 12 + p.recordsBytes, pos + 8); // batch length
  buf.writeInt32BE(0, pos + 12); // partition leader epoch
  buf.writeInt8(MAGIC_BYTE, pos + 16);
  // CRC at pos + 17, written last
  buf.writeInt16BE(attributes, pos + 21);
  buf.writeInt32BE(p.messages.length - 1, pos + 23); // last offset delta
  buf.writeBigInt64BE(BigInt(now), pos + 27); // first timestamp
  buf.writeBigInt64BE(BigInt(now), pos + 35); // max timestamp
  writeInt64(buf, pos + 43, producerId);
  buf.writeInt16BE(producerEpoch, pos + 51);
  buf.writeInt32BE(p.firstSequence, pos + 53);
  buf.writeInt32BE(p.messages.length, pos + 57);
  pos += BATCH_HEADER_BYTES;

  const { sizes } = p;
  let s = 0;
  for (let i = 0; i < p.messages.length; i++) {
    const m = p.messages[i];
    const body = sizes[s];
    const keyLength = sizes[s + 1];
    const valueLength = sizes[s + 2];
    s += 3;
    pos = writeUVarInt(buf, pos, zigZag(body));
    buf[pos++] = 0; // attributes
    buf[pos++] = 0; // timestamp delta
    pos = writeUVarInt(buf, pos, zigZag(i));
    pos = writeUVarInt(buf, pos, zigZag(keyLength));
    if (keyLength > 0) pos = writeBytes(buf, pos, m.key!, keyLength);
    pos = writeUVarInt(buf, pos, zigZag(valueLength));
    if (valueLength > 0) pos = writeBytes(buf, pos, m.value!, valueLength);
    const entries = p.headers[i];
    if (entries === null) {
      buf[pos++] = 0;
      continue;
    }
    pos = writeUVarInt(buf, pos, zigZag(entries.length));
    for (const [name, value] of entries) {
      const nameLength = sizes[s];
      const length = sizes[s + 1];
      s += 2;
      pos = writeUVarInt(buf, pos, zigZag(nameLength));
      pos = writeBytes(buf, pos, name, nameLength);
      pos = writeUVarInt(buf, pos, zigZag(length));
      pos = writeBytes(buf, pos, value, length);
    }
  }
  const crcStart = batchStart + CRC_START_OFFSET;
  buf.writeUInt32BE(crc32c(buf, crcStart, pos), batchStart + 17);
  if (pos - start !== 8 + BATCH_HEADER_BYTES + p.recordsBytes) {
    throw new Error('produce request encoding: record batch size mismatch');
  }
  return pos;
}

/** The Produce request body (what kafkajs' `encode()` returns), for `canEncodeFast` arguments. */
export function encodeProduceRequest(args: ProduceRequestArgs): Buffer {
  const transactionalId = args.transactionalId ?? null;
  const producerId = Long.fromValue(args.producerId ?? -1);
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = COMPRESSION_NONE | (transactionalId ? TRANSACTIONAL_MASK : 0);

  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4;
  const topics = args.topicData.map(({ topic, partitions }) => {
    const measured = partitions.map((p) => measure(p.partition, p.firstSequence ?? 0, p.messages));
    size += 2 + Buffer.byteLength(topic) + 4;
    for (const p of measured) size += 8 + BATCH_HEADER_BYTES + p.recordsBytes;
    return { topic, measured };
  });

  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (transactionalId === null) {
    buf.writeInt16BE(-1, pos);
    pos += 2;
  } else {
    const length = Buffer.byteLength(transactionalId);
    buf.writeInt16BE(length, pos);
    pos = writeBytes(buf, pos + 2, transactionalId, length);
  }
  buf.writeInt16BE(args.acks, pos);
  buf.writeInt32BE(args.timeout, pos + 2);
  buf.writeInt32BE(topics.length, pos + 6);
  pos += 10;
  for (const { topic, measured } of topics) {
    const length = Buffer.byteLength(topic);
    buf.writeInt16BE(length, pos);
    pos = writeBytes(buf, pos + 2, topic, length);
    buf.writeInt32BE(measured.length, pos);
    pos += 4;
    for (const p of measured) {
      pos = writeRecordBatch(buf, pos, p, attributes, producerId, producerEpoch);
    }
  }
  if (pos !== size) throw new Error('produce request encoding: size mismatch');
  return buf;
}

/** A kafkajs Encoder holding `buf`, as a request's `encode()` must return. */
function asEncoder(buf: Buffer): KafkajsEncoder {
  const encoder = new Encoder(1);
  encoder.buf = buf;
  encoder.offset = buf.length;
  return encoder;
}

const INSTALLED = Symbol.for('tributary.fastProduceEncoding');

/** Makes kafkajs encode Produce requests with `encodeProduceRequest`. Idempotent. */
export function installFastProduceEncoding(): void {
  const target = produceRequests as typeof produceRequests & { [INSTALLED]?: true };
  if (target[INSTALLED]) return;
  const original = target.protocol;
  target.protocol = ({ version }) => {
    const build = original({ version });
    if (version < 3 || version > 7) return build;
    return (args) => {
      const built = build(args);
      if (!canEncodeFast(args)) return built;
      const request: KafkajsRequest = {
        ...built.request,
        encode: async () => asEncoder(encodeProduceRequest(args)),
      };
      return { ...built, request };
    };
  };
  target[INSTALLED] = true;
}
