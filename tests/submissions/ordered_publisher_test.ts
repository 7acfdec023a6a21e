import assert from "node:assert/strict";
import { OrderedPublisher } from "../../src/submissions/ordered_publisher.ts";
import type { RecordSink } from "../../src/submissions/kinesis_sink.ts";
import {
  assertInOrderAndComplete,
  FakeSink,
  parse,
  prng,
  publishAll,
  submission,
} from "./publisher_fakes.ts";

Deno.test("publishes every record of every submission, in order, with no faults", async () => {
  const sink = new FakeSink({ random: prng(1) });
  const publisher = new OrderedPublisher({ sink, lingerMs: 1 });
  const expected = await publishAll(publisher, 300, (i) => 1 + (i % 10));
  const { duplicates } = assertInOrderAndComplete(sink.stream, expected);
  assert.equal(duplicates, 0);
  assert.deepEqual(sink.violations, []);
  await publisher.idle();
  assert.equal(publisher.activeSubmissions, 0);
});

Deno.test("order and completeness hold when random records fail (partial failures)", async () => {
  for (const seed of [2, 3, 4]) {
    const sink = new FakeSink({ recordFail: 0.3, random: prng(seed) });
    const retries: string[] = [];
    const publisher = new OrderedPublisher({
      sink,
      lingerMs: 1,
      backoff: { baseMs: 1, capMs: 4, random: prng(seed + 100) },
      observer: { onRecordRetry: (code) => retries.push(code) },
    });
    const expected = await publishAll(publisher, 200, (i) => 3 + (i % 8));
    assertInOrderAndComplete(sink.stream, expected);
    assert.deepEqual(sink.violations, []);
    assert.ok(retries.length > 100, `expected many retries, saw ${retries.length}`);
    assert.ok(retries.includes("InternalFailure"));
    assert.ok(retries.includes("ProvisionedThroughputExceededException"));
  }
});

Deno.test("a failed record blocks its submission while later records of others succeed", async () => {
  // First call: fail A#0 and succeed B#0. A#1 must not be sent before A#0 is in.
  let call = 0;
  const stream: string[] = [];
  const requests: string[][] = [];
  const sink: RecordSink = {
    putRecords(records) {
      const names = records.map((r) => {
        const { id, seq } = parse(r);
        return `${id}#${seq}`;
      });
      requests.push(names);
      call++;
      return Promise.resolve(names.map((name) => {
        if (call === 1 && name === "A#0") return { errorCode: "InternalFailure" };
        stream.push(name);
        return { sequenceNumber: String(stream.length) };
      }));
    },
  };
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 5,
    backoff: { baseMs: 30, capMs: 30, random: () => 0.99 },
  });
  const [a, b] = await Promise.all([
    publisher.publish(submission("A", 3)),
    publisher.publish(submission("B", 3)),
  ]);
  assert.deepEqual(a, { complete: true, published: 3 });
  assert.deepEqual(b, { complete: true, published: 3 });
  assert.deepEqual(stream.filter((n) => n.startsWith("A")), ["A#0", "A#1", "A#2"]);
  assert.deepEqual(requests[0], ["A#0", "B#0"]);
  // Between A#0's failure and its retry, B went on alone.
  assert.ok(
    requests.findIndex((r) => r.includes("A#1")) > requests.findIndex((r) => r.includes("B#1")),
  );
});

Deno.test("LocalStack faults, thrown calls and timed-out successes: nothing lost, order kept", async () => {
  const sink = new FakeSink({
    allFail: 0.3,
    recordFail: 0.05,
    throwBefore: 0.05,
    throwAfter: 0.05,
    latencyMs: 3,
    random: prng(7),
  });
  const errors: string[] = [];
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 2,
    // Small calls, so that every fault kind occurs many times.
    maxBatchRecords: 25,
    maxConcurrentRequests: 3,
    backoff: { baseMs: 1, capMs: 8, random: prng(8) },
    observer: { onRequestError: (e) => errors.push((e as Error).name) },
  });
  const expected = await publishAll(publisher, 400, (i) => 6 + (i % 5));
  const { duplicates } = assertInOrderAndComplete(sink.stream, expected);
  assert.deepEqual(sink.violations, []);
  assert.ok(errors.includes("TimeoutError") && errors.includes("Error"));
  // A timed-out success is retried: the copies are the at-least-once duplicates consumers drop.
  assert.ok(duplicates > 0, "timed-out successes should produce duplicates");
});

