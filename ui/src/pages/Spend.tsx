export function Spend() {
  return (
    <section className="page">
      <header className="page-header">
        <h1>Spend and logs</h1>
      </header>
    </section>
  );
}
