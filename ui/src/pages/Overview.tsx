export function Overview() {
  return (
    <section className="page">
      <header className="page-header">
        <h1>Overview</h1>
      </header>
    </section>
  );
}
