/**
 * `lifeboat admin grant|revoke --email E --project P`: gives (or takes back) the `admin` custom
 * claim of a deployment's Firebase Auth user, which the `adminDashboard` function requires. The
 * user's ID tokens carry it once refreshed (within the hour, or signing in again).
 */
import { setAdminClaim } from '@lifeboat/engine/adapters';
import { usageError } from './cli-error';
import { requiredOption, type CommandHandler } from './command';
import { EXIT } from './spec';

export const adminCommand: CommandHandler = async (input, { data }) => {
  const action = input.positionals[0];
  if (action !== 'grant' && action !== 'revoke') usageError(`admin takes grant or revoke, got ${action ?? 'nothing'}`);
  const email = requiredOption(input, 'email', 'admin');
  if (!data.firebase) usageError('admin sets claims on a deployment\'s users: it needs --project');
  const { uid, claims } = await setAdminClaim(data.firebase.auth(), email, action === 'grant');
  const text =
    action === 'grant'
      ? `${email} (${uid}) is an admin of ${data.where}: their ID tokens carry the admin claim once refreshed (sign in again, or within the hour)\n`
      : `${email} (${uid}) is no longer an admin of ${data.where} (ID tokens already issued keep the claim until they expire, within the hour)\n`;
  return { exitCode: EXIT.ok, data: { email, uid, admin: action === 'grant', claims }, text };
};
