import { render } from 'preact';
import { Shell } from '../shared/shell.js';

render(<Shell title="Playground"><p>Generate an image through the gateway.</p></Shell>, document.getElementById('app') as HTMLElement);
