/**
 * Malformed input on every route of the service (all three components, a subprocess): each is a
 * 4xx with a specific JSON message, never a 5xx, never an ERROR log line; then a property test
 * (fast-check) over methods, paths, queries, headers and bodies of every route: never a 5xx,
 * never a crash. Requests go by hand over TCP (raw_http.ts), byte for byte as written.
 *
 * No request may make the service reach outside loopback: `GET /scan` gets only hosts it refuses
 * before resolving (malformed, or private literals with `TLS_SCAN_ALLOW_PRIVATE=false`), and the
 * scheduler that would scan watched names is off.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { rawExchange } from "./raw_http.ts";
import { type HostileService, startHostileService } from "./hostile_service.ts";

const SHA = "ab".repeat(32);

/** A request by hand: `Connection: close` so the answer ends with the connection. */
function request(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body = "",
): string {
  const lines = Object.entries({
    host: "x",
    connection: "close",
    ...(body === "" ? {} : { "content-length": String(new TextEncoder().encode(body).length) }),
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${target} HTTP/1.1\r\n${lines.join("")}\r\n${body}`;
}

const JSON_TYPE = { "content-type": "application/json" };
const OCTETS = { "content-type": "application/octet-stream" };

/** [what, raw request, expected status, what the message must say]. */
const MALFORMED: [string, string, number, RegExp][] = [
  // The request line and headers (node:http's parser, answered by the app).
  [
    "HTTP/1.1 without Host",
    "GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n",
    400,
    /need a Host/,
  ],
  ["garbage request line", "HELLO\r\n\r\n", 400, /malformed HTTP request/],
  ["space in the target", "GET /sc ans HTTP/1.1\r\nhost: x\r\n\r\n", 400, /malformed HTTP/],
  [
    "header without a colon",
    "GET /healthz HTTP/1.1\r\nhost: x\r\nbroken\r\n\r\n",
    400,
    /malformed/,
  ],
  [
    "non-numeric Content-Length",
    request("POST", "/scans", { "content-length": "abc" }),
    400,
    /malformed/,
  ],
  [
    "Content-Length and Transfer-Encoding",
    "POST /scans HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
    /malformed/,
  ],
  [
    "bad chunk size",
    request("POST", "/events", { ...OCTETS, "transfer-encoding": "chunked" }) + "zz\r\n",
    400,
    /malformed/,
  ],
  [
    "20 KiB header",
    request("GET", "/healthz", { "x-big": "a".repeat(20_000) }),
    431,
    /request line and headers are over 16 KiB/,
  ],
  [
    "60 KiB after=",
    request("GET", `/scans?after=${"a".repeat(60 * 1024)}:443`),
    431,
    /request line and headers are over 16 KiB/,
  ],
  ["target *", request("OPTIONS", "*"), 400, /request target must be a path/],
  ["target //x", request("GET", "//x/scans"), 400, /request target must be a path/],
  // Paths: percent-encoding that is not UTF-8.
  [
    "DELETE /scans/%E0%A4%A",
    request("DELETE", "/scans/%E0%A4%A"),
    400,
    /path segment host is not valid/,
  ],
  ["DELETE /scans/%", request("DELETE", "/scans/%"), 400, /not valid percent-encoded UTF-8/],
  [
    "DELETE /scans/%C0%AF",
    request("DELETE", "/scans/%C0%AF"),
    400,
    /not valid percent-encoded UTF-8/,
  ],
  ["GET /events/%FF", request("GET", "/events/%FF"), 400, /not valid percent-encoded UTF-8/],
  ["DELETE /scans/a%2Fb", request("DELETE", "/scans/a%2Fb"), 400, /host/],
  // GET /scans paging.
  ["after= empty", request("GET", "/scans?after="), 400, /after must be host:port/],
  [
    "after without port",
    request("GET", "/scans?after=example.com"),
    400,
    /after must be host:port/,
  ],
  [
    "after with a bad host",
    request("GET", "/scans?after=a%20b:443"),
    400,
    /after must be host:port/,
  ],
  ["after with a bad port", request("GET", "/scans?after=example.com:99999"), 400, /after must be/],
  ["after of 2 KiB", request("GET", `/scans?after=${"a".repeat(2048)}:443`), 400, /after must be/],
  ["limit=0", request("GET", "/scans?limit=0"), 400, /limit must be an integer/],
  ["limit=abc", request("GET", "/scans?limit=abc"), 400, /limit must be an integer/],
  // GET /scan.
  ["GET /scan without host", request("GET", "/scan"), 400, /host is required/],
  ["GET /scan with a bad host", request("GET", "/scan?host=a..b"), 400, /host/],
  ["GET /scan with a NUL host", request("GET", "/scan?host=%00"), 400, /host/],
  ["GET /scan with port 0", request("GET", "/scan?host=example.com&port=0"), 400, /port/],
  [
    "GET /scan fresh=maybe",
    request("GET", "/scan?host=example.com&fresh=maybe"),
    400,
    /fresh must be/,
  ],
  // POST /scans bodies.
  [
    "POST /scans not JSON",
    request("POST", "/scans", JSON_TYPE, "{hosts"),
    400,
    /body must be JSON/,
  ],
  [
    "POST /scans hosts not an array",
    request("POST", "/scans", JSON_TYPE, '{"hosts":5}'),
    400,
    /hosts must be an array/,
  ],
  [
    "POST /scans JSON null",
    request("POST", "/scans", JSON_TYPE, "null"),
    400,
    /hosts must be an array/,
  ],
  [
    "POST /scans over 4 MiB declared",
    request("POST", "/scans", { "content-length": "5000000" }),
    413,
    /body over/,
  ],
  // ip-events.
  ["GET /events/xyz", request("GET", "/events/xyz"), 400, /app_sha256 must be 64 hex/],
  [
    "GET /events with Accept text/html",
    request("GET", `/events/${SHA}`, { accept: "text/html" }),
    406,
    /application\/json/,
  ],
  [
    "POST /events text/plain",
    request("POST", "/events", { "content-type": "text/plain" }, "x"),
    415,
    /octet-stream/,
  ],
  ["POST /events not protobuf", request("POST", "/events", OCTETS, "\xff\xff\xff"), 400, /.+/],
  [
    "POST /events over 1 KiB",
    request("POST", "/events", OCTETS, "a".repeat(2000)),
    413,
    /over 1024 bytes/,
  ],
  // Methods and paths.
  ["PUT /events", request("PUT", "/events"), 405, /PUT is not allowed/],
  ["POST /healthz", request("POST", "/healthz"), 405, /POST is not allowed on \/healthz/],
  ["an unknown path", request("GET", "/nope"), 404, /no route/],
];

Deno.test("malformed input on every route: a specific 4xx, never a 5xx, a crash or an ERROR log", async (t) => {
  await using hostile = await startHostileService();
  await t.step("40 malformed requests: a specific 4xx each", () => malformed(hostile));
  await t.step("property: any method, path, query, headers and body", () => property(hostile));
  // Nothing was logged as an error by any of them.
  assert.deepEqual(await hostile.errorLines(), []);
});

async function malformed(hostile: HostileService): Promise<void> {
  const port = hostile.service.port;
  const answers = await Promise.all(
    MALFORMED.map(([, raw]) => rawExchange(port, [raw], { waitMs: 10_000 })),
  );
  for (const [index, [what, , status, message]] of MALFORMED.entries()) {
    const answer = answers[index]!;
    assert.equal(answer.status, status, `${what}: ${answer.text.slice(0, 300)}`);
    const body = answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4);
    const error = /"error":"((?:[^"\\]|\\.)*)"/.exec(body)?.[1] ?? "";
    assert.match(error, message, `${what}: ${body.slice(0, 300)}`);
    assert.ok(answer.closed, `${what}: the connection closed`);
  }
  assert.ok(MALFORMED.length >= 25);
  // Nothing was watched or changed by any of them.
  assert.equal((await (await fetch(`${hostile.base}/scans`)).json()).total, 0);
  console.log(`${MALFORMED.length} malformed requests: ${answers.map((a) => a.status).join(" ")}`);
}

// --- the property test ---------------------------------------------------------------------

/** Text with the characters that break parsers: %, /, unicode, controls, quotes. */
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom("%", "/", "?", "#", "&", "=", ":", "[", "]", "@", "\\", '"', " ", "+", "."),
    fc.constantFrom("%E0%A4%A", "%C0%AF", "%00", "%2F", "%FF", "%%", "é", "\u2028", "😀"),
    fc.string({ minLength: 1, maxLength: 3 }),
    fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: 1, maxLength: 4 }),
  ),
  maxLength: 40,
});

/** Encodes what HTTP cannot carry raw in a target (spaces, controls, non-ASCII); keeps `%`. */
function target(text: string): string {
  return text.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** Hosts `GET /scan` refuses without resolving: malformed ones and private literals. */
const unscannable = fc.oneof(
  fc.constantFrom("127.0.0.1", "10.0.0.1", "192.168.1.1", "::1", "[::1]", "169.254.1.1", "0.0.0.0"),
  nasty.map((s) => `${s} _`), // a space and an underscore: never a valid name
);

const path = fc.oneof(
  fc.constantFrom("/healthz", "/readyz", "/metrics", "/scan", "/scans", "/events"),
  nasty.map((s) => `/scans/${target(s)}`),
  nasty.map((s) => `/events/${target(s)}`),
  fc.constant(`/events/${SHA}`),
  nasty.map((s) => `/${target(s)}`),
);

const query = fc.dictionary(fc.constantFrom("port", "fresh", "limit", "after", "x"), nasty, {
  maxKeys: 4,
});

const body = fc.oneof(
  fc.constant(""),
  fc.json({ maxDepth: 3 }),
  fc.array(fc.oneof(nasty, fc.record({ host: nasty, port: fc.oneof(fc.integer(), nasty) })), {
    maxLength: 5,
  }).map((hosts) =>
    JSON.stringify({
      hosts: hosts.map((h) => typeof h === "string" ? `${h} _` : { ...h, host: `${h.host} _` }),
    })
  ),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => String.fromCharCode(...bytes)),
);

const headers = fc.record({
  "content-type": fc.constantFrom(
    "application/json",
    "application/octet-stream",
    "text/plain",
    "",
    "a/b; x",
  ),
  accept: fc.constantFrom("*/*", "text/html", "application/json", "text/plain", "", "x;q=0"),
  authorization: fc.oneof(
    fc.constant("Bearer x"),
    nasty.map((s) => s.replace(/[^\x20-\x7e]/g, "")),
    fc.constant(""),
  ),
  "x-forwarded-for": fc.constantFrom("127.0.0.1", "10.0.0.1, 127.0.0.1", ""),
}, { requiredKeys: [] });

const anyMethod = fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
const served = (method: string, paths: fc.Arbitrary<string>) =>
  fc.record({ method: fc.constant(method), path: paths });

/** Mostly each route's own method (so most requests reach its handler), sometimes any. */
const methodAndPath = fc.oneof(
  {
    arbitrary: served("GET", fc.constantFrom("/scan", "/scans", "/healthz", "/metrics")),
    weight: 3,
  },
  { arbitrary: served("POST", fc.constantFrom("/scans", "/events")), weight: 4 },
  { arbitrary: served("DELETE", nasty.map((s) => `/scans/${target(s)}`)), weight: 2 },
  { arbitrary: served("DELETE", fc.constant("/events")), weight: 1 },
  {
    arbitrary: served(
      "GET",
      fc.oneof(fc.constant(`/events/${SHA}`), nasty.map((s) => `/events/${target(s)}`)),
    ),
    weight: 2,
  },
  { arbitrary: fc.record({ method: anyMethod, path }), weight: 2 },
);

const anyRequest = fc.record({
  target: methodAndPath,
  query,
  // On every path, so that a random path that happens to be /scan resolves nothing either.
  host: fc.option(unscannable),
  headers,
  body,
});

/** Random requests (see the arbitraries above): never a 5xx, never a crash. */
async function property(hostile: HostileService): Promise<void> {
  const port = hostile.service.port;
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(anyRequest, async (r) => {
      const entries = Object.entries(r.query).map(([k, v]) => `${k}=${target(v)}`);
      if (r.host !== null) entries.push(`host=${target(r.host)}`);
      const search = entries.length ? `?${entries.join("&")}` : "";
      const cleanHeaders = Object.fromEntries(
        Object.entries(r.headers).filter(([, v]) => v !== ""),
      );
      const { method, path } = r.target;
      const raw = request(method, `${path}${search}`, cleanHeaders, method === "GET" ? "" : r.body);
      const answer = await rawExchange(port, [raw], { waitMs: 15_000 });
      seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
      assert.ok(
        answer.status >= 200 && answer.status < 500,
        `${answer.status} for ${JSON.stringify(raw.slice(0, 400))}: ${answer.text.slice(0, 300)}`,
      );
    }),
    { numRuns: 300, seed: Number(Deno.env.get("FC_SEED") ?? Date.now() % 2 ** 31) },
  );
  const health = await fetch(`${hostile.base}/healthz`);
  assert.equal(await health.text(), "ok\n");
  assert.equal(hostile.service.hasExited(), false, "the service still runs");
  console.log(`300 random requests: ${[...seen].sort().map(([s, n]) => `${n}×${s}`).join(", ")}`);
}
