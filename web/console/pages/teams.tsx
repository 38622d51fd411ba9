/** Teams: budgets and spend per period (UTC day and month, lifetime); an admin sets the budgets. */
import { useState } from 'preact/hooks';
import { formatUsd } from '../../shared/money.js';
import { api } from '../api.js';
import type { PageProps } from '../app.js';
import { formatCount } from '../format.js';
import { PERIODS, type TeamInput, type TeamReport } from '../types.js';
import { ErrorNote, Loading, Modal, TableBox, useLoad } from '../ui.js';

const USD = /^\d{1,9}(\.\d{1,6})?$/;
const FIELDS = [
  ['budget_usd', 'Lifetime budget (USD)'],
  ['budget_daily_usd', 'Daily budget (USD, UTC day)'],
  ['budget_monthly_usd', 'Monthly budget (USD, UTC month)'],
] as const;

function TeamForm(props: { team: TeamReport; onSaved: () => void; onClose: () => void }) {
  const s = (v: number | null) => (v === null ? '' : String(v));
  const [values, setValues] = useState({ budget_usd: s(props.team.budget_usd), budget_daily_usd: s(props.team.budget_daily_usd), budget_monthly_usd: s(props.team.budget_monthly_usd) });
  const [error, setError] = useState<Error>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: TeamInput = {};
    for (const [f] of FIELDS) {
      const t = values[f].trim();
      if (t !== '' && !USD.test(t)) return setError(new Error(`${f}: a USD amount such as 50 or 0.25 (at most 6 decimals).`));
      body[f] = t === '' ? null : Number(t);
    }
    try {
      await api('PUT', `/admin/teams/${encodeURIComponent(props.team.name)}`, body);
      props.onSaved();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <Modal title={`Budgets of team ${props.team.name}`} onClose={props.onClose}>
      <form class="form" onSubmit={(e) => void submit(e)}>
        {FIELDS.map(([f, label]) => (
          <label key={f}>
            {label}
            <input name={f} inputMode="decimal" placeholder="no limit" value={values[f]} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} />
          </label>
        ))}
        <ErrorNote error={error} />
        <div class="actions">
          <button type="submit" class="primary">
            Save budgets
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function TeamsPage(props: PageProps) {
  const teams = useLoad(() => api<{ teams: TeamReport[] }>('GET', '/admin/teams'), []);
  const [editing, setEditing] = useState<TeamReport | null>(null);
  const cell = (t: TeamReport, p: (typeof PERIODS)[number]) => {
    const u = t.usage[p];
    const budget = p === 'lifetime' ? t.budget_usd : p === 'day' ? t.budget_daily_usd : t.budget_monthly_usd;
    return (
      <td class="num" key={p}>
        {formatUsd(u.spent_usd)}
        <div class="muted small">{budget === null ? 'no budget' : `of ${formatUsd(budget)} · ${formatUsd(u.remaining_usd)} left`}</div>
      </td>
    );
  };
  return (
    <div>
      <div class="toolbar">
        <button type="button" onClick={teams.reload}>
          Refresh
        </button>
        <Loading loaded={teams} />
      </div>
      <ErrorNote error={teams.error} />
      {teams.data ? (
        <TableBox label="Teams">
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col" class="num">
                Keys
              </th>
              <th scope="col" class="num">
                Lifetime
              </th>
              <th scope="col" class="num">
                Today (UTC)
              </th>
              <th scope="col" class="num">
                This month (UTC)
              </th>
              {props.canEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody data-testid="teams">
            {teams.data.teams.length === 0 ? (
              <tr>
                <td colSpan={6}>No teams yet: a team exists once a key names it or it is given a budget.</td>
              </tr>
            ) : null}
            {teams.data.teams.map((t) => (
              <tr key={t.name} data-team={t.name}>
                <th scope="row">{t.name}</th>
                <td class="num">{`${formatCount(t.active_keys)} / ${formatCount(t.keys)}`}</td>
                {PERIODS.map((p) => cell(t, p))}
                {props.canEdit ? (
                  <td>
                    <button type="button" onClick={() => setEditing(t)} aria-label={`Edit budgets of ${t.name}`}>
                      Edit budgets
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </TableBox>
      ) : null}
      {editing ? (
        <TeamForm
          team={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            teams.reload();
          }}
        />
      ) : null}
    </div>
  );
}
