/**
 * A local fake of the SSL Labs API v4 (`info`, `analyze`), strict where the real one is: the
 * `email` header on every call (missing → 400, unregistered → 441), `startNew` and `fromCache`
 * never together, a new assessment refused with 429 while `currentAssessments` ≥
 * `maxAssessments` or sooner than `newAssessmentCoolOff` after the previous one, the counters
 * in `X-Max-Assessments` / `X-Current-Assessments` on every 200. Each host follows a script
 * (DNS → IN_PROGRESS … → READY or ERROR, one step per poll; a cached report of some age;
 * statuses to answer first: 429, 500, 503, 529), and every call is logged so tests can assert
 * the client's pacing and limits.
 *
 * @example
 * ```ts
 * import { startFakeSslLabs } from "./fake_ssllabs.ts";
 * import { readyHost } from "./ssllabs_fixtures.ts";
 * await using fake = await startFakeSslLabs({
 *   email: "sec@example.com",
 *   hosts: { "www.example.com": { result: readyHost("www.example.com") } },
 * });
 * fake.url; // "http://127.0.0.1:PORT/api/v4/"
 * fake.calls; // every call, in order
 * ```
 *
 * @module
 */

/** How one host behaves. */
export interface HostScript {
  /** Statuses answered to the polls after the start, then `result`. Default DNS, IN_PROGRESS. */
  readonly flow?: readonly ("DNS" | "IN_PROGRESS")[];
  /** The finished assessment (a READY or ERROR Host object). */
  readonly result: Record<string, unknown>;
  /** A cached report exists, this many hours old. */
  readonly cachedHoursAgo?: number;
  /** HTTP statuses answered to this host's next calls, first to last, before anything else. */
  readonly failures?: readonly number[];
}

/** Options of {@linkcode startFakeSslLabs}. */
export interface FakeOptions {
  /** The registered address; others get 441. */
  readonly email: string;
  readonly hosts: Readonly<Record<string, HostScript>>;
  /** Default 2. */
  readonly maxAssessments?: number;
  /** Default 200 ms. */
  readonly coolOffMs?: number;
  /** Statuses answered to the next calls of any host (e.g. [503]), before anything else. */
  readonly failures?: readonly number[];
}

/** One logged call. */
export interface CallRecord {
  /** Milliseconds since the fake started. */
  readonly at: number;
  readonly call: string;
  readonly params: Readonly<Record<string, string>>;
  readonly email: string | null;
  readonly status: number;
  /** This call started a new assessment. */
  readonly started: boolean;
  /** Why a start was refused with 429. */
  readonly refused?: "max" | "cooloff" | undefined;
  /** `currentAssessments` after the call. */
  readonly current: number;
}

/** A running fake. */
export interface FakeSslLabs extends AsyncDisposable {
  /** The API base URL, for SSLLABS_API_URL. */
  readonly url: string;
  readonly calls: readonly CallRecord[];
  /** Calls for `host` (analyze only). */
  callsFor(host: string): CallRecord[];
  /** The highest `currentAssessments` ever reached. */
  readonly peakCurrent: number;
  stop(): Promise<void>;
}

interface Assessment {
  step: number;
  startTime: number;
}

