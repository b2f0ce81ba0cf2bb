// When no deployment can take a request: the client hears why each one is out and whether waiting helps. A
// passing outage — whatever the failures were — is a 503 with Retry-After at the earliest return; a
// misconfiguration that only a fix cures is a 404 or 502 with the reason and the fix, and no Retry-After.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type APIError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  fromUpstream,
} from "../../../src/errors.js";
import type { HealthFinding, Rotation } from "../../../src/proxy/router/router.js";
import { config, entry, fail, FakeClock, inConfigOrder, refused, reset, scripted, testRouter } from "./helpers.js";

const NOT_LAUNCHED =
  "model uid 'bge-m3' is not launched on Xinference server http://10.0.0.1:9997/v1; launch it there, or set model_info.auto_launch";
const UNREACHABLE = "Xinference server http://127.0.0.1:9/v1 did not list its models: connect ECONNREFUSED 127.0.0.1:9";

/** Health checks' findings as a test states them; `out` lists the deployments background checks took out. */
function health(findings: Record<string, HealthFinding>, options: { out?: string[]; nextCheckAt?: () => number | undefined } = {}): Rotation {
  return {
    inRotation: (id) => !(options.out ?? []).includes(id),
    nextCheckAt: options.nextCheckAt ?? (() => undefined),
    get: (id) => findings[id],
  };
}

const notLaunched = (): Error => fromUpstream(new NotFoundError("Model not found in the model list, uid: bge-m3", { param: "model" }));

/** The error a request ends with. */
async function failure(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    return error as APIError;
  }
  throw new Error("the request was answered");
}

describe("every deployment out for a cause that needs a fix", () => {
  test("a uid launched nowhere: 404 with the health check's reason and fix, no Retry-After, and the same while it cools down", async () => {
    // Background checks off: the start pass found the uid missing but left the deployment in the rotation.
    const rotation = health({ a: { status: "unhealthy", reason: NOT_LAUNCHED } });
    const { router } = testRouter(config([entry("embed", "a")]), { rotation });
    const { call, called } = scripted({ a: fail(notLaunched()) });
    for (let request = 1; request <= 3; request++) {
      const error = await failure(router.execute("embed", call));
      assert.ok(error instanceof NotFoundError, `request ${request}: ${String(error)}`);
      assert.equal(error.code, "model_not_found");
      assert.equal(error.param, "model");
      assert.equal(error.retryAfterMs, undefined);
      assert.equal(error.message, `Model group 'embed' cannot answer: its model is not on its deployments' servers. a needs a fix: ${NOT_LAUNCHED}.`);
    }
    assert.equal(called.length, 1, "asked once: while it cools down the answer is known without asking");
  });

  test("without a health finding, the upstream's own words and the fix", async () => {
    const { router } = testRouter(config([entry("embed", "a")]));
    const error = await failure(router.execute("embed", scripted({ a: fail(notLaunched()) }).call));
    assert.equal(error.status, 404);
    assert.equal(
      error.message,
      "Model group 'embed' cannot answer: its model is not on its deployments' servers. a needs a fix: 404: Model not found in the model " +
        "list, uid: bge-m3. Launch the model on that server, or correct the deployment's litellm_params.model.",
    );
  });

  test("credentials refused by every deployment: 502 naming each and the fix, no Retry-After", async () => {
    const { router } = testRouter(config([entry("embed", "a"), entry("embed", "b")]), { strategy: inConfigOrder });
    const { call } = scripted({
      a: fail(fromUpstream(new AuthenticationError("Could not validate credentials."))),
      b: fail(fromUpstream(new PermissionDeniedError("Not enough permissions"))),
    });
    const error = await failure(router.execute("embed", call));
    assert.equal(error.status, 502);
    assert.equal(error.code, "no_deployment_usable");
    assert.equal(error.retryAfterMs, undefined);
    assert.equal(
      error.message,
      "Model group 'embed' cannot answer: none of its deployments can be used as configured. " +
        "a needs a fix: 401: Could not validate credentials. Check the deployment's litellm_params.api_key. " +
        "b needs a fix: 403: Not enough permissions. Check the deployment's litellm_params.api_key.",
    );
  });

  test("an api_base nothing listens on, which the health check could not reach either: 502 with the health check's reason", async () => {
    const rotation = health({ a: { status: "unhealthy", reason: UNREACHABLE } });
    const { router } = testRouter(config([entry("embed", "a")]), { rotation });
    const error = await failure(router.execute("embed", scripted({ a: fail(refused()) }).call));
    assert.equal(error.status, 502);
    assert.equal(error.retryAfterMs, undefined);
    assert.match(error.message, new RegExp(`a needs a fix: ${UNREACHABLE}\\.$`));
  });

  test("out of the rotation by health checks whose finding says what it is: the status that fits, no Retry-After", async () => {
    const clock = new FakeClock();
    const nextCheckAt = (): number => clock.now() + 60_000;
    const missing = health({ a: { status: "unhealthy", reason: NOT_LAUNCHED, cause: "model-missing" } }, { out: ["a"], nextCheckAt });
    const one = testRouter(config([entry("embed", "a")]), { rotation: missing, clock });
    const error = await failure(one.router.execute("embed", scripted({}).call));
    assert.deepEqual([error.status, error.retryAfterMs], [404, undefined]);
    assert.match(error.message, new RegExp(`a needs a fix: ${NOT_LAUNCHED}\\.$`));

    const down = health({ a: { status: "unhealthy", reason: UNREACHABLE, cause: "unreachable" } }, { out: ["a"], nextCheckAt });
    const two = testRouter(config([entry("embed", "a")]), { rotation: down, clock });
    assert.equal((await failure(two.router.execute("embed", scripted({}).call))).status, 502);
  });
});

