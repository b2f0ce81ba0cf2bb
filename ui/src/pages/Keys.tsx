export function Keys() {
  return (
    <section className="page">
      <header className="page-header">
        <h1>Keys and teams</h1>
      </header>
    </section>
  );
}
