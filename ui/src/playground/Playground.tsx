/** The Playground page: try a model with a virtual key (written separately; this is its placeholder). */
export function Playground() {
  return (
    <section className="page">
      <header className="page-header">
        <h1>Playground</h1>
      </header>
      <p className="muted">Playground — coming</p>
    </section>
  );
}
