import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { drainingText, parentCheck } from "../../src/proxy/lifecycle.js";

describe("the CLI's stop", () => {
  test("names how many requests it waits for, and for how long", () => {
    assert.equal(drainingText(0, 30), "draining 0 in-flight requests, up to 30 s");
    assert.equal(drainingText(1, 30), "draining 1 in-flight request, up to 30 s");
    assert.equal(drainingText(12, 2.5), "draining 12 in-flight requests, up to 2.5 s");
  });

  test("a parent that is gone is noticed by the pid changing, to init or to a subreaper", () => {
    for (const adopter of [1, 777]) {
      let ppid = 4242;
      const gone = parentCheck(() => ppid);
      assert.equal(gone(), undefined);
      ppid = adopter;
      assert.equal(gone(), 4242);
    }
  });
});