/** Starts the fake on 127.0.0.1 (a free port). */
export async function startFakeSslLabs(options: FakeOptions): Promise<FakeSslLabs> {
  const t0 = performance.now();
  const max = options.maxAssessments ?? 2;
  const coolOff = options.coolOffMs ?? 200;
  const calls: CallRecord[] = [];
  const running = new Map<string, Assessment>();
  const cache = new Map<string, Record<string, unknown>>();
  const hostFailures = new Map(
    Object.entries(options.hosts).map(([h, s]) => [h, [...(s.failures ?? [])]]),
  );
  const globalFailures = [...(options.failures ?? [])];
  let lastStart = -Infinity;
  let peak = 0;
  for (const [host, script] of Object.entries(options.hosts)) {
    if (script.cachedHoursAgo !== undefined) {
      const testTime = Date.now() - script.cachedHoursAgo * 3_600_000;
      cache.set(host, { ...script.result, testTime });
    }
  }

  const handle = (request: Request): Response => {
    const url = new URL(request.url);
    const call = url.pathname.replace(/^\/api\/v4\//, "");
    const params = Object.fromEntries(url.searchParams);
    const email = request.headers.get("email");
    let started = false;
    let refused: CallRecord["refused"];
    const answer = (status: number, body: unknown) => {
      calls.push({
        at: performance.now() - t0,
        call,
        params,
        email,
        status,
        started,
        refused,
        current: running.size,
      });
      const headers: Record<string, string> = {};
      if (status === 200) {
        headers["x-max-assessments"] = String(max);
        headers["x-current-assessments"] = String(running.size);
      }
      return Response.json(body, { status, headers });
    };
    if (email === null) {
      return answer(400, { errors: [{ field: "email", message: "qp.mandatory" }] });
    }
    if (email !== options.email) return answer(441, { errors: [{ message: "not registered" }] });
    if (call === "info") {
      return answer(200, {
        engineVersion: "2.3.1",
        criteriaVersion: "2009q",
        maxAssessments: max,
        currentAssessments: running.size,
        newAssessmentCoolOff: coolOff,
        messages: ["fake SSL Labs API v4"],
      });
    }
    if (call !== "analyze") return answer(404, { errors: [{ message: "unknown call" }] });
    const host = params.host;
    if (!host) return answer(400, { errors: [{ field: "host", message: "qp.mandatory" }] });
    if (params.startNew === "on" && params.fromCache === "on") {
      return answer(400, { errors: [{ field: "startNew", message: "qp.fromCache.startNew" }] });
    }
    const scripted = globalFailures.shift() ?? hostFailures.get(host)?.shift();
    if (scripted !== undefined) {
      return answer(scripted, { errors: [{ message: `scripted ${scripted}` }] });
    }
    const script = options.hosts[host];
    if (!script) {
      return answer(200, {
        host,
        port: 443,
        status: "ERROR",
        statusMessage: "Unable to resolve domain name",
      });
    }
    const inProgress = running.get(host);
    if (inProgress) {
      inProgress.step++;
      return answer(200, progress(host, script, inProgress));
    }
    const cached = cache.get(host);
    const maxAge = Number(params.maxAge ?? "Infinity");
    const fresh = cached && Date.now() - Number(cached.testTime) <= maxAge * 3_600_000;
    if (params.startNew !== "on" && cached && (params.fromCache !== "on" || fresh)) {
      return answer(200, cached);
    }
    // A new assessment.
    const now = performance.now();
    if (running.size >= max) refused = "max";
    else if (now - lastStart < coolOff) refused = "cooloff";
    if (refused) {
      return answer(429, {
        errors: [{ message: "Running at full capacity. Please try again later." }],
      });
    }
    lastStart = now;
    started = true;
    const assessment = { step: 0, startTime: Date.now() };
    running.set(host, assessment);
    peak = Math.max(peak, running.size);
    return answer(200, progress(host, script, assessment));
  };

  const progress = (host: string, script: HostScript, assessment: Assessment) => {
    const flow = script.flow ?? ["DNS", "IN_PROGRESS"];
    const status = flow[assessment.step];
    if (status !== undefined) {
      return { host, port: 443, status, startTime: assessment.startTime, endpoints: [] };
    }
    running.delete(host);
    const result = { ...script.result, startTime: assessment.startTime, testTime: Date.now() };
    cache.set(host, result);
    return result;
  };

  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => listening.resolve(port),
  }, handle);
  const port = await listening.promise;
  let stopping: Promise<void> | undefined;
  const stop = () => stopping ??= server.shutdown();
  return {
    url: `http://127.0.0.1:${port}/api/v4/`,
    calls,
    callsFor: (host) => calls.filter((c) => c.call === "analyze" && c.params.host === host),
    get peakCurrent() {
      return peak;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
