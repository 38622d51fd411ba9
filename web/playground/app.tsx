/**
 * The playground: sign in, fill the form, generate through the gateway's queue, watch it run, see
 * the images, what they cost and the same request as code. No state library: one component's state.
 */
import { useRef, useState } from 'preact/hooks';
import type { Sd35Input } from '../../src/domain/schema.js';
import { Shell } from '../shared/shell.js';
import { SignIn, SignedInBar, type SignedIn } from './credential.js';
import { buildInput, initialValues, type FormValues } from './fields.js';
import { InputForm } from './form.js';
import { GatewayHttpError, issueField } from './gateway-api.js';
import { ErrorBox, Progress, Result, SnippetTabs } from './output.js';
import { cancel, generate, JobFailed, type Outcome, type StatusUpdate, type Submitted } from './run.js';
import { snippets } from './snippets.js';

interface Run {
  input: Sd35Input;
  submitted: Submitted | null;
  status: StatusUpdate | null;
  outcome: Outcome | null;
  error: Error | null;
  running: boolean;
}

export function App() {
  const [who, setWho] = useState<SignedIn | null>(null);
  const [values, setValues] = useState<FormValues>(initialValues);
  const [run, setRun] = useState<Run | null>(null);
  const abort = useRef<AbortController | null>(null);

  const update = (patch: Partial<Run>) => setRun((r) => (r ? { ...r, ...patch } : r));

  const signOut = () => {
    abort.current?.abort();
    setWho(null);
    setRun(null);
  };

  const start = async () => {
    if (!who) return;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    const input = buildInput(values);
    setRun({ input, submitted: null, status: null, outcome: null, error: null, running: true });
    try {
      const outcome = await generate(who.credential, input, { onSubmitted: (submitted) => update({ submitted }), onStatus: (status) => update({ status }) }, controller.signal);
      if (!controller.signal.aborted) update({ outcome, running: false });
    } catch (err) {
      if (controller.signal.aborted) return;
      update({ error: err instanceof Error ? err : new Error(String(err)), running: false });
    }
  };

  const fieldErrors: Record<string, string> = {};
  const failure = run?.error instanceof JobFailed ? run.error.failure : run?.error;
  if (failure instanceof GatewayHttpError) {
    for (const issue of failure.issues) {
      const name = issueField(issue);
      if (name !== null) fieldErrors[name] = issue.msg;
    }
  }
  const queued = run?.running === true && run.submitted !== null && run.status?.status === 'IN_QUEUE';
  const requestId = run?.submitted?.requestId;

  return (
    <Shell title="Playground">
      <div class="playground">
        <div class="column">
          {who ? <SignedInBar who={who} onSignOut={signOut} /> : <SignIn onSignedIn={setWho} />}
          <InputForm
            values={values}
            onChange={(name, value) => setValues((v) => ({ ...v, [name]: value }))}
            onSubmit={() => void start()}
            disabled={run?.running === true}
            canSubmit={who !== null}
            fieldErrors={fieldErrors}
          />
        </div>
        <div class="column">
          {!run && <p class="placeholder">{who ? 'Fill in a prompt and press Generate.' : 'Sign in with a gateway key or a browser token to generate.'}</p>}
          {run && (run.submitted || run.running) && (
            <Progress
              submitted={run.submitted}
              status={run.status}
              onCancel={queued && who && requestId ? () => void cancel(who.credential, requestId).catch((err: unknown) => update({ error: err instanceof Error ? err : new Error(String(err)) })) : null}
            />
          )}
          {run?.error && <ErrorBox error={run.error} />}
          {run?.outcome && <Result outcome={run.outcome} submitted={run.submitted} />}
          {run && <SnippetTabs snippets={snippets(location.origin, run.input)} />}
        </div>
      </div>
    </Shell>
  );
}
