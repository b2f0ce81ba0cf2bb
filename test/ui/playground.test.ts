// The Playground in a real browser, against the proxy on the Xinference emulator: each tab's call, what it
// shows, and that it is what the emulator answered (expectations computed from direct calls to the emulator,
// never written down); a pasted virtual key is what pays.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import sharp from "sharp";
import { ACCOUNTS_MASTER_KEY } from "../support/accounts-app.js";
import { type ConsoleHarness, consoleHarness, PHONE, screenshot } from "../support/browser.js";
import { type Emulator, type RecordedMultipart, startEmulator } from "../support/emulator/index.js";

let emulator: Emulator;
let ui: ConsoleHarness;

before(async () => {
  // Streamed tokens 120 ms apart, so that a stream is seen arriving and can be stopped half-way.
  emulator = await startEmulator({ recordFileData: true, tokenDelayMs: 120 });
  ui = await consoleHarness(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { id: embed-1, mode: embedding, input_cost_per_token: 0.001 }
  - model_name: image
    litellm_params: { model: xinference/stabilityai/stable-diffusion-3.5-large, api_base: ${emulator.baseUrl} }
    model_info: { id: image-1, mode: image_generation }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${emulator.baseUrl} }
    model_info: { id: chat-1, mode: chat }
  - model_name: rerank
    litellm_params: { model: xinference/bge-reranker-base, api_base: ${emulator.baseUrl} }
    model_info: { id: rerank-1, mode: rerank }
router_settings:
  num_retries: 0
general_settings:
  master_key: ${ACCOUNTS_MASTER_KEY}
`);
});

after(async () => {
  await ui?.close();
  await emulator?.close();
});

/** A call straight to the emulator: what the proxy passed on is this. */
async function emulatorCall<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${emulator.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, `${path} on the emulator`);
  return (await response.json()) as T;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  });
  return dot / Math.sqrt(aa * bb);
}

async function openPlayground(page: Page, tab: string): Promise<Locator> {
  await ui.signIn(page, "playground");
  await page.getByRole("heading", { level: 1, name: "Playground" }).waitFor();
  await page.getByRole("tab", { name: tab }).click();
  const panel = page.getByRole("tabpanel", { name: tab });
  // The model list has loaded once a model is picked.
  await panel.getByLabel("Model").first().locator("option").first().waitFor({ state: "attached" });
  return panel;
}

/** An <img>'s width once its picture has loaded and decoded (0 never: a broken image fails to decode). */
async function loadedWidth(image: Locator): Promise<number> {
  return image.evaluate(async (element) => {
    const img = element as unknown as { decode(): Promise<void>; naturalWidth: number };
    await img.decode();
    return img.naturalWidth;
  });
}

/** The heatmap's cells as numbers, row by row. */
async function heatmapValues(page: Page): Promise<number[][]> {
  return page.locator(".pg-heatmap tbody tr").evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll("td")].map((cell) => Number(cell.textContent))));
}

describe("console playground", () => {
  test("embeddings: the heatmap shows the cosine similarity of the vectors the model returns", (t) =>
    ui.withPage(t, async (page) => {
      const panel = await openPlayground(page, "Embeddings");
      // The third text repeats the first: the same vector, so 1.00 off the diagonal too.
      const texts = ["The cat sat on the mat", "Quarterly earnings beat expectations", "The cat sat on the mat", "A kitten naps on a rug"];
      await panel.getByLabel("Texts, one per line").fill(texts.join("\n"));
      await panel.getByRole("button", { name: "Compare texts" }).click();
      await page.locator(".pg-heatmap").waitFor();

      const answer = await emulatorCall<{ data: Array<{ index: number; embedding: number[] }> }>("/embeddings", { model: "bge-base-en", input: texts });
      const vectors = answer.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
      const shown = await heatmapValues(page);
      assert.equal(shown.length, texts.length);
      for (let i = 0; i < texts.length; i++) {
        assert.equal(shown[i]?.length, texts.length);
        assert.equal(shown[i]?.[i], 1, `the diagonal is 1.00 (row ${i + 1})`);
        for (let j = 0; j < texts.length; j++) {
          const expected = cosine(vectors[i] ?? [], vectors[j] ?? []);
          assert.ok(Math.abs((shown[i]?.[j] ?? Number.NaN) - expected) <= 0.005, `cell ${i + 1},${j + 1}: shown ${shown[i]?.[j]}, cosine ${expected.toFixed(4)}`);
        }
      }
      assert.equal(shown[0]?.[2], 1, "a repeated text is 1.00 with its twin");
      assert.ok((shown[0]?.[1] ?? 1) < 0.99, "different texts are not alike");
      // Row and column headers name the texts.
      await page.getByRole("rowheader", { name: /Quarterly earnings/ }).waitFor();
      await page.getByRole("columnheader", { name: /A kitten naps/ }).waitFor();
      // Where the call went, and how long it took.
      const facts = panel.getByRole("definition");
      await panel.getByText("embed-1").waitFor();
      assert.match((await panel.getByTestId("latency").textContent()) ?? "", /\d+ (ms|s)/);
      assert.ok((await facts.count()) >= 3);
      await screenshot(page, "console-playground-embeddings-desktop-light", { fullPage: true });
    }));

  test("the heatmap at phone width, dark", (t) =>
    ui.withPage(
      t,
      async (page) => {
        const panel = await openPlayground(page, "Embeddings");
        await panel.getByRole("button", { name: "Compare texts" }).click();
        await page.locator(".pg-heatmap td").first().waitFor();
        // The table scrolls inside its card; the page itself does not scroll sideways.
        assert.equal(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true);
        await screenshot(page, "console-playground-embeddings-phone-dark", { fullPage: true });
        for (const tab of ["Images", "Chat", "Rerank"]) {
          await page.getByRole("tab", { name: tab }).click();
          await page.getByRole("tabpanel", { name: tab }).getByLabel("Model").first().waitFor();
          assert.equal(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true, `${tab} fits the phone's width`);
          await screenshot(page, `console-playground-${tab.toLowerCase()}-phone-dark`, { fullPage: true });
        }
      },
      { viewport: PHONE, colorScheme: "dark" },
    ));

  test("images: a generated image is shown, inline or hosted", (t) =>
    ui.withPage(t, async (page) => {
      const panel = await openPlayground(page, "Images");
      const generate = panel.getByRole("region", { name: "Generate" });
      await generate.getByLabel("Prompt").fill("a lighthouse at dusk");
      await generate.getByLabel("Size").selectOption("256x256");
      await generate.getByLabel("Number of images").fill("2");
      await generate.getByRole("button", { name: "Generate" }).click();
      const images = generate.getByTestId("result-image");
      await images.nth(1).waitFor();
      assert.equal(await images.count(), 2);
      for (const image of await images.all()) {
        assert.equal(await loadedWidth(image), 256);
        assert.match((await image.getAttribute("src")) ?? "", /^data:image\/(jpeg|png);base64,/);
      }
      const sent = emulator.requests.filter((r) => r.path === "/v1/images/generations").at(-1)?.body as Record<string, unknown>;
      assert.equal(sent.n, 2);
      assert.equal(sent.prompt, "a lighthouse at dusk");

      await generate.getByLabel("Number of images").fill("1");
      await generate.getByLabel("Answer as").selectOption("url");
      await generate.getByRole("button", { name: "Generate" }).click();
      await generate.getByTestId("result-image").and(page.locator(`[src^="${ui.proxy.url}"], [src^="/"]`)).waitFor();
      const hosted = generate.getByTestId("result-image");
      assert.equal(await loadedWidth(hosted), 256);
      await screenshot(page, "console-playground-images-desktop-light", { fullPage: true });
    }));

  test("images: an edit sends the painted area as the transparent part of the mask, and shows the result", (t) =>
    ui.withPage(t, async (page) => {
      const panel = await openPlayground(page, "Images");
      const edit = panel.getByRole("region", { name: "Edit" });
      const width = 160;
      const height = 120;
      const png = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 120, b: 200 } } }).png().toBuffer();
      await edit.getByLabel("Image to edit").setInputFiles({ name: "harbour.png", mimeType: "image/png", buffer: png });
      const canvas = edit.getByTestId("mask-canvas");
      await canvas.waitFor();
      assert.equal(await loadedWidth(edit.getByRole("img", { name: "Uploaded image harbour.png" })), width);

      // A stroke across the left half of the image, a third of the way down.
      const box = await canvas.boundingBox();
      assert.ok(box);
      const y = box.y + box.height / 3;
      await page.mouse.move(box.x + box.width * 0.1, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.45, y, { steps: 8 });
      await page.mouse.up();
      await edit.getByText("The painted area is edited").waitFor();

      await edit.getByLabel("Edit prompt").fill("a red boat");
      await edit.getByRole("button", { name: "Edit image" }).click();
      const result = edit.getByTestId("result-image");
      await result.waitFor();
      assert.equal(await loadedWidth(result), width, "size 'original' keeps the upload's width");
      await edit.getByRole("img", { name: "The original image" }).waitFor();
      assert.equal(await loadedWidth(edit.getByTestId("sent-mask")), width, "the mask sent is shown");

      const record = emulator.requests.filter((r) => r.path === "/v1/images/edits").at(-1);
      const form = record?.body as RecordedMultipart;
      assert.equal(form.fields.prompt, "a red boat");
      assert.ok(form.files.some((f) => f.field === "images" || f.field === "image"), "the image was sent");
      const mask = form.files.find((f) => f.field === "mask");
      assert.ok(mask?.data, "a mask was sent");
      const { data, info } = await sharp(mask.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [width, height], "the mask is the image's size");
      const pixel = (x: number, yy: number): number[] => [...data.subarray((yy * width + x) * 4, (yy * width + x) * 4 + 4)];
      const row = Math.round(height / 3);
      // Painted: transparent (OpenAI's "edit here") and white (diffusers' "repaint").
      assert.deepEqual(pixel(Math.round(width * 0.25), row), [255, 255, 255, 0]);
      // Not painted: opaque black, kept.
      assert.deepEqual(pixel(Math.round(width * 0.8), row), [0, 0, 0, 255]);
      assert.deepEqual(pixel(Math.round(width * 0.25), height - 2), [0, 0, 0, 255]);
      let transparent = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] === 0) transparent++;
      assert.ok(transparent > 0 && transparent < width * height * 0.5, `a stroke's worth of transparent pixels (${transparent})`);

      await edit.getByRole("button", { name: "Clear mask" }).click();
      await edit.getByText("Nothing painted").waitFor();
      await screenshot(page, "console-playground-edit-desktop-light", { fullPage: true });
    }));

  test("chat: the answer streams in, and Stop ends the stream half-way", (t) =>
    ui.withPage(t, async (page) => {
      const panel = await openPlayground(page, "Chat");
      await panel.getByLabel("Max tokens").fill("30");
      await panel.getByLabel("Message").fill("tell me about lighthouses");
      await panel.getByRole("button", { name: "Send" }).click();
      const answer = panel.getByTestId("message-assistant").last();
      // Part of the answer is on the page while the stream is still going.
      await answer.getByText(/lighthouses/).waitFor();
      assert.equal(await panel.getByRole("button", { name: "Stop" }).isVisible(), true, "the answer arrives while the stream is open");
      await panel.getByRole("button", { name: "Send" }).waitFor();
      const full = (await answer.textContent()) ?? "";
      assert.match(full, /tell me about lighthouses/, "the emulator's echo of the message");
      const usage = /(\d+) in, (\d+) out/.exec((await panel.getByTestId("usage").textContent()) ?? "");
      assert.ok(usage && Number(usage[2]) > 0 && Number(usage[2]) <= 30, "the stream's usage, within max_tokens");
      const sent = emulator.requests.filter((r) => r.path === "/v1/chat/completions").at(-1)?.body as { stream: boolean; max_tokens: number; messages: Array<{ role: string }> };
      assert.equal(sent.stream, true);
      assert.equal(sent.max_tokens, 30);
      assert.deepEqual(sent.messages.map((m) => m.role), ["system", "user"]);

      await panel.getByLabel("Max tokens").fill("2000");
      await panel.getByLabel("Message").fill("and about harbours");
      await panel.getByLabel("Message").press("Enter");
      const second = panel.getByTestId("message-assistant").nth(1);
      await second.getByText(/harbours/).waitFor();
      await panel.getByRole("button", { name: "Stop" }).click();
      await second.getByText("stopped").waitFor();
      await emulator.waitForIdle("qwen2.5-instruct");
      const stopped = emulator.requests.filter((r) => r.path === "/v1/chat/completions").at(-1);
      assert.equal(stopped?.disconnected, true, "the stop closed the upstream stream");
      assert.ok((stopped?.streamedEvents ?? 0) < 200, "fewer events than the whole answer went out");
      const { messages } = stopped?.body as { messages: Array<{ role: string; content: string }> };
      assert.deepEqual(messages.map((m) => m.role), ["system", "user", "assistant", "user"], "the conversation so far was sent");
      // The whole answer to the same conversation (the emulator's answers are seeded by it): what was shown is a part of it.
      const whole = await emulatorCall<{ choices: Array<{ message: { content: string } }> }>("/chat/completions", { model: "qwen2.5-instruct", messages, max_tokens: 2000 });
      const complete = whole.choices[0]?.message.content ?? "";
      const partial = ((await second.locator("p").textContent()) ?? "").trim();
      assert.ok(partial.length > 0 && partial.length < complete.trim().length && complete.startsWith(partial), `stopped half-way: "${partial}" of "${complete}"`);
      await screenshot(page, "console-playground-chat-desktop-light", { fullPage: true });

      // A failure inside the stream, after its 200: the words reach the page, and what had arrived stays.
      emulator.setFault("chat/completions", { kind: "stream-error", afterChunks: 3, message: "the engine fell over", times: 1 });
      await panel.getByLabel("Message").fill("one more");
      await panel.getByRole("button", { name: "Send" }).click();
      await panel.getByRole("alert").getByText(/engine fell over/).waitFor();
      await panel.getByTestId("message-assistant").nth(2).getByText("failed").waitFor();
    }));

  test("rerank: the documents in the model's order, with their scores", (t) =>
    ui.withPage(t, async (page) => {
      const panel = await openPlayground(page, "Rerank");
      const query = "capital city of France";
      const documents = ["Berlin is a city in Germany", "Paris is the capital of France", "The weather is mild today", "France has a capital city"];
      await panel.getByLabel("Query").fill(query);
      await panel.getByLabel("Documents, one per line").fill(documents.join("\n"));
      await panel.getByRole("button", { name: "Rerank" }).click();
      await panel.getByTestId("ranked-document").first().waitFor();

      const expected = await emulatorCall<{ results: Array<{ index: number; relevance_score: number }> }>("/rerank", { model: "bge-reranker-base", query, documents });
      const order = [...expected.results].sort((a, b) => b.relevance_score - a.relevance_score);
      const rows = await panel.getByTestId("ranked-document").all();
      assert.equal(rows.length, documents.length);
      for (const [rank, row] of rows.entries()) {
        const want = order[rank];
        assert.ok(want);
        assert.match((await row.textContent()) ?? "", new RegExp(documents[want.index] ?? "?"));
        assert.equal(await row.getByTestId("score").textContent(), want.relevance_score.toFixed(4));
      }
      const scores = await panel.getByTestId("score").allTextContents();
      assert.deepEqual(scores.map(Number), [...scores.map(Number)].sort((a, b) => b - a), "best first");
      await panel.getByRole("meter", { name: `Score of document ${(order[0]?.index ?? 0) + 1}` }).waitFor();
      await screenshot(page, "console-playground-rerank-desktop-light", { fullPage: true });

      // A refusal upstream is shown in the API's words, with the call's latency.
      emulator.setFault("rerank", { kind: "status", status: 400, body: { detail: "documents are too long for this model" }, times: 1 });
      await panel.getByRole("button", { name: "Rerank" }).click();
      await panel.getByRole("alert").getByText(/documents are too long/).waitFor();
      assert.match((await panel.getByTestId("latency").textContent()) ?? "", /\d+ (ms|s)/);
    }));

  test("a pasted virtual key pays for the calls, sees only its models, and is kept nowhere", (t) =>
    ui.withPage(t, async (page) => {
      const { key } = await ui.proxy.admin("/key/generate", { key_alias: "playground-app", models: ["embed"] });
      const spendOf = async (): Promise<number> => {
        const answer = await ui.proxy.call("GET", `/key/info?key=${encodeURIComponent(key)}`);
        assert.equal(answer.status, 200);
        return Number((answer.body.info as { spend: number }).spend);
      };
      assert.equal(await spendOf(), 0);

      await ui.signIn(page, "playground");
      await page.getByLabel("A virtual key").check();
      const field = page.getByLabel("Virtual key", { exact: true });
      await field.fill("sk-not-a-key-of-this-proxy");
      await page.getByRole("alert").waitFor();
      assert.ok(((await page.getByRole("alert").textContent()) ?? "").length > 10, "the proxy's refusal is shown");

      await field.fill(key);
      const panel = page.getByRole("tabpanel", { name: "Embeddings" });
      await panel.getByLabel("Model").locator("option", { hasText: "embed" }).waitFor({ state: "attached" });
      await panel.getByRole("button", { name: "Compare texts" }).click();
      await page.locator(".pg-heatmap").waitFor();
      await panel.getByText(/Cost/).waitFor();

      await ui.proxy.flush();
      assert.ok((await spendOf()) > 0, "the virtual key's spend went up");

      // The key may call only embed: the other tabs offer nothing to call.
      await page.getByRole("tab", { name: "Images" }).click();
      const images = page.getByRole("tabpanel", { name: "Images" });
      assert.equal(await images.getByRole("button", { name: "Generate" }).isDisabled(), true);
      await images.getByText("No model of this kind").first().waitFor({ state: "attached" });

      const kept = await page.evaluate("JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href");
      assert.equal(String(kept).includes(key), false, "the pasted key is in no storage and not in the URL");
    }));

  test("the tabs are a tablist the arrow keys move through", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page, "playground");
      const first = page.getByRole("tab", { name: "Embeddings" });
      await first.focus();
      await page.keyboard.press("ArrowRight");
      const selected = async (): Promise<string | null> => page.getByRole("tab", { selected: true }).textContent();
      assert.equal(await selected(), "Images");
      assert.equal(await page.evaluate("document.activeElement?.textContent"), "Images");
      await page.keyboard.press("End");
      assert.equal(await selected(), "Rerank");
      await page.keyboard.press("ArrowRight");
      assert.equal(await selected(), "Embeddings", "the arrows wrap around");
      await page.keyboard.press("ArrowLeft");
      assert.equal(await selected(), "Rerank");
      await page.getByRole("tabpanel", { name: "Rerank" }).getByLabel("Query").waitFor();
      assert.equal(await page.getByRole("tab").evaluateAll((tabs) => tabs.filter((tab) => tab.getAttribute("tabindex") === "0").length), 1, "one tab in the Tab order");
    }));
});
