/**
 * Create or edit a key: name, team, kind (on create), budgets, rpm, concurrency, browser origins and
 * the request policy (the sizes a key may ask for are left to the API and CLI).
 * An edit sends only the fields that changed (PATCH); an emptied limit is sent as null (no limit).
 */
import { useState } from 'preact/hooks';
import { api } from './api.js';
import type { CreateKeyInput, KeyReport, UpdateKeyInput } from './types.js';
import { ErrorNote, Modal } from './ui.js';

type Field = 'name' | 'team' | 'budget_usd' | 'budget_daily_usd' | 'budget_monthly_usd' | 'rpm' | 'max_concurrency' | 'allowed_origins' | PolicyField;
type PolicyField = 'max_megapixels_per_image' | 'max_num_images' | 'max_prompt_length' | 'require_safety_checker';
type Values = Record<Field, string>;

const USD = /^\d{1,9}(\.\d{1,6})?$/;
const INT = /^\d{1,7}$/;

function initial(k: KeyReport | null): Values {
  const s = (v: number | string | null | undefined) => (v === null || v === undefined ? '' : String(v));
  return {
    name: k?.name ?? '',
    team: s(k?.team),
    budget_usd: s(k?.budget_usd),
    budget_daily_usd: s(k?.budget_daily_usd),
    budget_monthly_usd: s(k?.budget_monthly_usd),
    rpm: s(k?.rpm),
    max_concurrency: s(k?.max_concurrency),
    allowed_origins: (k?.allowed_origins ?? []).join('\n'),
    max_megapixels_per_image: s(k?.policy?.max_megapixels_per_image),
    max_num_images: s(k?.policy?.max_num_images),
    max_prompt_length: s(k?.policy?.max_prompt_length),
    require_safety_checker: k?.policy?.require_safety_checker ? 'true' : '',
  };
}

/** The body for the API, or the first problem with what was typed. */
/** `sizes`: the key's allowed_image_sizes, which this form does not edit and so keeps. */
function body(v: Values, sizes?: NonNullable<CreateKeyInput['policy']>['allowed_image_sizes']): { ok: true; value: CreateKeyInput } | { ok: false; problem: string } {
  if (v.name.trim() === '') return { ok: false, problem: 'A name is needed.' };
  const out: CreateKeyInput = { name: v.name.trim() };
  const team = v.team.trim();
  out.team = team === '' ? null : team;
  for (const f of ['budget_usd', 'budget_daily_usd', 'budget_monthly_usd'] as const) {
    const t = v[f].trim();
    if (t !== '' && !USD.test(t)) return { ok: false, problem: `${f}: a USD amount such as 5 or 0.25 (at most 6 decimals).` };
    out[f] = t === '' ? null : Number(t);
  }
  for (const f of ['rpm', 'max_concurrency'] as const) {
    const t = v[f].trim();
    if (t !== '' && (!INT.test(t) || Number(t) < 1)) return { ok: false, problem: `${f}: a whole number of at least 1.` };
    out[f] = t === '' ? null : Number(t);
  }
  const policy: NonNullable<CreateKeyInput['policy']> = sizes === undefined ? {} : { allowed_image_sizes: sizes };
  const mp = v.max_megapixels_per_image.trim();
  if (mp !== '' && !(/^\d{1,3}(\.\d{1,6})?$/.test(mp) && Number(mp) > 0 && Number(mp) <= 200)) return { ok: false, problem: 'Max megapixels per image: a number above 0, at most 200.' };
  if (mp !== '') policy.max_megapixels_per_image = Number(mp);
  const n = v.max_num_images.trim();
  if (n !== '' && !/^[1-4]$/.test(n)) return { ok: false, problem: 'Max images per request: 1 to 4.' };
  if (n !== '') policy.max_num_images = Number(n);
  const len = v.max_prompt_length.trim();
  if (len !== '' && !(INT.test(len) && Number(len) >= 1 && Number(len) <= 100_000)) return { ok: false, problem: 'Max prompt length: 1 to 100000 characters.' };
  if (len !== '') policy.max_prompt_length = Number(len);
  if (v.require_safety_checker === 'true') policy.require_safety_checker = true;
  out.policy = Object.keys(policy).length === 0 ? null : policy;
  out.allowed_origins = v.allowed_origins
    .split(/[\s,]+/)
    .map((o) => o.trim())
    .filter((o) => o !== '');
  return { ok: true, value: out };
}

