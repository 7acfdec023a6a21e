import assert from "node:assert/strict";
import dgram from "node:dgram";
import { openReceiver } from "../../src/ip_events/open_receiver.ts";
import { openProcNet, parseSnmpUdp, parseSocketDrops } from "../../src/ip_events/proc_net.ts";
import { MAX_DATAGRAM_BYTES, RECEIVE_PATHS } from "../../src/ip_events/udp_receiver.ts";

async function send(port: number, datagrams: Uint8Array[]): Promise<void> {
  const socket = dgram.createSocket("udp4");
  for (const datagram of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, "127.0.0.1", (error) => error ? reject(error) : resolve())
    );
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

for (const path of RECEIVE_PATHS) {
  Deno.test(`${path}: delivers every datagram intact, oversized ones counted apart`, async () => {
    const received: string[] = [];
    let oversized = 0;
    const { receiver } = await openReceiver(path, {
      host: "127.0.0.1",
      port: 0,
      receiveBufferBytes: 1 << 20,
      sink: (datagrams, over) => {
        for (const d of datagrams) received.push(new TextDecoder().decode(d));
        oversized += over;
      },
    });
    try {
      assert.equal(receiver.path, path);
      assert.ok(receiver.port > 0);
      const sent = Array.from({ length: 2000 }, (_, i) => `datagram ${i}`);
      const datagrams = [
        ...sent.map((s) => new TextEncoder().encode(s)),
        new Uint8Array(MAX_DATAGRAM_BYTES + 1),
        new Uint8Array(MAX_DATAGRAM_BYTES),
      ];
      // In bursts of 100: node:dgram keeps the kernel's default buffer (~270 small datagrams),
      // and sender and receiver share this process's event loop.
      for (let i = 0; i < datagrams.length; i += 100) {
        await send(receiver.port, datagrams.slice(i, i + 100));
        for (let turn = 0; turn < 100 && received.length + oversized < i; turn++) {
          await receiver.drain();
        }
      }
      // Loopback delivers at once; the drain hands over what the socket holds.
      for (let i = 0; i < 50 && received.length + oversized < sent.length + 2; i++) {
        await receiver.drain();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(received.slice(0, sent.length), sent);
      assert.equal(received.length, sent.length + 1);
      assert.equal(received.at(-1)!.length, MAX_DATAGRAM_BYTES);
      assert.equal(oversized, 1);
    } finally {
      await receiver.close();
    }
  });
}

Deno.test("recvmmsg: the receive buffer is set and read back; drain takes what the socket holds", async () => {
  let count = 0;
  const { receiver } = await openReceiver("recvmmsg", {
    host: "127.0.0.1",
    port: 0,
    receiveBufferBytes: 1 << 20,
    sink: (datagrams) => count += datagrams.length,
  });
  try {
    // The kernel doubles the request (bookkeeping), capped by net.core.rmem_max.
    assert.ok(receiver.receiveBufferBytes! >= 1 << 20, String(receiver.receiveBufferBytes));
    const sent = 3000;
    await send(receiver.port, Array.from({ length: sent }, () => new Uint8Array(72)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await receiver.drain();
    assert.equal(count, sent);
  } finally {
    await receiver.close();
  }
});

Deno.test("auto picks recvmmsg when FFI is permitted; a taken port is an error, not a fallback", async () => {
  const { receiver, fallbackReason } = await openReceiver("auto", {
    host: "127.0.0.1",
    port: 0,
    receiveBufferBytes: 1 << 20,
    sink: () => {},
  });
  try {
    assert.equal(receiver.path, "recvmmsg");
    assert.equal(fallbackReason, undefined);
    await assert.rejects(
      openReceiver("auto", {
        host: "127.0.0.1",
        port: receiver.port,
        receiveBufferBytes: 1 << 20,
        sink: () => {},
      }),
      /bind failed: Address already in use/,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("the kernel's UDP counters: parsed from /proc/net/snmp and /proc/net/udp (read through libc)", () => {
  const snmp = "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n" +
    "Udp: 1000 1 7 900 6 0\n";
  assert.deepEqual(parseSnmpUdp(snmp), { inDatagrams: 1000, rcvbufErrors: 6 });
  assert.equal(parseSnmpUdp("Ip: 1\n"), undefined);
  const udp = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid" +
    "  timeout inode ref pointer drops\n" +
    "  120: 0100007F:0BB9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0" +
    "        0 123 2 0000000000000000 17\n";
  assert.equal(parseSocketDrops(udp, 3001), 17);
  assert.equal(parseSocketDrops(udp, 3002), undefined);
  const proc = openProcNet();
  assert.ok(proc, "FFI is granted to the tests");
  try {
    const counters = proc.udpCounters();
    assert.ok(counters !== undefined && counters.inDatagrams >= 0 && counters.rcvbufErrors >= 0);
  } finally {
    proc.close();
  }
});
