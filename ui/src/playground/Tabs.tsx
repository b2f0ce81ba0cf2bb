/**
 * A tablist as WAI-ARIA's pattern has it: one tab in the Tab order (the selected one), arrow keys move
 * between tabs and select them, Home and End go to the ends. Every panel stays mounted and the others are
 * hidden, so that a tab keeps its inputs and results while the operator looks at another.
 */
import { type KeyboardEvent, type ReactNode, useRef } from "react";

export interface TabEntry<Id extends string> {
  id: Id;
  label: string;
  panel: ReactNode;
}

export function Tabs<Id extends string>({ label, tabs, selected, onSelect }: { label: string; tabs: ReadonlyArray<TabEntry<Id>>; selected: Id; onSelect: (id: Id) => void }) {
  const buttons = useRef(new Map<Id, HTMLButtonElement>());

  const keyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const at = tabs.findIndex((tab) => tab.id === selected);
    const moves: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = tabs[(target + tabs.length) % tabs.length];
    if (!next) return;
    onSelect(next.id);
    buttons.current.get(next.id)?.focus();
  };

  return (
    <>
      <div className="tabs" role="tablist" aria-label={label} onKeyDown={keyDown}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            ref={(element) => {
              if (element) buttons.current.set(tab.id, element);
              else buttons.current.delete(tab.id);
            }}
            type="button"
            role="tab"
            className="tab"
            id={`pg-tab-${tab.id}`}
            aria-selected={tab.id === selected}
            aria-controls={`pg-panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => onSelect(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {tabs.map((tab) => (
        <div key={tab.id} role="tabpanel" id={`pg-panel-${tab.id}`} aria-labelledby={`pg-tab-${tab.id}`} hidden={tab.id !== selected} tabIndex={0}>
          {tab.panel}
        </div>
      ))}
    </>
  );
}