function changed(before: CreateKeyInput, after: CreateKeyInput): UpdateKeyInput {
  const patch: UpdateKeyInput = {};
  for (const [k, v] of Object.entries(after) as [keyof CreateKeyInput, unknown][]) {
    if (JSON.stringify(before[k] ?? null) !== JSON.stringify(v ?? null)) (patch as Record<string, unknown>)[k] = v;
  }
  return patch;
}

const LABELS: Record<Field, string> = {
  name: 'Name',
  team: 'Team',
  budget_usd: 'Lifetime budget (USD)',
  budget_daily_usd: 'Daily budget (USD, UTC day)',
  budget_monthly_usd: 'Monthly budget (USD, UTC month)',
  rpm: 'Requests per minute',
  max_concurrency: 'Max concurrent generations',
  allowed_origins: 'Allowed browser origins (one per line)',
  max_megapixels_per_image: 'Max megapixels per image',
  max_num_images: 'Max images per request (1–4)',
  max_prompt_length: 'Max prompt length (characters)',
  require_safety_checker: 'Require the safety checker',
};

export function KeyForm(props: { editing: KeyReport | null; onSaved: (secret: string | null) => void; onClose: () => void }) {
  const [values, setValues] = useState<Values>(() => initial(props.editing));
  const [kind, setKind] = useState<'secret' | 'publishable'>('secret');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const editing = props.editing;

  const submit = async (e: Event) => {
    e.preventDefault();
    const sizes = editing?.policy?.allowed_image_sizes;
    const b = body(values, sizes);
    if (!b.ok) return setError(new Error(b.problem));
    setBusy(true);
    setError(undefined);
    try {
      if (editing === null) {
        const created = await api<{ key: string }>('POST', '/admin/keys', { ...b.value, kind });
        props.onSaved(created.key);
      } else {
        const before = body(initial(editing), sizes);
        const patch = before.ok ? changed(before.value, b.value) : b.value;
        if (Object.keys(patch).length > 0) await api('PATCH', `/admin/keys/${encodeURIComponent(editing.id)}`, patch);
        props.onSaved(null);
      }
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
    }
  };

  const input = (f: Field, extra: Record<string, string> = {}) => (
    <label key={f}>
      {LABELS[f]}
      {f === 'allowed_origins' ? (
        <textarea name={f} rows={3} value={values[f]} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} />
      ) : (
        <input name={f} value={values[f]} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} {...extra} />
      )}
    </label>
  );

  return (
    <Modal title={editing ? `Edit key ${editing.name}` : 'Create a key'} onClose={props.onClose}>
      <form class="form" onSubmit={(e) => void submit(e)}>
        {input('name', { required: 'required', autocomplete: 'off' })}
        {input('team', { autocomplete: 'off', placeholder: 'none' })}
        {editing === null ? (
          <label>
            Kind
            <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as 'secret' | 'publishable')}>
              <option value="secret">secret (server-side)</option>
              <option value="publishable">publishable (browser, needs origins)</option>
            </select>
          </label>
        ) : null}
        {input('budget_usd', { inputmode: 'decimal', placeholder: 'no limit' })}
        {input('budget_daily_usd', { inputmode: 'decimal', placeholder: 'no limit' })}
        {input('budget_monthly_usd', { inputmode: 'decimal', placeholder: 'no limit' })}
        {input('rpm', { inputmode: 'numeric', placeholder: 'gateway default' })}
        {input('max_concurrency', { inputmode: 'numeric', placeholder: 'no limit' })}
        {input('allowed_origins')}
        <fieldset>
          <legend>Policy (what one request may ask for; empty: no limit)</legend>
          {input('max_megapixels_per_image', { inputmode: 'decimal', placeholder: 'no limit' })}
          {input('max_num_images', { inputmode: 'numeric', placeholder: '4' })}
          {input('max_prompt_length', { inputmode: 'numeric', placeholder: 'no limit' })}
          <label class="check">
            <input type="checkbox" name="require_safety_checker" checked={values.require_safety_checker === 'true'} onChange={(e) => setValues({ ...values, require_safety_checker: e.currentTarget.checked ? 'true' : '' })} />
            {LABELS.require_safety_checker}
          </label>
        </fieldset>
        <ErrorNote error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {editing ? 'Save changes' : 'Create key'}
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
