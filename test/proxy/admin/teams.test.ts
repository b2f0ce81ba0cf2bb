/** The `/team/*` routes with the master key, on SQLite and on Postgres. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { type AdminApp, adminApp, backends, DAY, errorOf, fields, START } from "./helpers.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const backend of await backends("test/proxy/admin/teams.test.ts")) {
  describe(`/team/* on ${backend.name}`, () => {
    let admin: AdminApp;
    before(async () => {
      admin = await adminApp(backend);
    });
    after(() => admin.close());
    beforeEach(() => admin.reset());

    async function keyIn(teamId: string): Promise<{ key: string; token: string }> {
      const answer = await admin.call("POST", "/key/generate", { body: { team_id: teamId } });
      assert.equal(answer.status, 200, answer.text);
      return fields(answer) as { key: string; token: string };
    }

    test("POST /team/new creates the team with its settings and answers it", async () => {
      const answer = await admin.call("POST", "/team/new", {
        body: {
          team_id: "team-a",
          team_alias: "Search",
          models: ["embed"],
          metadata: { cost_centre: 7 },
          max_budget: 100,
          budget_duration: "1d",
          rpm_limit: 600,
          tpm_limit: 1_000_000,
          max_parallel_requests: 20,
        },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(fields(answer), {
        team_id: "team-a",
        team_alias: "Search",
        models: ["embed"],
        metadata: { cost_centre: 7 },
        max_budget: 100,
        spend: 0,
        budget_duration: "1d",
        budget_reset_at: new Date(START + DAY).toISOString(),
        rpm_limit: 600,
        tpm_limit: 1_000_000,
        max_parallel_requests: 20,
        created_at: new Date(START).toISOString(),
        updated_at: new Date(START).toISOString(),
      });
      assert.deepEqual(admin.notices.teams, ["team-a"]);
    });

    test("without team_id, the team gets a uuid; a team_id taken is a 400 naming it", async () => {
      const generated = fields(await admin.call("POST", "/team/new", { body: { team_alias: "x" } }));
      assert.match(generated.team_id as string, UUID);
      const again = await admin.call("POST", "/team/new", { body: { team_id: generated.team_id } });
      assert.deepEqual([again.status, errorOf(again).code, errorOf(again).param], [400, "team_id_taken", "team_id"]);
    });

    test("POST /team/update changes the fields given and answers {team_id, data}", async () => {
      await admin.call("POST", "/team/new", { body: { team_id: "team-a", rpm_limit: 5, models: ["embed"] } });
      const answer = await admin.call("POST", "/team/update", { body: { team_id: "team-a", rpm_limit: 50, max_budget: 9, spend: 0 } });
      assert.equal(answer.status, 200, answer.text);
      const { team_id, data } = fields(answer) as { team_id: string; data: Record<string, unknown> };
      assert.equal(team_id, "team-a");
      assert.deepEqual([data.rpm_limit, data.max_budget, data.models], [50, 9, ["embed"]]);
      assert.deepEqual(admin.notices.teams.at(-1), "team-a");
      const unknown = await admin.call("POST", "/team/update", { body: { team_id: "nope", rpm_limit: 1 } });
      assert.deepEqual([unknown.status, errorOf(unknown).code, errorOf(unknown).param], [404, "team_not_found", "team_id"]);
    });

    test("GET /team/info answers the team and its keys, never their values", async () => {
      await admin.call("POST", "/team/new", { body: { team_id: "team-a", team_alias: "A" } });
      await admin.call("POST", "/team/new", { body: { team_id: "team-b" } });
      const first = await keyIn("team-a");
      admin.clock.advance(1000);
      const second = await keyIn("team-a");
      await keyIn("team-b");
      const answer = await admin.call("GET", "/team/info?team_id=team-a");
      assert.equal(answer.status, 200, answer.text);
      const body = fields(answer) as { team_id: string; team_info: Record<string, unknown>; keys: Array<Record<string, unknown>> };
      assert.equal(body.team_id, "team-a");
      assert.equal(body.team_info.team_alias, "A");
      assert.deepEqual(body.keys.map((key) => key.token), [first.token, second.token]);
      assert.equal(answer.text.includes(first.key) || answer.text.includes(second.key), false);
      const unknown = await admin.call("GET", "/team/info?team_id=nope");
      assert.deepEqual([unknown.status, errorOf(unknown).code], [404, "team_not_found"]);
    });

    test("GET /team/list answers every team with its keys, as LiteLLM does", async () => {
      await admin.call("POST", "/team/new", { body: { team_id: "team-a" } });
      admin.clock.advance(1000);
      await admin.call("POST", "/team/new", { body: { team_id: "team-b" } });
      const key = await keyIn("team-b");
      const answer = await admin.call("GET", "/team/list");
      const teams = answer.body as Array<{ team_id: string; keys: Array<{ token: string }> }>;
      assert.deepEqual(teams.map((team) => [team.team_id, team.keys.map((k) => k.token)]), [
        ["team-a", []],
        ["team-b", [key.token]],
      ]);
      assert.equal(answer.text.includes(key.key), false);
    });

    test("POST /team/delete deletes the teams and their keys, and names both to the notifier", async () => {
      await admin.call("POST", "/team/new", { body: { team_id: "team-a" } });
      await admin.call("POST", "/team/new", { body: { team_id: "team-b" } });
      const doomed = await keyIn("team-a");
      const kept = await keyIn("team-b");
      admin.notices.keys.length = 0;
      admin.notices.teams.length = 0;
      const answer = await admin.call("POST", "/team/delete", { body: { team_ids: ["team-a"] } });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(fields(answer), { deleted_teams: ["team-a"], deleted_keys: [doomed.token] });
      assert.deepEqual(admin.notices, { teams: ["team-a"], keys: [[doomed.token]] });
      assert.equal((await admin.call("GET", `/key/info?key=${doomed.key}`)).status, 404);
      assert.equal((await admin.call("GET", `/key/info?key=${kept.key}`)).status, 200);
    });

    test("a delete naming a team that does not exist deletes nothing and says which", async () => {
      await admin.call("POST", "/team/new", { body: { team_id: "team-a" } });
      const answer = await admin.call("POST", "/team/delete", { body: { team_ids: ["team-a", "ghost"] } });
      assert.deepEqual([answer.status, errorOf(answer).code, errorOf(answer).param], [404, "team_not_found", "team_ids"]);
      assert.match(errorOf(answer).message, /No team 'ghost': nothing was deleted/);
      assert.ok(await admin.store.teams.get("team-a"));
    });
  });
}
