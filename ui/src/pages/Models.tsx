export function Models() {
  return (
    <section className="page">
      <header className="page-header">
        <h1>Models</h1>
      </header>
    </section>
  );
}
