/** The frame every page shares: product name, page title, navigation. */
import type { ComponentChildren } from 'preact';
import './base.css';

export function Shell(props: { title: string; children: ComponentChildren }) {
  return (
    <div class="shell">
      <header class="shell-header">
        <strong>fal-gateway</strong> <span>{props.title}</span>
        <nav>
          <a href="/console">Console</a> <a href="/playground">Playground</a>
        </nav>
      </header>
      <main>{props.children}</main>
    </div>
  );
}
