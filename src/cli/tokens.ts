/** `fal-gateway tokens mint`: a browser token for a key, minted by the same code as POST /v1/tokens. */
import { MAX_TOKEN_TTL_S, tokenMacKey } from '../domain/tokens.js';
import { DEFAULT_TOKEN_TTL_S, liveKey, mintKeyToken, type TokenInput } from '../services/token-mint.js';
import { note, noPositionals, numberFlag, parseFlags, printJson, runSubcommand, UsageError, withStores, type CliCommand } from './command.js';

const USAGE = `Usage:
  fal-gateway tokens mint --key ID [--ttl-seconds N] [--max-usd N] [--max-images N] [--end-user U]
                          [--origin ORIGIN ...]

Mints a short-lived browser token for a secret key (the same token POST /v1/tokens gives its holder):
expiry --ttl-seconds (default ${DEFAULT_TOKEN_TTL_S}, at most ${MAX_TOKEN_TTL_S}), optional caps on spend and images, an end user
named in the ledger, and origins it may be used from. Prints the token once, on stdout.
Tokens are signed with TOKEN_SECRET, or FAL_KEY when it is unset: the CLI must see the same value
as the gateway (environment or .env), or the gateway refuses the token.`;

async function mint(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    key: { type: 'string' },
    'ttl-seconds': { type: 'string' },
    'max-usd': { type: 'string' },
    'max-images': { type: 'string' },
    'end-user': { type: 'string' },
    origin: { type: 'string', multiple: true },
  });
  noPositionals(positionals, 'tokens mint');
  const keyId = values.key;
  if (keyId === undefined) throw new UsageError('tokens mint needs --key ID');
  const input: TokenInput = {};
  const ttl = numberFlag('ttl-seconds', values['ttl-seconds'], true);
  if (ttl !== undefined) input.expires_in = ttl;
  const maxUsd = numberFlag('max-usd', values['max-usd'], false);
  if (maxUsd !== undefined) input.max_usd = maxUsd;
  const maxImages = numberFlag('max-images', values['max-images'], true);
  if (maxImages !== undefined) input.max_images = maxImages;
  if (values['end-user'] !== undefined) input.end_user = values['end-user'];
  if (values.origin) input.allowed_origins = values.origin;
  await withStores(async ({ config, stores, audit, now }) => {
    // The same derivation as the gateway (app.ts), so any instance verifies what this mints.
    const secret = config.tokenSecret ?? config.falKey;
    if (secret === undefined) throw new Error('tokens mint needs TOKEN_SECRET or FAL_KEY, set to the value the gateway uses (environment or .env)');
    const at = now();
    const key = await liveKey(stores.keys, keyId, at);
    printJson(await mintKeyToken(tokenMacKey(secret), key, input, at, audit));
    note('Hand the token to the page now: it is not shown again. It works until expires_at, or until the key is revoked.');
  });
}

export const tokensCommand: CliCommand = {
  summary: 'mint a short-lived browser token for a key',
  usage: USAGE,
  run: (args) => runSubcommand('tokens', { mint }, args),
};