Deno.test("batches fill across submissions up to 500 records and 5 MiB", async () => {
  const sink = new FakeSink({ latencyMs: 5, random: prng(9) });
  const publisher = new OrderedPublisher({ sink, lingerMs: 20, maxConcurrentRequests: 1 });
  const expected = await publishAll(publisher, 1200, () => 4);
  assertInOrderAndComplete(sink.stream, expected);
  const max = Math.max(...sink.calls.map((c) => c.records));
  assert.equal(max, 500);
  const average = sink.stream.length / sink.calls.length;
  assert.ok(average > 250, `average ${average} records per call`);

  // 40 KiB records: at most 127 fit in 5 MiB.
  const big = new FakeSink({ random: prng(10) });
  const bigPublisher = new OrderedPublisher({ sink: big, lingerMs: 50 });
  // Built before publishing: building 12 MB takes longer than the linger, which would let
  // small batches go first and make the byte limit untested.
  const bigSubmissions = Array.from({ length: 300 }, (_, i) => submission(`b${i}`, 1, 40_000));
  await Promise.all(bigSubmissions.map((records) => bigPublisher.publish(records)));
  assert.deepEqual(big.violations, []);
  assert.ok(Math.max(...big.calls.map((c) => c.bytes)) > 4 * 1024 * 1024);
  assert.equal(big.stream.length, 300);
});

Deno.test("abort settles at once; the record in flight may land, nothing after it is sent", async () => {
  const stream: string[] = [];
  let calls = 0;
  let release: () => void = () => {};
  const sink: RecordSink = {
    async putRecords(records) {
      // The second call hangs until the test releases it.
      if (++calls === 2) await new Promise<void>((r) => release = r);
      return records.map((r) => {
        const { id, seq } = parse(r);
        stream.push(`${id}#${seq}`);
        return { sequenceNumber: String(stream.length) };
      });
    },
  };
  const publisher = new OrderedPublisher({ sink, lingerMs: 0 });
  const controller = new AbortController();
  const outcome = publisher.publish(submission("A", 5), { signal: controller.signal });
  while (calls < 2) await new Promise((r) => setTimeout(r, 1));
  controller.abort();
  // Settled while A#1 is still in flight: only A#0 is known to be in.
  assert.deepEqual(await outcome, { complete: false, published: 1 });
  assert.equal(publisher.activeSubmissions, 0);
  assert.equal(publisher.requestsInFlight, 1);
  release();
  await publisher.idle();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(stream, ["A#0", "A#1"], "A#1 landed; A#2 was never sent");
  assert.equal(calls, 2);
});

Deno.test("abort during backoff settles at once and clears the retry timer", async () => {
  const sink: RecordSink = {
    putRecords: (records) => Promise.resolve(records.map(() => ({ errorCode: "InternalFailure" }))),
  };
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 0,
    backoff: { baseMs: 60_000, capMs: 60_000, random: () => 0.99 },
  });
  const controller = new AbortController();
  const outcome = publisher.publish(submission("A", 2), { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  assert.deepEqual(await outcome, { complete: false, published: 0 });
  await publisher.idle();
});

Deno.test("an empty submission is complete at once; an aborted signal publishes nothing", async () => {
  const sink = new FakeSink({ random: prng(11) });
  const publisher = new OrderedPublisher({ sink });
  assert.deepEqual(await publisher.publish([]), { complete: true, published: 0 });
  assert.deepEqual(
    await publisher.publish(submission("A", 2), { signal: AbortSignal.abort() }),
    { complete: false, published: 0 },
  );
  assert.equal(sink.calls.length, 0);
});
