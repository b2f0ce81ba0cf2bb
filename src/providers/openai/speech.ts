/**
 * Speech: JSON to `{api_base}/audio/speech`, answered as the audio bytes; extras go in the body. `stream` is
 * Xinference's own parameter (an OpenAI server streams its answer anyway) and is not sent.
 */
import type { Readable } from "node:stream";
import type { UpstreamClient } from "../../upstream/client.js";
import type { SpeechRequest } from "../types.js";

export async function speech(request: SpeechRequest, client: UpstreamClient): Promise<Readable> {
  const body: Record<string, unknown> = {
    ...request.extras,
    model: request.uid,
    input: request.input,
    voice: request.voice,
    response_format: request.response_format,
  };
  if (request.speed !== undefined) body.speed = request.speed;
  return (await client.stream({ method: "POST", path: "/audio/speech", json: body })).body;
}
