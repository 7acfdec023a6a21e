/**
 * What the load generator sends, from a seed: like the original client, a random /28 (good IPs
 * = its 14 hosts), 1–10 random bad IPs at least 28 away from it, apps sharing that IP set, and
 * events drawn uniformly from (app × IP); optionally malformed datagrams mixed in. The expected
 * answer of each app is computed from what was actually drawn, so a short run whose draw missed
 * an IP still checks exactly.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { IpEventSchema } from "../../src/ip_events/ip_event_pb.ts";
import { formatIpv4 } from "../../src/ip_events/netblock.ts";
import { SeededRandom } from "../common/seeded_random.ts";

/** Options of {@linkcode makeScenario}. */
export interface ScenarioOptions {
  /** The seed. */
  readonly seed: number;
  /** Apps sharing the IP set (the original client: 3). */
  readonly apps: number;
}

/** The apps and the IP set a run sends. */
export interface Scenario {
  /** 64 lowercase hex characters each. */
  readonly shas: readonly string[];
  /** The good /28's network address. */
  readonly block: number;
  /** The 14 hosts of the block. */
  readonly goodIps: readonly number[];
  /** The bad IPs as drawn (duplicates kept, as the original client does). */
  readonly badIps: readonly number[];
  /** Every IP events are drawn from: good then bad. */
  readonly ips: readonly number[];
}

/**
 * Draws the apps and IPs of a run.
 *
 * @example
 * ```ts
 * import { makeScenario } from "./scenario.ts";
 * const scenario = makeScenario({ seed: 1, apps: 3 });
 * scenario.goodIps.length; // 14
 * ```
 */
export function makeScenario(options: ScenarioOptions): Scenario {
  const random = new SeededRandom(options.seed);
  const u32 = () => random.int(0, 2 ** 32 - 1);
  const hex = () => random.int(0, 15).toString(16);
  const shas = Array.from({ length: options.apps }, () => Array.from({ length: 64 }, hex).join(""));
  const drawn = u32();
  const block = drawn - (drawn % 16);
  const goodIps = Array.from({ length: 14 }, (_, i) => block + 1 + i);
  const wanted = random.int(1, 10);
  const badIps = Array.from({ length: wanted }, u32).filter((ip) => Math.abs(ip - block) >= 28);
  return { shas, block, goodIps, badIps, ips: [...goodIps, ...badIps] };
}

/** The answer a collector must give for an app, from what was sent to it. */
export interface ExpectedAnswer {
  /** Events sent to the app. */
  count: number;
  /** The 14 hosts, dotted, ascending (empty when nothing was sent). */
  good_ips: string[];
  /** The distinct bad IPs sent, dotted, ascending. */
  bad_ips: string[];
}

/** Builds expected answers while events are drawn. */
export class Expectations {
  readonly #scenario: Scenario;
  readonly #counts: number[];
  readonly #badSeen: Set<number>[];

  /** Starts with nothing sent. */
  constructor(scenario: Scenario) {
    this.#scenario = scenario;
    this.#counts = scenario.shas.map(() => 0);
    this.#badSeen = scenario.shas.map(() => new Set());
  }

  /** Notes one event of app `app` (index) to IP index `ip`. */
  note(app: number, ip: number): void {
    this.#counts[app]!++;
    if (ip >= this.#scenario.goodIps.length) this.#badSeen[app]!.add(this.#scenario.ips[ip]!);
  }

  /** The expected answer of app `app` (index). */
  answer(app: number): ExpectedAnswer {
    const count = this.#counts[app]!;
    return {
      count,
      good_ips: count > 0 ? this.#scenario.goodIps.map(formatIpv4) : [],
      bad_ips: [...this.#badSeen[app]!].sort((a, b) => a - b).map(formatIpv4),
    };
  }
}

/**
 * Draws events and serializes them with the library's encoder: `next()` gives the bytes of one
 * event and notes it in `expectations`. The encodings of every (app, IP) pair are made once.
 */
export class EventDraw {
  readonly expectations: Expectations;
  readonly #random: SeededRandom;
  readonly #scenario: Scenario;
  readonly #roundRobin: boolean;
  #drawn = 0;
  readonly #encoded: Uint8Array[][] | undefined;
  readonly #ipCount: number;

  /**
   * Draws from `scenario` with its own generator seeded by `seed`; with `roundRobin` the apps
   * take turns instead (as many apps as events: a flood of distinct shas).
   */
  constructor(scenario: Scenario, seed: number, roundRobin = false) {
    this.#roundRobin = roundRobin;
    this.expectations = new Expectations(scenario);
    this.#random = new SeededRandom(seed ^ 0x5eed);
    this.#ipCount = scenario.ips.length;
    this.#scenario = scenario;
    // Small runs encode each (app, IP) pair once; a flood of apps encodes as it goes.
    this.#encoded = scenario.shas.length * scenario.ips.length <= 100_000
      ? scenario.shas.map((sha) => scenario.ips.map((ip) => encodeEvent(sha, ip)))
      : undefined;
  }

  /** The next event's bytes. */
  next(): Uint8Array {
    const apps = this.#scenario.shas.length;
    const app = this.#roundRobin ? this.#drawn++ % apps : this.#random.int(0, apps - 1);
    const ip = this.#random.int(0, this.#ipCount - 1);
    this.expectations.note(app, ip);
    return this.#encoded?.[app]?.[ip] ??
      encodeEvent(this.#scenario.shas[app]!, this.#scenario.ips[ip]!);
  }
}

function encodeEvent(appSha256: string, ip: number): Uint8Array {
  return toBinary(IpEventSchema, create(IpEventSchema, { appSha256, ip: BigInt(ip) }));
}

/**
 * Malformed datagrams, one of each reject reason in turn (not protobuf, truncated, wrong wire
 * type, missing field, bad sha, ip out of range).
 *
 * @example
 * ```ts
 * import { malformedDatagrams } from "./scenario.ts";
 * malformedDatagrams().length; // 6
 * ```
 */
export function malformedDatagrams(): Uint8Array[] {
  const valid = toBinary(
    IpEventSchema,
    create(IpEventSchema, { appSha256: "c".repeat(64), ip: 1n }),
  );
  const encode = (appSha256: string, ip: bigint) =>
    toBinary(IpEventSchema, create(IpEventSchema, { appSha256, ip }));
  return [
    new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
    valid.subarray(0, 40),
    new Uint8Array([0x08, 0x01, 0x10, 0x01]),
    valid.subarray(0, 66),
    encode("z".repeat(64), 1n),
    encode("c".repeat(64), -1n),
  ];
}
