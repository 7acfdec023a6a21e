/**
 * One call to the SSL Labs API v4: `GET {base}{call}?{params}` with the registered address in
 * the `email` header (mandatory on every call but `register`) and a User-Agent, a timeout,
 * and the assessment counters read from every response's `X-Max-Assessments` /
 * `X-Current-Assessments` headers. It decides nothing: the status goes back to the engine,
 * which knows what a 429, 441, 500, 503 or 529 asks of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsClient } from "./ssllabs_client.ts";
 * import { startFakeSslLabs } from "../../tools/tls_scan/fake_ssllabs.ts";
 * // The fake API on loopback stands for https://api.ssllabs.com/api/v4/.
 * await using fake = await startFakeSslLabs({ email: "sec@example.com", hosts: {} });
 * const client = new SslLabsClient({ baseUrl: fake.url, email: "sec@example.com" });
 * const answer = await client.call("info", {}, AbortSignal.timeout(30_000));
 * assert.equal(answer.kind === "response" && answer.status, 200);
 * assert.equal(answer.kind === "response" && typeof answer.maxAssessments, "number"); // a header
 * // Statuses are the engine's to judge: an unregistered address is a 441, not an exception.
 * const stranger = new SslLabsClient({ baseUrl: fake.url, email: "nobody@example.com" });
 * const refused = await stranger.call("info", {}, AbortSignal.timeout(30_000));
 * assert.equal(refused.kind === "response" && refused.status, 441);
 * ```
 *
 * @module
 */

/** The calls the engine makes. */
export type SslLabsCall = "info" | "analyze";

/** What one call gave. */
export type CallAnswer =
  | {
    readonly kind: "response";
    readonly status: number;
    /** Parsed JSON, or the text when it is not JSON. */
    readonly body: unknown;
    readonly maxAssessments: number | undefined;
    readonly currentAssessments: number | undefined;
  }
  /** No HTTP answer: connection refused, reset, timeout. */
  | { readonly kind: "network"; readonly message: string };

/** Options of {@linkcode SslLabsClient}. */
export interface SslLabsClientOptions {
  /** `SSLLABS_API_URL`, ending in `/`. */
  readonly baseUrl: string;
  /** `SSLLABS_EMAIL`. */
  readonly email: string;
  /** Per-call timeout in milliseconds. Default 30 000. */
  readonly timeoutMs?: number | undefined;
  /** Told of every call with its status (`network` when there was none): metrics. */
  readonly onCall?: ((call: SslLabsCall, status: number | "network") => void) | undefined;
  /** The fetch to use. Default `fetch`. */
  readonly fetch?: typeof fetch | undefined;
}

const USER_AGENT = "edr-preprocessor-tls-scan/1";
/** Bodies past this are not read (a Host of a large site is ~100 KB). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The API client.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsClient } from "./ssllabs_client.ts";
 * const client = new SslLabsClient({
 *   baseUrl: "https://api.ssllabs.com/api/v4/",
 *   email: "sec@example.com",
 *   // a stand-in for the API; without `fetch` the global one calls it
 *   fetch: () => Promise.resolve(Response.json({}, { headers: { "x-max-assessments": "25" } })),
 * });
 * const answer = await client.call("info", {}, AbortSignal.timeout(30_000));
 * assert.deepEqual(answer.kind === "response" && [answer.status, answer.maxAssessments], [200, 25]);
 * ```
 */
export class SslLabsClient {
  readonly #o: SslLabsClientOptions;

  /** Makes a client. */
  constructor(options: SslLabsClientOptions) {
    this.#o = options;
  }

  /** Calls `call` with `params`. Never throws: failures are answers. */
  async call(
    call: SslLabsCall,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<CallAnswer> {
    const url = new URL(
      call,
      this.#o.baseUrl.endsWith("/") ? this.#o.baseUrl : `${this.#o.baseUrl}/`,
    );
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const timeout = AbortSignal.timeout(this.#o.timeoutMs ?? 30_000);
    try {
      const response = await (this.#o.fetch ?? fetch)(url, {
        headers: { email: this.#o.email, "user-agent": USER_AGENT, accept: "application/json" },
        signal: AbortSignal.any([signal, timeout]),
      });
      const text = await readText(response);
      this.#o.onCall?.(call, response.status);
      return {
        kind: "response",
        status: response.status,
        body: parseJson(text),
        maxAssessments: headerNumber(response.headers, "x-max-assessments"),
        currentAssessments: headerNumber(response.headers, "x-current-assessments"),
      };
    } catch (error) {
      this.#o.onCall?.(call, "network");
      const message = timeout.aborted ? "timed out" : (error as Error).message;
      return { kind: "network", message };
    }
  }
}

async function readText(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES || response.body === null) {
    await response.body?.cancel();
    return "";
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    if (text.length > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new Error("response body too large");
    }
  }
  return text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}
