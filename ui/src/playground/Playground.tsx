/**
 * The Playground: try the models through the same public API a script calls (/v1/...), with the key the
 * operator picks, so that the spend lands on it. One tab per kind of call: embeddings (a similarity heatmap),
 * images (generate and edit with a painted mask), chat (streamed) and rerank.
 */
import { useState } from "react";
import { ErrorNote, Loading } from "../components/States";
import { useLoad } from "../useLoad";
import { Chat } from "./Chat";
import { Embeddings } from "./Embeddings";
import { Images } from "./Images";
import { KeyPicker, keyOption, keyProblem, type PlaygroundKey } from "./KeyPicker";
import { loadModels, modelsOfKind } from "./models";
import { Rerank } from "./Rerank";
import { Tabs } from "./Tabs";

type TabId = "embeddings" | "images" | "chat" | "rerank";

export function Playground() {
  const [key, setKey] = useState<PlaygroundKey>({ kind: "master" });
  const [tab, setTab] = useState<TabId>("embeddings");
  const blocked = keyProblem(key);
  const apiKey = keyOption(key);
  // The models the chosen key may call: loaded again when the key changes (and is whole).
  const listKey = blocked === null ? (apiKey ?? "") : null;
  const loaded = useLoad((signal) => (listKey === null ? Promise.resolve([]) : loadModels(apiKey, signal)), [listKey]);
  const models = loaded.data ?? [];
  const props = { apiKey, blocked };

  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>Playground</h1>
          <p className="muted">Calls the proxy&rsquo;s public API as a client would, with the key you pick: spend and limits apply to it.</p>
        </div>
      </header>
      <KeyPicker value={key} onChange={setKey} />
      {loaded.error !== null && <ErrorNote error={loaded.error} onRetry={loaded.reload} />}
      {loaded.loading && !loaded.data && <Loading label="Loading the models…" />}
      <Tabs
        label="Playground"
        selected={tab}
        onSelect={setTab}
        tabs={[
          { id: "embeddings", label: "Embeddings", panel: <Embeddings models={modelsOfKind(models, "embedding")} {...props} /> },
          { id: "images", label: "Images", panel: <Images models={models} {...props} /> },
          { id: "chat", label: "Chat", panel: <Chat models={modelsOfKind(models, "chat")} {...props} /> },
          { id: "rerank", label: "Rerank", panel: <Rerank models={modelsOfKind(models, "rerank")} {...props} /> },
        ]}
      />
    </section>
  );
}