describe("every deployment out for a while", () => {
  test("a refused connection the health checks have nothing against is a passing outage: 503 with Retry-After", async () => {
    const { router } = testRouter(config([entry("embed", "a")]));
    const error = await failure(router.execute("embed", scripted({ a: fail(refused()) }).call));
    assert.deepEqual([error.status, error.code, error.retryAfterMs], [503, "no_deployment_available", 5000]);
    assert.match(error.message, /^No deployment of model group 'embed' is available\. Retry in 5 s\. a is cooling down for 5 s after refused: Connection error\.$/);
  });

  test("out of the rotation by health checks that do not say why it may last: 503 naming the finding, Retry-After at the next pass", async () => {
    const clock = new FakeClock();
    const rotation = health({ a: { status: "unhealthy", reason: "health probe failed: embedding call answered 500" } }, { out: ["a"], nextCheckAt: () => clock.now() + 60_000 });
    const { router } = testRouter(config([entry("embed", "a")]), { rotation, clock });
    const error = await failure(router.execute("embed", scripted({}).call));
    assert.deepEqual([error.status, error.retryAfterMs], [503, 60_000]);
    assert.equal(
      error.message,
      "No deployment of model group 'embed' is available. Retry in 60 s. a is failing health checks: health probe failed: embedding call answered 500.",
    );
  });

  test("one deployment misconfigured and another rate limited: 503 at the rate limit's end, naming both", async () => {
    const { router } = testRouter(config([entry("embed", "a"), entry("embed", "b")]), { strategy: inConfigOrder });
    const { call } = scripted({ a: fail(notLaunched()), b: fail(fromUpstream(new RateLimitError("Rate limit reached", { retryAfterMs: 8000 }))) });
    const error = await failure(router.execute("embed", call));
    assert.deepEqual([error.status, error.retryAfterMs], [503, 8000]);
    assert.equal(
      error.message,
      "No deployment of model group 'embed' is available. Retry in 8 s. a needs a fix: 404: Model not found in the model list, uid: bge-m3. " +
        "Launch the model on that server, or correct the deployment's litellm_params.model. b is cooling down for 8 s after 429: Rate limit reached.",
    );
  });

  const failures: [string, (id: string) => Error][] = [
    ["500s", (id) => fromUpstream(new InternalServerError(`engine on ${id} exploded`))],
    ["connection resets", () => reset()],
  ];
  for (const [name, error] of failures) {
    test(`repeated ${name} cool every deployment; from then on each request is a 503 at once, naming each deployment's reason`, async () => {
      const { router } = testRouter(config([entry("embed", "a"), entry("embed", "b")], { cooldown_time: 30 }), { strategy: inConfigOrder });
      const { call, called } = scripted({ a: fail(error("a")), b: fail(error("b")) });
      const statuses: (number | undefined)[] = [];
      for (let request = 1; request <= 3; request++) statuses.push((await failure(router.execute("embed", call))).status);
      // Three requests, each counting once against each deployment (allowed_fails 3): the third takes both out.
      assert.deepEqual(statuses, [name === "500s" ? 500 : undefined, name === "500s" ? 500 : undefined, 503]);
      const calls = called.length;
      const outage = await failure(router.execute("embed", call));
      assert.equal(called.length, calls, "no deployment is called while all are out");
      assert.deepEqual([outage.status, outage.code, outage.retryAfterMs], [503, "no_deployment_available", 30_000]);
      const last = name === "500s" ? "500: engine on (a|b) exploded" : "transient: The connection to Xinference broke before the whole response arrived \\(ECONNRESET\\)\\.";
      assert.match(
        outage.message,
        new RegExp(
          `^No deployment of model group 'embed' is available\\. Retry in 30 s\\. ` +
            `a is cooling down for 30 s after 3 failures within a minute, the last ${last.replace("(a|b)", "a")}\\.? ` +
            `b is cooling down for 30 s after 3 failures within a minute, the last ${last.replace("(a|b)", "b")}\\.?$`,
        ),
      );
    });
  }

  test("a group whose fallbacks are out too answers the same 503, naming the fallbacks and the earliest return", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a"), entry("spare", "s")], { fallbacks: [{ g: ["spare"] }] }));
    await state.cool("s", { until: clock.now() + 60_000, reason: "429: Rate limit reached" }, clock.now());
    const { call, called } = scripted({ a: fail(fromUpstream(new InternalServerError("engine exploded"))) });
    await failure(router.execute("g", call));
    await failure(router.execute("g", call));
    const error = await failure(router.execute("g", call));
    assert.deepEqual([error.status, error.retryAfterMs], [503, 5000]);
    assert.equal(
      error.message,
      "No deployment of model group 'g' or its fallbacks ('spare') is available. Retry in 5 s. " +
        "a is cooling down for 5 s after 3 failures within a minute, the last 500: engine exploded. s is cooling down for 60 s after 429: Rate limit reached.",
    );
    assert.ok(!called.includes("s"));
  });

  test("the message names three deployments, then how many more are out", async () => {
    const ids = ["a", "b", "c", "d", "e"];
    const { router, state, clock } = testRouter(config(ids.map((id) => entry("g", id))));
    for (const [i, id] of ids.entries()) await state.cool(id, { until: clock.now() + 1000 * (i + 1), reason: "429: slow down" }, clock.now());
    const error = await failure(router.execute("g", scripted({}).call));
    assert.equal(
      error.message,
      "No deployment of model group 'g' is available. Retry in 1 s. a is cooling down for 1 s after 429: slow down. " +
        "b is cooling down for 2 s after 429: slow down. c is cooling down for 3 s after 429: slow down. 2 more are out too.",
    );
  });
});
