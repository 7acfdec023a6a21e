/**
 * Sends one scenario's datagrams to several collector instances, as a UDP load balancer
 * would: datagram i goes to port i mod N, so every app's events are split between them. Paced
 * like the client (a batch every millisecond or so, at `rate` per second in total). A port
 * nobody listens on (an instance killed) refuses datagrams: they are counted as sent to it and
 * lost, and sending goes on, to it too, so a restarted instance on the same port receives again.
 *
 * @module
 */
import { openUdpSender, type UdpSender } from "./udp_sender.ts";

/** What was sent to each port. */
export interface SpreadCounts {
  /** Datagrams sent (or attempted) per port, in the order of the ports. */
  readonly sent: readonly number[];
  /** Of them, in batches the port refused (nobody listening: lost). */
  readonly refused: readonly number[];
}

/** Options of {@linkcode SpreadSender.send}. */
export interface SpreadOptions {
  /** Events to send in all (each one or more datagrams: see `next`). */
  readonly events: number;
  /** Events per second in all; 0 as fast as possible. */
  readonly rate: number;
  /** Stops early when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * A sender to several ports of one host.
 *
 * @example
 * ```ts ignore
 * const spread = await SpreadSender.open("127.0.0.1", [udpA, udpB]);
 * await spread.send({ events: 40_000, rate: 33_000 }, () => [draw.next()]);
 * spread.counts; // { sent: [20000, 20000], refused: [0, 0] }
 * await spread.close();
 * ```
 */
export class SpreadSender {
  readonly #senders: UdpSender[];
  readonly #sent: number[];
  readonly #refused: number[];
  #turn = 0;

  private constructor(senders: UdpSender[]) {
    this.#senders = senders;
    this.#sent = senders.map(() => 0);
    this.#refused = senders.map(() => 0);
  }

  /** Opens one sender per port. */
  static async open(host: string, ports: readonly number[]): Promise<SpreadSender> {
    const senders: UdpSender[] = [];
    for (const port of ports) senders.push(await openUdpSender(host, port));
    return new SpreadSender(senders);
  }

  /** The counts so far (a copy). */
  get counts(): SpreadCounts {
    return { sent: [...this.#sent], refused: [...this.#refused] };
  }

  /** Sends retried after a transient error (a full socket buffer), over every port. */
  get retries(): number {
    return this.#senders.reduce((sum, sender) => sum + sender.retries, 0);
  }

  /** The kind of socket (`sendmmsg` or `dgram`). */
  get kind(): string {
    return this.#senders[0]?.kind ?? "none";
  }

  /**
   * Sends `options.events` events, spread over the ports by datagram; `next()` gives the
   * datagrams of one event (the event, and any malformed ones mixed in with it).
   */
  async send(options: SpreadOptions, next: () => readonly Uint8Array[]): Promise<void> {
    const n = this.#senders.length;
    const started = performance.now();
    let sent = 0;
    while (sent < options.events && !options.signal?.aborted) {
      const due = options.rate > 0
        ? Math.floor((performance.now() - started) / 1000 * options.rate)
        : sent + 4096;
      const count = Math.min(options.events, due, sent + 16_384) - sent;
      if (count > 0) {
        const batches: Uint8Array[][] = this.#senders.map(() => []);
        for (let i = 0; i < count; i++) {
          for (const datagram of next()) batches[this.#turn++ % n]!.push(datagram);
        }
        await Promise.all(batches.map((batch, port) => this.#sendTo(port, batch)));
        sent += count;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async #sendTo(port: number, batch: Uint8Array[]): Promise<void> {
    if (batch.length === 0) return;
    this.#sent[port]! += batch.length;
    try {
      await this.#senders[port]!.send(batch);
    } catch (error) {
      if (!isRefused(error)) throw error;
      this.#refused[port]! += batch.length;
    }
  }

  /** Closes every socket. */
  async close(): Promise<void> {
    for (const sender of this.#senders) await sender.close();
  }
}

function isRefused(error: unknown): boolean {
  const e = error as { errno?: number; code?: string };
  return e?.errno === 111 || e?.code === "ECONNREFUSED"; // Linux ECONNREFUSED
}
