/** The input form, one control per schema field (fields.ts), each with its default, range and help. */
import type { JSX } from 'preact';
import { DIMENSION, FIELDS, PRESETS, type FieldInfo, type FormValues } from './fields.js';

interface Props {
  values: FormValues;
  onChange: (name: keyof FormValues, value: string) => void;
  onSubmit: () => void;
  disabled: boolean;
  /** 422 messages by field name, shown under their control. */
  fieldErrors: Partial<Record<string, string>>;
  canSubmit: boolean;
}

const textOf = (e: JSX.TargetedEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => e.currentTarget.value;

function rangeText(f: FieldInfo): string {
  const parts: string[] = [];
  if (f.minimum !== undefined && f.maximum !== undefined) parts.push(`${f.minimum}–${f.maximum}`);
  else if (f.maximum !== undefined) parts.push(`up to ${f.maximum}`);
  if (f.defaultValue !== undefined && f.defaultValue !== '') parts.push(`default ${String(f.defaultValue)}`);
  else if (!f.required && f.widget === 'number') parts.push('empty: random');
  return parts.join(' · ');
}

function Control(props: { f: FieldInfo; values: FormValues; onChange: Props['onChange']; disabled: boolean; describedBy: string }) {
  const { f, values, onChange, disabled, describedBy } = props;
  const id = `f-${f.name}`;
  const value = values[f.name];
  const common = { id, name: f.name, disabled, 'aria-describedby': describedBy };
  switch (f.widget) {
    case 'longtext':
      return <textarea {...common} rows={f.required ? 3 : 2} required={f.required} value={value} onInput={(e) => onChange(f.name, textOf(e))} />;
    case 'text':
      return <input {...common} type="text" value={value} onInput={(e) => onChange(f.name, textOf(e))} />;
    case 'number':
      return (
        <input
          {...common}
          type="number"
          inputMode={f.integer ? 'numeric' : 'decimal'}
          min={f.minimum}
          max={f.maximum}
          step={f.integer ? 1 : 0.1}
          placeholder={f.defaultValue === undefined ? 'random' : String(f.defaultValue)}
          value={value}
          onInput={(e) => onChange(f.name, textOf(e))}
        />
      );
    case 'checkbox':
    case 'off':
      return (
        <input
          {...common}
          type="checkbox"
          checked={value === 'true'}
          disabled={disabled || f.widget === 'off'}
          onChange={(e) => onChange(f.name, String(e.currentTarget.checked))}
        />
      );
    case 'select':
      return (
        <select {...common} value={value} onChange={(e) => onChange(f.name, textOf(e))}>
          {f.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
    case 'image_size':
      return (
        <div class="size">
          <select {...common} value={value} onChange={(e) => onChange(f.name, textOf(e))}>
            {PRESETS.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name} ({p.width}×{p.height})
              </option>
            ))}
            <option value="custom">custom width × height</option>
          </select>
          {value === 'custom' && (
            <span class="size-custom">
              {(['width', 'height'] as const).map((d) => (
                <label key={d}>
                  {d === 'width' ? 'Width' : 'Height'}
                  <input
                    id={`f-${d}`}
                    type="number"
                    inputMode="numeric"
                    min={DIMENSION.minimum}
                    max={DIMENSION.maximum}
                    step={1}
                    disabled={disabled}
                    value={values[d]}
                    onInput={(e) => onChange(d, textOf(e))}
                  />
                </label>
              ))}
              <small>
                {DIMENSION.minimum}–{DIMENSION.maximum} px each, default {DIMENSION.defaultValue}
              </small>
            </span>
          )}
        </div>
      );
  }
}

export function InputForm(props: Props) {
  const submit = (e: Event) => {
    e.preventDefault();
    props.onSubmit();
  };
  return (
    // noValidate: the gateway validates against the same schema and answers 422 in fal's shape,
    // which the form shows next to the field; the browser's own bubbles would hide that answer.
    <form class="input-form" noValidate onSubmit={submit} aria-label="Model input">
      {FIELDS.map((f) => {
        const helpId = `h-${f.name}`;
        const err = props.fieldErrors[f.name];
        const range = rangeText(f);
        const inline = f.widget === 'checkbox' || f.widget === 'off';
        return (
          <div key={f.name} class={`field${inline ? ' inline' : ''}${err ? ' invalid' : ''}`}>
            <label for={`f-${f.name}`}>
              {f.title}
              {f.required && <span aria-hidden="true"> *</span>} <code>{f.name}</code>
            </label>
            <Control f={f} values={props.values} onChange={props.onChange} disabled={props.disabled} describedBy={helpId} />
            <p id={helpId} class="help">
              {f.help}
              {range && <span class="range"> ({range})</span>}
              {f.widget === 'off' && <strong> Always off here: the playground shows images from fal's URLs.</strong>}
            </p>
            {err && (
              <p class="field-error" role="alert">
                {err}
              </p>
            )}
          </div>
        );
      })}
      <button type="submit" class="primary" disabled={props.disabled || !props.canSubmit}>
        Generate
      </button>
    </form>
  );
}
