/**
 * OpenTelemetry with Deno's built-in exporter: the service under `deno task start` with
 * `OTEL_DENO=true` and `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` sends to a local OTLP receiver
 * (loopback) a span per submission (its events, the publish waves, the delete, the outcome),
 * per scan (engine, grade) and per HTTP request, and its log lines at their real severities.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { dieWithParent } from "../../tools/common/parent_death.ts";
import { SERVICE_COMMAND } from "../../tools/common/start_task.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";
import { createFleet, nextSubmission } from "../../tools/submissions/fleet/generate.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  name: string;
  kind: number;
  spanId: string;
  parentSpanId: string;
  attributes: { key: string; value: OtlpValue }[];
  events: { name: string; attributes: { key: string; value: OtlpValue }[] }[];
}
interface OtlpLog {
  severityText: string;
  body: { stringValue?: string };
}

/** An OTLP/HTTP JSON receiver on loopback: keeps every span and log record it is sent. */
function startReceiver() {
  const spans: OtlpSpan[] = [];
  const logs: OtlpLog[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    const path = new URL(req.url).pathname;
    if (path === "/v1/traces") {
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans);
      }
    } else if (path === "/v1/logs") {
      for (const resource of body.resourceLogs ?? []) {
        for (const scope of resource.scopeLogs ?? []) logs.push(...scope.logRecords);
      }
    }
    return Response.json({});
  });
  return { spans, logs, port: server.addr.port, server };
}

/** An attribute's value: a number for OTLP's int and double values, else the string or boolean. */
function attr(item: { attributes: { key: string; value: OtlpValue }[] }, key: string) {
  const value = item.attributes.find((a) => a.key === key)?.value;
  if (value?.intValue !== undefined) return Number(value.intValue);
  if (value?.doubleValue !== undefined) return value.doubleValue;
  return value?.stringValue ?? value?.boolValue;
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("OTEL_DENO=true: spans per submission, scan and request; logs at their severities", async () => {
  await using stack = await startLocalStack();
  await using tls = await startFleet({ only: ["good"] });
  const receiver = startReceiver();
  const dir = await Deno.makeTempDir({ prefix: "edr-otel-" });
  const port = freePort();
  // Spawned here rather than by startService: under OTel its INFO lines go to stdout.
  const { command, args } = dieWithParent(SERVICE_COMMAND[0]!, SERVICE_COMMAND.slice(1));
  const child = new Deno.Command(command, {
    args,
    cwd: new URL("../../", import.meta.url),
    env: {
      ...stack.env(),
      PATH: Deno.env.get("PATH") ?? "",
      COMPONENTS: "submissions,tls-scan",
      HTTP_PORT: String(port),
      HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      SQS_WAIT_TIME_SECONDS: "1",
      TLS_SCAN_DB: `${dir}/tls-scan.db`,
      TLS_SCAN_ALLOW_PRIVATE: "true",
      TLS_SCAN_CA_FILE: tls.caFile,
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_SERVICE_NAME: "edr-preprocessor-test",
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const clients = stack.createClients();
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0;; i++) {
      const up = await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok))
        .catch(() => false);
      if (up) break;
      assert.ok(i < 300, "the service answers /healthz");
      await new Promise((r) => setTimeout(r, 100));
    }

    // A valid submission, an invalid one, and a scan.
    const fleet = createFleet({ seed: 7, fleetSize: 1, faultProbability: 0 });
    const message = nextSubmission(fleet);
    assert.ok(message.manifestEntry.valid && message.manifestEntry.events > 0);
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: message.body }),
    );
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "%%%" }),
    );
    const good = tls.target("good");
    const scan = await fetch(`${base}/scan?host=localhost&port=${good.port}&fresh=true`);
    assert.equal(scan.status, 200);
    await scan.body?.cancel();

    const named = (name: string) => receiver.spans.filter((s) => s.name === name);
    await until(
      "the submissions' and the scan's spans",
      () =>
        named("submission").length >= 2 && named("submission.delete").length >= 1 &&
        named("tls_scan.scan").length >= 1,
    );
    const published = named("submission").find((s) =>
      attr(s, "edr.submissions.outcome") === "published"
    )!;
    assert.ok(published, "a published submission's span");
    assert.equal(published.kind, 5, "consumer");
    assert.equal(attr(published, "edr.submissions.events"), message.manifestEntry.events);
    assert.equal(
      attr(published, "edr.submissions.submission_id"),
      message.manifestEntry.submission_id,
    );
    const publish = named("submission.publish").find((s) => s.parentSpanId === published.spanId)!;
    assert.ok(publish, "its publish span");
    assert.equal(attr(publish, "edr.submissions.published"), message.manifestEntry.events);
    assert.equal(
      publish.events.filter((e) => e.name === "publish wave").length,
      Math.min(64, Number(attr(publish, "edr.submissions.waves"))),
    );
    assert.ok(Number(attr(publish, "edr.submissions.waves")) >= message.manifestEntry.events);
    assert.ok(named("submission.delete").some((s) => s.parentSpanId === published.spanId));
    const rejected = named("submission").find((s) =>
      attr(s, "edr.submissions.outcome") === "rejected"
    );
    assert.equal(rejected && attr(rejected, "edr.submissions.reason"), "not_base64");

    const scanned = named("tls_scan.scan")[0]!;
    assert.equal(attr(scanned, "edr.tls_scan.engine"), "probe");
    assert.equal(attr(scanned, "edr.tls_scan.grade"), "A");
    assert.equal(attr(scanned, "server.port"), good.port);

    // The HTTP request's server span comes from Deno itself.
    await until(
      "the request's server span",
      () => receiver.spans.some((s) => s.kind === 2 && attr(s, "url.path") === "/scan"),
    );

    // Log lines at their real severities: INFO for the start, WARN for the invalid message.
    await until(
      "INFO and WARN log records",
      () =>
        receiver.logs.some((l) => l.severityText === "INFO") &&
        receiver.logs.some((l) => l.severityText === "WARN"),
    );
    const warn = receiver.logs.find((l) =>
      l.severityText === "WARN" &&
      l.body.stringValue?.includes("dropping invalid message")
    );
    assert.ok(warn, "the invalid message's WARN line");
    assert.equal(JSON.parse(warn.body.stringValue!).level, "WARN");
    const info = receiver.logs.find((l) => l.body.stringValue?.includes('"level":"INFO"'))!;
    assert.equal(info.severityText, "INFO");
    assert.ok(
      !receiver.logs.some((l) =>
        l.severityText === "ERROR" && l.body.stringValue?.includes('"level":"INFO"')
      ),
      "no INFO line exported as ERROR",
    );
    console.log(
      `otel: ${receiver.spans.length} spans, ${receiver.logs.length} log records; submission of ` +
        `${message.manifestEntry.events} events in ${
          attr(publish, "edr.submissions.waves")
        } waves; ` +
        `span names: ${[...new Set(receiver.spans.map((s) => s.name))].sort().join(", ")}`,
    );
  } finally {
    clients.destroy();
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await receiver.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
