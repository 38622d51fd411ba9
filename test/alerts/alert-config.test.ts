/** ALERT_* variables: defaults, the thresholds list (sorted, deduplicated) and its refusals, and the unsigned-webhook warning. */
import { expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig } from '../../src/config.js';

const BASE = { FAL_KEY: 'fal_key_for_config_tests' };

it('defaults to 50, 80 and 100 %, JSON, no webhook', () => {
  const c = loadConfig(BASE).alerts;
  expect(c).toEqual({ webhookUrl: undefined, webhookSecret: undefined, format: 'json', thresholds: [50, 80, 100], backlogThreshold: 10 });
});

it('reads the thresholds sorted and once each, and refuses anything but whole percentages', () => {
  expect(loadConfig({ ...BASE, ALERT_THRESHOLDS: '90, 25,90' }).alerts.thresholds).toEqual([25, 90]);
  for (const bad of ['50,x', '0', '12.5', '-5', '50,,80']) expect(() => loadConfig({ ...BASE, ALERT_THRESHOLDS: bad })).toThrow(ConfigError);
});

it('warns when the webhook has no secret, and refuses a URL with credentials', () => {
  expect(configWarnings(loadConfig({ ...BASE, ALERT_WEBHOOK_URL: 'https://ops.example/hook' })).join()).toContain('ALERT_WEBHOOK_SECRET');
  expect(configWarnings(loadConfig({ ...BASE, ALERT_WEBHOOK_URL: 'https://ops.example/hook', ALERT_WEBHOOK_SECRET: 's3cret' })).join()).not.toContain('ALERT_WEBHOOK_SECRET');
  expect(() => loadConfig({ ...BASE, ALERT_WEBHOOK_URL: 'https://u:p@ops.example/hook' })).toThrow(ConfigError);
  expect(() => loadConfig({ ...BASE, ALERT_WEBHOOK_FORMAT: 'teams' })).toThrow(ConfigError);
});
