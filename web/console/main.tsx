import { render } from 'preact';
import { Shell } from '../shared/shell.js';

render(<Shell title="Console"><p>Sign in to continue.</p></Shell>, document.getElementById('app') as HTMLElement);
