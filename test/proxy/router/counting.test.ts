// What one client request counts against the deployments it tried: once each, however many attempts it made
// there; and a request that failed the same way on two deployments is answered with that error at once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { APIConnectionError, BadGatewayError, InternalServerError, ServiceUnavailableError, fromUpstream } from "../../../src/errors.js";
import { config, cooldownOf, entry, fail, inConfigOrder, reset, scripted, testRouter } from "./helpers.js";

describe("a request counts once against a deployment", () => {
  const failures: [string, () => Error][] = [
    ["a 500", () => fromUpstream(new InternalServerError("engine exploded"))],
    ["a connection reset", reset],
  ];
  for (const [name, error] of failures) {
    test(`${name} on each of a request's three attempts counts once: allowed_fails requests cool the deployment, not one`, async () => {
      const { router, state, clock } = testRouter(config([entry("g", "a")], { allowed_fails: 3 }));
      const { call, called } = scripted({ a: fail(error()) });
      for (let request = 1; request <= 2; request++) {
        await assert.rejects(router.execute("g", call), (e: unknown) => !(e instanceof ServiceUnavailableError));
        assert.equal(await cooldownOf(state, "a", clock.now()), undefined, `still in after request ${request}`);
      }
      assert.equal(called.length, 6, "each request made its three attempts");
      // The third request's first failure is the deployment's third: it cools down, and the client hears so.
      await assert.rejects(router.execute("g", call), { status: 503 });
      assert.match((await cooldownOf(state, "a", clock.now())) ?? "", /^3 failures within a minute/);
      assert.equal(called.length, 7);
    });
  }

  test("attempts on several deployments count once against each", async () => {
    const { router, state, clock } = testRouter(
      config([entry("g", "a"), entry("g", "b")], { num_retries: 3, allowed_fails: 2 }),
      { strategy: inConfigOrder },
    );
    const { call, called } = scripted({ a: fail(reset()), b: fail(fromUpstream(new InternalServerError("CUDA out of memory"))) });
    await assert.rejects(router.execute("g", call), APIConnectionError);
    assert.deepEqual(called, ["a", "b", "a", "a"], "untried first, then back to the tier's first");
    assert.equal(await cooldownOf(state, "a", clock.now()), undefined, "a's three failures were one request's");
    assert.equal(await cooldownOf(state, "b", clock.now()), undefined);
  });
});

describe("a request that fails the same way on two deployments", () => {
  /** PIL's error for an upload it cannot read: the address differs from one server to the next. */
  const unreadable = (address: string): Error =>
    fromUpstream(new InternalServerError(`cannot identify image file <_io.BytesIO object at 0x${address}>`));

  test("is answered with that error, without trying the rest of the group or its fallbacks", async () => {
    const { router } = testRouter(
      config([entry("g", "a"), entry("g", "b"), entry("g", "c"), entry("spare", "s")], { num_retries: 5, fallbacks: [{ g: ["spare"] }] }),
      { strategy: inConfigOrder },
    );
    const { call, called } = scripted({ a: fail(unreadable("7f3a5c1e2b80")), b: fail(unreadable("7f0012ab34c0")), c: fail(unreadable("7f99")) });
    await assert.rejects(router.execute("g", call), { status: 500, message: "cannot identify image file <_io.BytesIO object at 0x7f0012ab34c0>" });
    assert.deepEqual(called, ["a", "b"]);
  });

  test("a fallback that fails as the group did ends the request too", async () => {
    const { router } = testRouter(
      config([entry("g", "a"), entry("spare", "s"), entry("last", "l")], { num_retries: 0, fallbacks: [{ g: ["spare", "last"] }] }),
    );
    const { call, called } = scripted({ a: fail(unreadable("7f01")), s: fail(unreadable("7f02")) });
    await assert.rejects(router.execute("g", call), { status: 500, message: /^cannot identify image file/ });
    assert.deepEqual(called, ["a", "s"]);
  });

  test("failures that differ, or that are about the upstream's availability, are retried elsewhere as before", async () => {
    const alike: [string, () => Error, () => Error][] = [
      ["different 500s", () => fromUpstream(new InternalServerError("engine exploded")), () => fromUpstream(new InternalServerError("CUDA out of memory"))],
      ["500s with different codes", () => fromUpstream(new InternalServerError("failed")), () => fromUpstream(new InternalServerError("failed", { code: "engine_error" }))],
      ["connection resets", reset, reset],
      ["503s", () => fromUpstream(new ServiceUnavailableError("Server is overloaded")), () => fromUpstream(new ServiceUnavailableError("Server is overloaded"))],
      ["502s", () => fromUpstream(new BadGatewayError("Bad Gateway")), () => fromUpstream(new BadGatewayError("Bad Gateway"))],
    ];
    for (const [name, first, second] of alike) {
      const { router } = testRouter(config([entry("g", "a"), entry("g", "b"), entry("g", "c")], { allowed_fails: 10 }), { strategy: inConfigOrder });
      const { call, called } = scripted({ a: fail(first()), b: fail(second()) });
      const answer = await router.execute("g", call);
      assert.equal(answer.deployment.id, "c", name);
      assert.deepEqual(called, ["a", "b", "c"], name);
    }
  });

  test("the same failure twice on one deployment is not two deployments': the retries go on", async () => {
    const { router } = testRouter(config([entry("g", "a")], { num_retries: 2, allowed_fails: 10 }));
    const { call, called } = scripted({ a: [fail(unreadable("7f01")), fail(unreadable("7f02")), async () => "answer from a"] });
    assert.equal((await router.execute("g", call)).result, "answer from a");
    assert.equal(called.length, 3);
  });
});
