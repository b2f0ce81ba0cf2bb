import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chooseHost, describeListening, isLoopback } from "../../src/proxy/listen-address.js";

describe("where the proxy listens", () => {
  test("a given host wins; without one, a master key opens every interface and its absence only loopback", () => {
    assert.deepEqual(chooseHost("10.0.0.5", false), { host: "10.0.0.5", choice: "given" });
    assert.deepEqual(chooseHost(undefined, true), { host: "0.0.0.0", choice: "all-interfaces" });
    assert.deepEqual(chooseHost(undefined, false), { host: "127.0.0.1", choice: "loopback-without-key" });
    assert.deepEqual(chooseHost("", false), { host: "127.0.0.1", choice: "loopback-without-key" }, "HOST= counts as not set");
  });

  test("loopback hosts", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) assert.equal(isLoopback(host), true, host);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "127.0.0.1.example.com"]) assert.equal(isLoopback(host), false, host);
  });

  test("the banner names the socket's own address, and how to reach one on every interface", () => {
    assert.equal(describeListening({ address: "127.0.0.1", family: "IPv4", port: 4000 }), "listening on http://127.0.0.1:4000");
    assert.equal(describeListening({ address: "::1", family: "IPv6", port: 4000 }), "listening on http://[::1]:4000");
    assert.equal(
      describeListening({ address: "0.0.0.0", family: "IPv4", port: 4000 }),
      "listening on 0.0.0.0:4000 (all interfaces), try http://127.0.0.1:4000",
    );
    assert.equal(
      describeListening({ address: "::", family: "IPv6", port: 4000 }),
      "listening on [::]:4000 (all interfaces), try http://127.0.0.1:4000",
    );
  });
});
