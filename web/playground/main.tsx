import { render } from 'preact';
import { App } from './app.js';
import './playground.css';

render(<App />, document.getElementById('app') as HTMLElement);
