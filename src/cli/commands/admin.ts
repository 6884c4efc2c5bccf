// `sensflow admin reset-password`: a new generated admin password, printed
// once; only its hash is kept. Takes effect at the next start.
import { loadSettings } from '../../../settings';
import { resetAdminPassword } from '../../launcher/home';
import { UsageError } from '../usage';

export async function adminCommand(args: string[]): Promise<number | void> {
  if (args[0] !== 'reset-password' || args.length > 1) {
    throw new UsageError('usage: sensflow admin reset-password');
  }
  const settings = loadSettings();
  if (settings.security.adminPassword) {
    throw new UsageError('SENSFLOW_ADMIN_PASSWORD is set: that password is used, change it there');
  }
  const password = await resetAdminPassword(settings);
  console.log(
    `New admin password for "${settings.security.adminUser}" (shown only this once):\n  ${password}`,
  );
  console.log('Restart Sensflow for it to take effect.');
}
