import { DEMO_ACCOUNTS } from './demo-accounts.ts';

/** How an operator gets into the console outside demo mode; the console and the log say the same. */
export const ADMIN_KEY_HOWTO =
  'create an admin key with `npx tokenmeter keys create --name ops --scope admin` (or set ' +
  'TOKENMETER_ADMIN_KEY) and paste it into the console';

/** The lines `serve` prints once listening: where each page is, and how to get into the console. */
export function startupLines(url: string, demo: boolean): string[] {
  return [
    ...(demo ? [`Copilot demo:  ${url}/  (pick an account: ${DEMO_ACCOUNTS.map((a) => a.id).join(', ')})`] : []),
    demo
      ? `Billing:       ${url}/billing`
      : `Billing:       ${url}/billing  (users arrive through /session/start links your app creates)`,
    demo
      ? `Admin console: ${url}/admin  ("Sign in as the demo operator": no key needed in demo mode)`
      : `Admin console: ${url}/admin  (${ADMIN_KEY_HOWTO})`,
    `API docs:      ${url}/docs  (OpenAPI: ${url}/openapi.json)`,
    `Metrics:       ${url}/metrics`,
  ];
}
