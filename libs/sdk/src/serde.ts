/** Turns values into bytes and back, as Restate's `Serde<T>`. */
export interface Serde<T> {
  readonly contentType?: string;
  serialize(value: T): Uint8Array;
  deserialize(data: Uint8Array): T;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

class JsonSerde implements Serde<unknown> {
  readonly contentType = 'application/json';

  // An undefined result travels as an empty body, and an empty body reads back as undefined.
  serialize(value: unknown): Uint8Array {
    const text: string | undefined = JSON.stringify(value);
    return text === undefined ? EMPTY : Buffer.from(text);
  }

  deserialize(data: Uint8Array): unknown {
    return data.length === 0 ? undefined : JSON.parse(utf8.decode(data));
  }
}

class BinarySerde implements Serde<Uint8Array> {
  readonly contentType = 'application/octet-stream';

  serialize(value: Uint8Array): Uint8Array {
    return value;
  }

  deserialize(data: Uint8Array): Uint8Array {
    return data;
  }
}

export const serde = {
  // `any`, as in Restate, so the handler's parameter annotation decides the input type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: new JsonSerde() as Serde<any>,
  binary: new BinarySerde() as Serde<Uint8Array>,
};
