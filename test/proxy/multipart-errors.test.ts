/**
 * Image-edit forms that are malformed or too large, sent byte for byte: each is a 4xx in the OpenAI error
 * shape that says what is wrong with the form, nothing reaches Xinference, and no spooled upload is left behind.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { describe, test } from "node:test";
import { spoolingProxy } from "../support/spooling-proxy.js";

const MASTER_KEY = "sk-multipart-errors";
const BOUNDARY = "xgate-test-boundary";
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const MB = 1024 * 1024;
/** A whole 8×8 PNG, which Xinference's image library can open. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAIAQMAAAD+wSzIAAAABlBMVEX///+/v7+jQ3Y5AAAADklEQVQI12P4AIX8EAgALgAD/aNpbtIAAAAASUVORK5CYII=",
  "base64",
);

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}

interface Answer {
  status: number;
  body: ErrorShape;
}

/** One part of a hand-made form; `name: undefined` leaves the name out of Content-Disposition. */
function part(name: string | undefined, value: string | Buffer, file?: { filename: string; type: string }): Buffer {
  const disposition = ["form-data", ...(name === undefined ? [] : [`name="${name}"`]), ...(file ? [`filename="${file.filename}"`] : [])];
  const headers = [`Content-Disposition: ${disposition.join("; ")}`, ...(file ? [`Content-Type: ${file.type}`] : [])];
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${headers.join("\r\n")}\r\n\r\n`), Buffer.from(value), Buffer.from("\r\n")]);
}

const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);

function form(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, CLOSE]);
}

const fields = (prompt = "a lighthouse"): Buffer[] => [part("model", "sd"), part("prompt", prompt)];
const image = (data: Buffer = PNG): Buffer => part("image", data, { filename: "a.png", type: "image/png" });

describe("proxy: malformed and over-large image-edit forms", () => {
  const { emulator, proxy, spoolRoot } = spoolingProxy(MASTER_KEY);

  /** POSTs raw bytes to the edits route; a server that answers before reading everything is fine. */
  function send(body: Buffer, contentType = FORM_TYPE): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${proxy().url}/v1/images/edits`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": contentType, "content-length": body.length },
      });
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorShape });
          } catch {
            reject(new Error(`not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
      });
      // Once the answer is in, a write cut short by the server's close is no failure of the test.
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Resolves once the proxy has begun spooling a file, i.e. it holds the file's part. */
  async function spoolingStarted(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      for (const dir of (await readdir(spoolRoot())).filter((name) => name.startsWith("xgate-upload-"))) {
        const files = await readdir(join(spoolRoot(), dir)).catch(() => []);
        if (files.length > 0) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("the proxy never began spooling the file");
  }

  /** Sends `first` (chunked), waits until the proxy is spooling a file, then ends the body. */
  function sendCutAfter(first: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${proxy().url}/v1/images/edits`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": FORM_TYPE },
      });
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorShape }));
      });
      req.on("error", reject);
      req.write(first);
      spoolingStarted().then(() => req.end(), reject);
    });
  }

  function assertError(answer: Answer, status: number, code: string, message: RegExp): void {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code);
    assert.equal(answer.body.error.type, "invalid_request_error");
    assert.ok("param" in answer.body.error);
    assert.match(answer.body.error.message, message);
    assert.ok(!emulator().requests.some((r) => r.path === "/v1/images/edits"), "the form reached Xinference");
  }

  describe("malformed multipart is a 400 naming the problem", () => {
    test("no boundary in Content-Type", async () => {
      const answer = await send(form(...fields(), image()), "multipart/form-data");
      assertError(answer, 400, "invalid_multipart", /no boundary/);
      assert.match(answer.body.error.message, /FormData/);
    });

    test("no closing boundary", async () => {
      // The file arrived whole: the form, not the file, is what was cut.
      const answer = await send(Buffer.concat([image(), ...fields()]));
      assertError(answer, 400, "invalid_multipart", /^The multipart form ended before its closing boundary/);
      assert.equal(answer.body.error.param, null);
      const fileLast = await send(Buffer.concat([...fields(), image()]));
      assertError(fileLast, 400, "invalid_multipart", /ended (before its closing boundary|inside the file 'a\.png')/);
    });

    test("a body that stops inside a file", async () => {
      const whole = form(...fields(), image(Buffer.concat([PNG, Buffer.alloc(64 * 1024, 7)])));
      const answer = await send(whole.subarray(0, whole.length - 1000));
      // Whether busboy names the file depends on how the bytes arrived; either way the form is reported cut.
      assertError(answer, 400, "invalid_multipart", /ended (before its closing boundary|inside the file 'a\.png' \(field 'image'\))/);
    });

    test("a client that stops sending inside a file is told which file was cut", async () => {
      const unfinished = image(Buffer.concat([PNG, Buffer.alloc(1024, 7)]));
      const answer = await sendCutAfter(Buffer.concat([...fields(), unfinished.subarray(0, unfinished.length - 100)]));
      assertError(answer, 400, "invalid_multipart", /^The form ended inside the file 'a\.png' \(field 'image'\)/);
      assert.equal(answer.body.error.param, "image");
    });

    test("a client that hangs up inside a file leaves no spooled file", async () => {
      const req = request(`${proxy().url}/v1/images/edits`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": FORM_TYPE, "content-length": 1024 * 1024 },
      });
      req.on("error", () => {});
      req.write(Buffer.concat([...fields(), image()]).subarray(0, 600));
      await spoolingStarted();
      req.destroy();
      // The proxy learns of the hang-up from its socket: wait until it has cleaned up (afterEach checks it did).
      for (let i = 0; i < 500 && (await readdir(spoolRoot())).some((name) => name.startsWith("xgate-upload-")); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });

    test("a body that stops inside a text field", async () => {
      const whole = form(part("model", "sd"), part("prompt", "p".repeat(10_000)));
      const answer = await send(whole.subarray(0, 5000));
      assertError(answer, 400, "invalid_multipart", /ended before its closing boundary/);
    });

    test("a boundary over 256 characters", async () => {
      const boundary = "b".repeat(300);
      const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--${boundary}--\r\n`);
      const answer = await send(body, `multipart/form-data; boundary=${boundary}`);
      assertError(answer, 400, "invalid_multipart", /boundary is 300 characters long/);
      assert.match(answer.body.error.message, /at most 70/);
    });

    test("a field part without a name", async () => {
      const answer = await send(form(...fields(), part(undefined, "orphan value"), image()));
      assertError(answer, 400, "invalid_multipart", /has no name/);
    });

    test("a file part without a name", async () => {
      const answer = await send(form(...fields(), part(undefined, PNG, { filename: "a.png", type: "image/png" })));
      assertError(answer, 400, "invalid_multipart", /'a\.png' has no name/);
    });

    test("a field labelled application/json that is not JSON", async () => {
      const jsonPart = Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="n"\r\nContent-Type: application/json\r\n\r\n{oops\r\n`,
      );
      const answer = await send(form(...fields(), jsonPart, image()));
      assertError(answer, 400, "invalid_multipart", /application\/json/);
    });

    test("a field named after an object prototype property", async () => {
      const answer = await send(form(...fields(), part("__proto__", "x"), image()));
      assertError(answer, 400, "invalid_multipart", /__proto__/);
    });
  });

  describe("over-large forms are a 413 with the limit, never cut short", () => {
    test("a 10 MB prompt", async () => {
      const answer = await send(form(...fields("p".repeat(10 * MB)), image()));
      assertError(answer, 413, "payload_too_large", /field 'prompt' is larger than the proxy's limit of 2 MB/);
      assert.equal(answer.body.error.param, "prompt");
      assert.match(answer.body.error.message, /max_request_size_mb/);
    });

    test("text fields count toward the request's total", async () => {
      const answer = await send(form(...fields("p".repeat(1.5 * MB)), image(Buffer.concat([PNG, Buffer.alloc(0.75 * MB)]))));
      assertError(answer, 413, "payload_too_large", /form is larger than the proxy's limit of 2 MB/);
    });

    test("a file over the limit", async () => {
      const answer = await send(form(...fields(), image(Buffer.concat([PNG, Buffer.alloc(3 * MB)]))));
      assertError(answer, 413, "payload_too_large", /form is larger than the proxy's limit of 2 MB/);
      assert.match(answer.body.error.message, /went over it in the file 'a\.png' \(field 'image'\)/);
      const alone = await send(form(image(Buffer.concat([PNG, Buffer.alloc(3 * MB)])), ...fields()));
      assertError(alone, 413, "payload_too_large", /The file 'a\.png' \(field 'image'\) is larger than the proxy's limit of 2 MB per file/);
    });

    test("too many fields", async () => {
      const many = Array.from({ length: 70 }, (_, i) => part(`extra_${i}`, "x"));
      const answer = await send(form(...fields(), ...many, image()));
      assertError(answer, 413, "payload_too_large", /at most 64 fields/);
    });

    test("a prompt under the limit reaches Xinference whole", async () => {
      const prompt = "p".repeat(1.5 * MB);
      const answer = await send(form(...fields(prompt), image()));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const edit = emulator().requests.find((r) => r.path === "/v1/images/edits");
      const sent = edit?.body as { fields: Record<string, string> } | undefined;
      assert.equal(sent?.fields.prompt?.length, prompt.length);
    });
  });

  test("after all of that the proxy still serves and logged no internal error", async () => {
    const answer = await send(form(...fields(), image()));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(!proxy().output().stdout.includes("unhandled error"), proxy().output().stdout);
  });
});
