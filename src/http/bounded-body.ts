import { AppError } from '../errors.js';

/** How a body may be read: at most `limit` bytes, within `deadlineMs` when given. */
export interface ReadBounds {
  limit: number;
  deadlineMs?: number;
}

/**
 * Reads a request body completely, refusing more than `limit` bytes (413, also when the announced length is larger,
 * before any byte is read) and, with a deadline, bodies that take longer (408), so a slow sender holds nothing for long.
 */
export async function readBounded(
  payload: NodeJS.ReadableStream,
  contentLength: string | undefined,
  bounds: ReadBounds,
): Promise<Buffer> {
  const { limit } = bounds;
  if (contentLength !== undefined && Number(contentLength) > limit) {
    throw new AppError('PAYLOAD_TOO_LARGE', `body over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const read = (async () => {
    for await (const chunk of payload) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > limit) throw new AppError('PAYLOAD_TOO_LARGE', `body over ${limit} bytes`);
      chunks.push(buf);
    }
    return Buffer.concat(chunks, size);
  })();
  if (bounds.deadlineMs === undefined) return read;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new AppError('REQUEST_TIMEOUT', `body not received within ${bounds.deadlineMs} ms`)),
      bounds.deadlineMs,
    );
  });
  try {
    return await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
    // A read left behind by the deadline ends with the connection; its rejection is not an unhandled one.
    read.catch(() => undefined);
  }
}

/**
 * A cap on bodies read at once before their sender is authenticated (HMAC-signed webhooks must read the body to check
 * the signature). Past the cap a request is refused at once, so slow unauthenticated senders hold at most
 * `max × limit` bytes and `max` sockets' worth of reads, never more.
 */
export class UnauthenticatedReads {
  private inFlight = 0;

  constructor(readonly max: number) {}

  /** Takes a slot, or returns undefined when all are taken; the returned function gives it back (once). */
  acquire(): (() => void) | undefined {
    if (this.inFlight >= this.max) return undefined;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  /** Slots in use (for tests and metrics). */
  get used(): number {
    return this.inFlight;
  }
}
